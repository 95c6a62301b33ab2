// The live board: charts on the server-rendered cards, the stream from the snapshot's
// last_event_id, and a refresh from the board's JSON on `board` and `reset` events (a whole
// reload on a `board` event of action `reload`, which Smashing scripts send).

import { mountAll, unmountAll } from './chart.js';
import { startClock, syncWithServer } from './clock.js';
import { Stream } from './stream.js';
import { applyEvent } from './widgets.js';

let grid = document.getElementById('board');
const slug = grid.dataset.board;

syncWithServer(Number(grid.dataset.serverNow));
mountAll(grid);
startClock(document);

/** Events that arrive while the grid is being re-read wait here, then apply in order. */
let refreshing = false;
let refreshAgain = null;
const waiting = [];

function card(key) {
  return [...grid.querySelectorAll('.card')].find((c) => c.dataset.key === key);
}

function onWidget(event) {
  if (event.board !== slug) return;
  if (refreshing) waiting.push(event);
  else applyEvent(card(event.widget), event);
}

/**
 * Re-reads the board's JSON. Values alone changed: they are applied in place. The board's
 * layout changed (or events were missed, `force`): the grid is re-rendered from the server's
 * HTML, so the markup has one source.
 */
async function refresh(force) {
  if (refreshing) {
    refreshAgain = refreshAgain || force;
    return;
  }
  refreshing = true;
  try {
    const response = await fetch(`/dashboard/boards/${encodeURIComponent(slug)}`, {
      headers: { Accept: 'application/json' },
      cache: 'no-store',
    });
    if (response.status === 404) return gone();
    if (!response.ok) throw new Error(`board JSON: HTTP ${response.status}`);
    const snapshot = await response.json();
    if (force || layoutChanged(snapshot)) await rerender();
    else for (const widget of snapshot.widgets) if (widget.latest) applyEvent(card(widget.key), widget.latest);
  } catch (error) {
    console.warn('could not refresh the board', error);
  } finally {
    refreshing = false;
    for (const event of waiting.splice(0)) onWidget(event);
    if (refreshAgain !== null) {
      const again = refreshAgain;
      refreshAgain = null;
      refresh(again);
    }
  }
}

function layoutChanged(snapshot) {
  const head = document.getElementById('board-head');
  const description = head.querySelector('.board-desc')?.textContent ?? '';
  if (head.querySelector('h1').textContent !== snapshot.title || description !== snapshot.description) return true;
  if (grid.dataset.columns !== String(snapshot.columns)) return true;
  const cards = [...grid.querySelectorAll('.card')];
  if (cards.length !== snapshot.widgets.length) return true;
  return snapshot.widgets.some((w, i) => {
    const c = cards[i];
    return c.dataset.key !== w.key || c.dataset.kind !== w.kind
      || c.querySelector('.card-title').textContent !== w.title
      || c.dataset.config !== JSON.stringify(w.config);
  });
}

async function rerender() {
  const response = await fetch(window.location.href, { headers: { Accept: 'text/html' }, cache: 'no-store' });
  if (response.status === 404) return gone();
  if (!response.ok) throw new Error(`board page: HTTP ${response.status}`);
  const page = new DOMParser().parseFromString(await response.text(), 'text/html');
  const freshGrid = page.getElementById('board');
  const freshHead = page.getElementById('board-head');
  if (!freshGrid || !freshHead) throw new Error('board page without a grid');
  unmountAll(grid);
  grid.replaceWith(freshGrid);
  grid = freshGrid;
  document.getElementById('board-head').replaceWith(freshHead);
  document.title = page.title;
  mountAll(grid);
}

function gone() {
  stop('This board has been deleted. The values below are the last ones it had.');
}

/** The board's slug changed: this page's address (and its stream's filter) no longer name it. */
function renamed() {
  const boards = document.createElement('a');
  boards.href = '/';
  boards.textContent = 'Find it among the boards';
  stop('This board has been renamed, so this page no longer updates. ', boards);
}

function stop(...message) {
  stream.close();
  stream.setState('offline');
  const notice = document.getElementById('board-notice');
  notice.replaceChildren(...message);
  notice.hidden = false;
}

function onBoardChange(change) {
  if (change.action === 'reload') window.location.reload();
  else if (change.action === 'renamed') renamed();
  else refresh(false);
}

const stream = new Stream(document.getElementById('stream-state'), slug, Number(grid.dataset.lastEventId) || 0, {
  widget: onWidget,
  board: onBoardChange,
  reset: () => refresh(true),
});
stream.start();
