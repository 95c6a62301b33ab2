// Keeps every "updated … ago" current and marks widgets stale once their value is older
// than their config's stale_after, measured on the server's clock.

import { formatAgo } from './format.js';

let offsetMs = 0;

/** Aligns to the server's clock (the page carries the time it was rendered). */
export function syncWithServer(serverNowMs) {
  if (Number.isFinite(serverNowMs) && serverNowMs > 0) offsetMs = serverNowMs - Date.now();
}

function now() {
  return Date.now() + offsetMs;
}

export function refreshTimes(root) {
  for (const time of root.querySelectorAll('time.ago[datetime]')) {
    const at = Date.parse(time.dateTime);
    if (Number.isNaN(at)) continue;
    const age = now() - at;
    time.textContent = formatAgo(age);
    const card = time.closest('.card');
    const limit = Number(card?.dataset.staleAfter);
    if (card && limit > 0) card.classList.toggle('is-stale', age > limit * 1000);
  }
}

export function startClock(root, intervalMs = 1000) {
  refreshTimes(root);
  setInterval(() => refreshTimes(root), intervalMs);
}
