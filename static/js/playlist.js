// A playlist on a wall screen: every board the visitor may see is rendered into the page and
// kept live over one stream; one is shown at a time, the next every interval. Showing a board
// is one class moved from one rendered board to another in a single task, so no frame is ever
// without a board. ← and → step, space pauses.

import { startClock, syncWithServer } from './clock.js';
import { LiveBoard } from './live_board.js';
import { Stream } from './stream.js';

const playlist = document.getElementById('playlist');
const intervalMs = Number(playlist.dataset.intervalMs) || 5000;
const caption = document.getElementById('playlist-caption');
const pausedBadge = document.getElementById('playlist-paused');

syncWithServer(Number(playlist.dataset.serverNow));
startClock(document);

/** slug → { section, board }, in the playlist's order; a board that goes away leaves it. */
const shown = new Map();
for (const section of playlist.querySelectorAll('.playlist-board')) {
  const slug = section.dataset.board;
  const board = new LiveBoard(section, `/boards/${encodeURIComponent(slug)}?kiosk=1`, {
    gone: () => drop(slug),
    // Its slug no longer matches the stream's filter: a fresh page has the new one.
    renamed: () => window.location.reload(),
  });
  shown.set(slug, { section, board });
}

let current = playlist.querySelector('.playlist-board.is-current')?.dataset.board;
let paused = false;
let timer = null;

function order() {
  return [...shown.keys()];
}

/** Shows the board `step` places from the current one (wrapping around). */
function step(by) {
  const slugs = order();
  if (slugs.length === 0) return;
  const at = Math.max(slugs.indexOf(current), 0);
  show(slugs[(at + by + slugs.length) % slugs.length]);
}

function show(slug) {
  const next = shown.get(slug).section;
  const previous = shown.get(current)?.section;
  // The next board goes on screen before the previous one leaves it, in the same task.
  next.classList.add('is-current');
  next.inert = false;
  if (previous && previous !== next) {
    previous.classList.remove('is-current');
    previous.inert = true;
  }
  current = slug;
  playlist.dataset.current = slug;
  label();
  schedule();
}

function label() {
  const slugs = order();
  const title = shown.get(current)?.section.getAttribute('aria-label') ?? '';
  caption.textContent = `${playlist.dataset.title} · ${title} · ${slugs.indexOf(current) + 1}/${slugs.length}`;
}

function schedule() {
  clearTimeout(timer);
  if (!paused && shown.size > 1) timer = setTimeout(() => step(1), intervalMs);
}

function pause(on) {
  paused = on;
  pausedBadge.hidden = !on;
  playlist.dataset.paused = String(on);
  schedule();
}

/** A board deleted or hidden from the visitor: skipped from now on (the last one stays). */
function drop(slug) {
  if (shown.size === 1) return;
  const leaving = shown.get(slug);
  if (slug === current) step(1);
  shown.delete(slug);
  leaving.section.remove();
  label();
}

document.addEventListener('keydown', (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === 'ArrowRight') step(1);
  else if (event.key === 'ArrowLeft') step(-1);
  else if (event.key === ' ') pause(!paused);
  else return;
  event.preventDefault();
});

const stream = new Stream(
  document.getElementById('stream-state'),
  order().join(','),
  Number(playlist.dataset.lastEventId) || 0,
  {
    widget: (event) => shown.get(event.board)?.board.onWidget(event),
    board: (change) => shown.get(change.board)?.board.onChange(change),
    reset: () => shown.forEach(({ board }) => board.refresh(true)),
  },
);
stream.start();
playlist.dataset.current = current;
label();
schedule();
