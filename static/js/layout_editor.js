// The layout editor on a board's management page: the board's widgets as tiles on the board's
// own grid (same columns, same `w-N` / `h-N` span classes). Drag a tile onto another to put it in
// that place in the order, drag its corner to resize it; with the keyboard, arrows move the
// focused tile and shift+arrows resize it. "Save layout" sends the whole layout in one request
// (the management route runs the API's `PUT /dashboard/boards/{board}/layout` checks), and the
// board's open pages rearrange. Pointer Events, so mouse, pen and touch work alike.

const editor = document.getElementById('layout-editor');
const grid = editor.querySelector('.layout-grid');
const form = document.getElementById('layout-form');
const status = document.getElementById('layout-status');
const saveButton = document.getElementById('layout-save');
const columns = Number(editor.dataset.columns);
const maxHeight = Number(editor.dataset.maxHeight);
/** Counts edits, so a save knows whether more came while it was on its way. */
let edits = 0;

/** What the arrows do: without shift they move the tile in the order, with shift they resize it. */
const MOVES = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 };
const RESIZES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

const tiles = () => [...grid.querySelectorAll('.layout-tile')];
const clamp = (n, low, high) => Math.min(high, Math.max(low, n));

/** The columns a tile spans here: its stored width, fitted to the board as the board page does. */
const shownWidth = (tile) => clamp(Number(tile.dataset.width), 1, columns);

function describe(tile) {
  const width = shownWidth(tile);
  const height = Number(tile.dataset.height);
  tile.querySelector('.layout-size').textContent = `${width} × ${height}`;
  const title = tile.querySelector('.layout-title').textContent;
  const place = tiles().indexOf(tile) + 1;
  tile.setAttribute('aria-label', `${title}: place ${place}, ${width} wide, ${height} high`);
}

function resize(tile, width, height) {
  const fitted = [clamp(width, 1, columns), clamp(height, 1, maxHeight)];
  if (fitted[0] === shownWidth(tile) && fitted[1] === Number(tile.dataset.height)) return;
  tile.classList.remove(`w-${shownWidth(tile)}`, `h-${tile.dataset.height}`);
  [tile.dataset.width, tile.dataset.height] = fitted.map(String);
  tile.classList.add(`w-${fitted[0]}`, `h-${fitted[1]}`);
  changed(tile);
}

/** Puts `tile` at `index` in the order (counted without the tile itself). */
function moveTo(tile, index) {
  const others = tiles().filter((t) => t !== tile);
  const target = clamp(index, 0, others.length);
  if (tiles().indexOf(tile) === target) return;
  grid.insertBefore(tile, others[target] ?? null);
  for (const t of tiles()) describe(t);
  changed(tile);
}

function changed(tile) {
  edits += 1;
  tile.classList.add('is-changed');
  describe(tile);
  setStatus('Unsaved changes', 'dirty');
  saveButton.disabled = false;
}

function setStatus(text, state) {
  status.textContent = text;
  editor.dataset.state = state;
}

// ---- keyboard ----

grid.addEventListener('keydown', (event) => {
  const tile = event.target.closest('.layout-tile');
  if (!tile || !(event.key in MOVES)) return;
  event.preventDefault();
  if (event.shiftKey) {
    const [dw, dh] = RESIZES[event.key];
    resize(tile, shownWidth(tile) + dw, Number(tile.dataset.height) + dh);
  } else {
    moveTo(tile, tiles().indexOf(tile) + MOVES[event.key]);
    tile.focus();
  }
});

// ---- pointer: drag a tile to move it, drag its corner to resize it ----

/** The drag under way: { tile, pointerId, resizing, x, y, width, height, target }. */
let drag = null;

grid.addEventListener('pointerdown', (event) => {
  const tile = event.target.closest('.layout-tile');
  if (!tile || event.button !== 0) return;
  event.preventDefault();
  tile.focus();
  tile.setPointerCapture(event.pointerId);
  const resizing = event.target.classList.contains('layout-resize');
  drag = { tile, pointerId: event.pointerId, resizing, x: event.clientX, y: event.clientY,
    width: shownWidth(tile), height: Number(tile.dataset.height), target: null };
  tile.classList.add(resizing ? 'is-resizing' : 'is-dragging');
});

grid.addEventListener('pointermove', (event) => {
  if (!drag || event.pointerId !== drag.pointerId) return;
  if (drag.resizing) {
    // One column (or row) more for each column's (row's) worth of distance: the size snaps.
    const [columnStep, rowStep] = gridSteps();
    resize(drag.tile, drag.width + Math.round((event.clientX - drag.x) / columnStep),
      drag.height + Math.round((event.clientY - drag.y) / rowStep));
  } else {
    markTarget(tileAt(event.clientX, event.clientY));
  }
});

