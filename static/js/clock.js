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

/** Shows the server-aligned time on a clock widget's `.clock-time` (and its date line). */
export function refreshClock(time, cfg) {
  const zone = time.dataset.timezone || 'UTC';
  const twelve = cfg?.format === '12h';
  const at = new Date(now());
  let text;
  let day;
  try {
    text = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hour: twelve ? 'numeric' : '2-digit',
      minute: '2-digit',
      second: cfg?.seconds === true ? '2-digit' : undefined,
      hourCycle: twelve ? 'h12' : 'h23',
    }).format(at);
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short' })
        .formatToParts(at)
        .map((p) => [p.type, p.value]),
    );
    day = `${parts.weekday} ${parts.day} ${parts.month}`;
  } catch {
    return; // a zone this browser does not know keeps the server's rendering
  }
  if (time.textContent !== text) time.textContent = text;
  const card = time.closest('.card');
  const date = card?.querySelector('.clock-day');
  if (date && date.textContent !== day) date.textContent = day;
  const label = card?.querySelector('.clock-zone');
  if (label) label.textContent = zone;
}

function refreshClocks(root) {
  for (const time of root.querySelectorAll('.clock-time[data-timezone]')) {
    let cfg = {};
    try {
      cfg = JSON.parse(time.closest('.card')?.dataset.config || '{}');
    } catch {
      // defaults
    }
    refreshClock(time, cfg);
  }
}

export function startClock(root, intervalMs = 1000) {
  const tick = () => {
    refreshTimes(root);
    refreshClocks(root);
  };
  tick();
  // Aligned to the second, so a clock with seconds does not skip or repeat one.
  setTimeout(() => {
    tick();
    setInterval(tick, intervalMs);
  }, 1000 - (now() % 1000));
}
