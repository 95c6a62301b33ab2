// Applies one event (from the stream, or a board's JSON) to a server-rendered widget card.
// Only textContent and attributes are written: user text is never parsed as HTML.

import { refreshTimes } from './clock.js';
import { formatChange, formatNumber } from './format.js';
import * as charts from './chart.js';
import { refreshClock } from './clock.js';

const STATUS_LABELS = { ok: 'OK', warning: 'Warning', critical: 'Critical', unknown: 'Unknown' };
const ARROWS = { up: '▲', down: '▼', flat: '■' };
const configs = new WeakMap();

/** Shows `event` on `card` unless the card already shows it or a newer one. */
export function applyEvent(card, event) {
  if (!card || !event || event.id <= Number(card.dataset.eventId || 0)) return false;
  const render = RENDERERS[card.dataset.kind];
  if (!render) return false;
  render(card, event.value || {}, config(card), event);
  card.dataset.eventId = String(event.id);
  card.classList.remove('is-empty');
  const time = card.querySelector('time.ago');
  if (time) time.dateTime = event.created_at;
  // "just now" with the value itself, not at the clock's next tick.
  refreshTimes(card);
  highlight(card);
  return true;
}

function config(card) {
  if (!configs.has(card)) {
    let parsed = {};
    try {
      parsed = JSON.parse(card.dataset.config || '{}');
    } catch {
      // a config the page cannot read renders with defaults
    }
    configs.set(card, parsed);
  }
  return configs.get(card);
}