grid.addEventListener('pointerup', (event) => {
  if (!drag || event.pointerId !== drag.pointerId) return;
  const { tile, resizing } = drag;
  const target = resizing ? null : tileAt(event.clientX, event.clientY);
  endDrag();
  // Dropped on another tile: it takes that tile's place, and the tiles between shift by one.
  if (target) moveTo(tile, tiles().indexOf(target));
});

// The browser took the pointer away (a touch turned into a scroll, say): the drag ends where it is.
grid.addEventListener('pointercancel', endDrag);
grid.addEventListener('lostpointercapture', endDrag);

function endDrag() {
  if (!drag) return;
  drag.tile.classList.remove('is-dragging', 'is-resizing');
  markTarget(null);
  drag = null;
}

/** The other tile under the pointer, if any (the dragged one is skipped). */
function tileAt(x, y) {
  return document.elementsFromPoint(x, y).map((e) => e.closest('.layout-tile')).find((t) => t && t !== drag.tile)
    ?? null;
}

function markTarget(target) {
  if (drag?.target === target) return;
  drag?.target?.classList.remove('is-drop-target');
  target?.classList.add('is-drop-target');
  if (drag) drag.target = target;
}

/** Pixels from one column (and one row) of the grid to the next. */
function gridSteps() {
  const style = getComputedStyle(grid);
  const gap = parseFloat(style.columnGap) || 0;
  const tracks = (template) => template.split(' ').map(parseFloat).filter((n) => n > 0);
  const column = tracks(style.gridTemplateColumns)[0] ?? grid.clientWidth / columns;
  const row = tracks(style.gridTemplateRows)[0] ?? parseFloat(style.gridAutoRows);
  return [column + gap, row + (parseFloat(style.rowGap) || 0)];
}

// ---- saving ----

function layout() {
  return {
    widgets: tiles().map((tile, position) => ({
      key: tile.dataset.key,
      position,
      width: Number(tile.dataset.width),
      height: Number(tile.dataset.height),
    })),
  };
}

async function save() {
  saveButton.disabled = true;
  setStatus('Saving…', 'saving');
  const body = new URLSearchParams(new FormData(form));
  body.set('layout', JSON.stringify(layout()));
  const sent = { tiles: tiles(), edits };
  try {
    const response = await fetch(form.action, { method: 'POST', body, headers: { Accept: 'application/json' } });
    const answer = response.headers.get('Content-Type')?.includes('json') ? await response.json() : null;
    if (response.ok && answer) return saved(answer, sent);
    markInvalid(answer?.error?.details, sent.tiles);
    setStatus(`Not saved: ${refusal(response, answer)}`, 'error');
  } catch {
    setStatus('Not saved: the server could not be reached. Try again.', 'error');
  }
  saveButton.disabled = false;
}

function saved(answer, sent) {
  for (const widget of answer.widgets) {
    const cell = document.querySelector(`[data-position-of="${CSS.escape(widget.key)}"]`);
    if (cell) cell.textContent = widget.position;
  }
  // Edits made while the save was on its way are not in it: they stay marked, and unsaved.
  if (edits !== sent.edits) {
    setStatus('Saved, but changed since: save again', 'dirty');
    saveButton.disabled = false;
    return;
  }
  for (const tile of tiles()) tile.classList.remove('is-changed', 'is-invalid');
  setStatus('Layout saved', 'saved');
}

/** Outlines the tiles the error names (`widgets[2].key`: the third tile of those `sent`). */
function markInvalid(details, sent) {
  for (const tile of tiles()) tile.classList.remove('is-invalid');
  for (const field of Object.keys(details ?? {})) {
    const index = field.match(/^widgets\[(\d+)\]/)?.[1];
    sent[Number(index)]?.classList.add('is-invalid');
  }
}

/** What the API's error says, with the fields it names; or why there is no such answer. */
function refusal(response, answer) {
  const error = answer?.error;
  if (!error) return `the server answered ${response.status}; reload the page (you may have been signed out)`;
  const details = Object.entries(error.details ?? {}).map(([field, problem]) => `${field}: ${problem}`);
  return details.length ? details.join('; ') : error.message;
}

saveButton.addEventListener('click', save);
window.addEventListener('beforeunload', (event) => {
  if (editor.dataset.state === 'dirty' || editor.dataset.state === 'error') event.preventDefault();
});

for (const tile of tiles()) {
  tile.tabIndex = 0;
  describe(tile);
}
editor.querySelector('.layout-actions').hidden = false;
setStatus('', 'clean');