function number(value, fallback) {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function setText(card, selector, text) {
  const el = card.querySelector(selector);
  if (el) el.textContent = text;
}

/** Shows `text` in the element, which is hidden while there is none. */
function setOptionalText(card, selector, text) {
  const el = card.querySelector(selector);
  if (!el) return;
  el.textContent = typeof text === 'string' ? text : '';
  el.hidden = el.textContent === '';
}

const RENDERERS = {
  number(card, value, cfg) {
    const big = card.querySelector('.big');
    const current = number(value.value, 0);
    // A value that names what it is compared with (Smashing's `last`) is shown against that.
    const previous = number(value.last, big.dataset.value === '' ? NaN : Number(big.dataset.value));
    setText(card, '.big .value', formatNumber(current, cfg.decimals));
    big.dataset.value = String(current);
    extendSparkline(card.querySelector('.number-sparkline'), current, cfg.max_points);
    const change = card.querySelector('.change');
    if (!Number.isFinite(previous)) return;
    const delta = current - previous;
    const direction = delta > 0 ? 'up' : delta < 0 ? 'down' : 'flat';
    change.className = `change ${direction}`;
    change.hidden = false;
    setText(change, '.arrow', ARROWS[direction]);
    setText(change, '.change-text', formatChange(delta, previous, cfg.decimals));
  },

  gauge(card, value, cfg) {
    const current = number(value.value, 0);
    const min = number(cfg.min, 0);
    const max = number(cfg.max, 100);
    const share = max > min ? Math.min(Math.max((current - min) / (max - min), 0), 1) * 100 : 0;
    const fill = card.querySelector('.gauge-fill');
    fill.setAttribute('stroke-dasharray', `${share.toFixed(2)} 100`);
    const color = thresholdColor(cfg.thresholds, current);
    if (color) fill.setAttribute('stroke', color);
    else fill.removeAttribute('stroke');
    setText(card, '.gauge-value', formatNumber(current, cfg.decimals));
  },

  line(card, value, cfg, event) {
    const current = number(value.value, 0);
    setText(card, '.line-head .value', formatNumber(current, cfg.decimals));
    const at = Date.parse(typeof value.at === 'string' ? value.at : event.created_at);
    charts.append(card, at / 1000, current, cfg.max_points);
  },

  text(card, value) {
    setText(card, '.text-value', typeof value.text === 'string' ? value.text : '');
    setOptionalText(card, '.text-title', value.title);
    setOptionalText(card, '.more-info', value.moreinfo);
  },

  list(card, value) {
    const rows = (Array.isArray(value.items) ? value.items : []).map((item) => {
      const row = document.createElement('li');
      const label = document.createElement('span');
      label.className = 'list-label';
      label.textContent = String(item?.label ?? '');
      const amount = document.createElement('span');
      amount.className = 'list-value';
      amount.textContent = typeof item?.value === 'number' ? formatNumber(item.value) : String(item?.value ?? '');
      row.append(label, amount);
      return row;
    });
    card.querySelector('.list-rows').replaceChildren(...rows);
  },

  table(card, value, cfg) {
    const cell = (tag, raw) => {
      const el = document.createElement(tag);
      if (typeof raw === 'number') {
        el.className = 'num';
        el.textContent = formatNumber(raw, cfg.decimals);
      } else {
        el.textContent = typeof raw === 'string' ? raw : '';
      }
      return el;
    };
    const columns = Array.isArray(value.columns) ? value.columns : [];
    const head = card.querySelector('.table-value thead');
    head.hidden = columns.length === 0;
    const headRow = document.createElement('tr');
    const firstRow = Array.isArray(value.rows?.[0]) ? value.rows[0] : [];
    headRow.append(
      ...columns.map((c, i) => {
        const th = cell('th', typeof c === 'string' ? c : '');
        th.scope = 'col';
        // a column of numbers has its heading aligned right, as its numbers are
        if (typeof firstRow[i] === 'number') th.className = 'num';
        return th;
      }),
    );
    head.replaceChildren(headRow);
    const rows = (Array.isArray(value.rows) ? value.rows : []).map((cells) => {
      const row = document.createElement('tr');
      row.append(...(Array.isArray(cells) ? cells : []).map((c) => cell('td', c)));
      return row;
    });
    card.querySelector('.table-value tbody').replaceChildren(...rows);
  },

  bar(card, value, cfg) {
    const bars = (Array.isArray(value.bars) ? value.bars : []).map((bar) => ({
      label: String(bar?.label ?? ''),
      value: number(bar?.value, 0),
    }));
    const lowest = Math.min(0, ...bars.map((b) => b.value));
    const highest = Math.max(...bars.map((b) => b.value));
    const low = number(cfg.min, lowest);
    let high = number(cfg.max, highest);
    if (!(high > low)) high = low + 1;
    const horizontal = cfg.horizontal === true;
    const rows = bars.map((bar) => {
      const share = Math.min(Math.max((bar.value - low) / (high - low), 0), 1) * 100;
      const row = document.createElement('li');
      const amount = document.createElement('span');
      amount.className = 'bar-value';
      amount.textContent = formatNumber(bar.value, cfg.decimals);
      const track = document.createElementNS(SVG, 'svg');
      track.setAttribute('class', 'bar-track');
      track.setAttribute('viewBox', '0 0 100 100');
      track.setAttribute('preserveAspectRatio', 'none');
      track.setAttribute('aria-hidden', 'true');
      const rect = document.createElementNS(SVG, 'rect');
      const [x, y, w, h] = horizontal ? [0, 0, share, 100] : [0, 100 - share, 100, share];
      rect.setAttribute('x', x.toFixed(2));
      rect.setAttribute('y', y.toFixed(2));
      rect.setAttribute('width', w.toFixed(2));
      rect.setAttribute('height', h.toFixed(2));
      const color = thresholdColor(cfg.thresholds, bar.value);
      if (color) rect.setAttribute('fill', color);
      track.append(rect);
      const label = document.createElement('span');
      label.className = 'bar-label';
      label.textContent = bar.label;
      row.append(amount, track, label);
      return row;
    });
    card.querySelector('.bars').replaceChildren(...rows);
  },

  image(card, value) {
    const img = card.querySelector('.image-value');
    const url = typeof value.url === 'string' ? value.url : '';
    img.alt = typeof value.alt === 'string' ? value.alt : '';
    if (url) img.src = url;
    else img.removeAttribute('src');
    img.hidden = url === '';
  },

  clock(card, value, cfg) {
    const time = card.querySelector('.clock-time');
    time.dataset.timezone = typeof value.timezone === 'string' ? value.timezone : cfg.timezone || 'UTC';
    refreshClock(time, cfg);
  },

  status(card, value) {
    const status = Object.hasOwn(STATUS_LABELS, value.status) ? value.status : 'unknown';
    for (const name of Object.keys(STATUS_LABELS)) card.classList.toggle(`status-${name}`, name === status);
    setText(card, '.status-label', STATUS_LABELS[status]);
    setText(card, '.status-message', typeof value.message === 'string' ? value.message : '');
  },
};

const SVG = 'http://www.w3.org/2000/svg';

/** Adds `value` to a number's sparkline, keeping its last `maxPoints` values. */
function extendSparkline(svg, value, maxPoints) {
  if (!svg) return;
  let values = [];
  try {
    values = JSON.parse(svg.dataset.values || '[]');
  } catch {
    // an unreadable list starts again
  }
  values.push(value);
  values = values.slice(-Math.max(2, number(maxPoints, 100)));
  svg.dataset.values = JSON.stringify(values);
  const low = Math.min(...values);
  const span = Math.max(Math.max(...values) - low, Number.EPSILON);
  const step = 300 / Math.max(values.length - 1, Number.EPSILON);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(95 - ((v - low) / span) * 90).toFixed(1)}`);
  svg.querySelector('polyline').setAttribute('points', points.join(' '));
}

/** The colour of the highest threshold at or below `value`, if any. */
function thresholdColor(thresholds, value) {
  if (!Array.isArray(thresholds)) return null;
  let reached = null;
  for (const t of [...thresholds].sort((a, b) => a.value - b.value)) {
    if (typeof t?.value === 'number' && value >= t.value) reached = t.color;
  }
  return typeof reached === 'string' ? reached : null;
}

function highlight(card) {
  card.classList.remove('updated');
  void card.offsetWidth; // restart the animation
  card.classList.add('updated');
}
