// Line widgets: a uPlot chart of the last max_points values, drawn over the server's
// sparkline and extended live. Colours come from the stylesheet, so themes apply.

import uPlot from '/static/vendor/uplot/uPlot.esm.js';
import { formatNumber } from './format.js';

const DEFAULT_MAX_POINTS = 100;
const charts = new WeakMap();

export function mountAll(root) {
  for (const card of root.querySelectorAll('.card.kind-line')) mount(card);
}

export function unmountAll(root) {
  for (const card of root.querySelectorAll('.card.kind-line')) {
    const chart = charts.get(card);
    if (!chart) continue;
    chart.observer.disconnect();
    chart.plot.destroy();
    charts.delete(card);
  }
}

/** Adds a point at `t` (unix seconds) in time order, keeping the newest max_points. */
export function append(card, t, value, maxPoints) {
  const chart = charts.get(card);
  if (!chart) return;
  const [times, values] = chart.data;
  let i = times.length;
  while (i > 0 && times[i - 1] > t) i -= 1;
  times.splice(i, 0, t);
  values.splice(i, 0, value);
  const limit = maxPoints > 0 ? maxPoints : DEFAULT_MAX_POINTS;
  if (times.length > limit) {
    times.splice(0, times.length - limit);
    values.splice(0, values.length - limit);
  }
  chart.plot.setData(chart.data);
  chart.box.dataset.pointCount = String(times.length);
}

function mount(card) {
  const box = card.querySelector('.chart');
  if (!box || charts.has(card)) return;
  let points = [];
  try {
    points = JSON.parse(box.dataset.points || '[]');
  } catch {
    return; // the sparkline stays
  }
  const data = [points.map((p) => p[0]), points.map((p) => p[1])];
  const target = document.createElement('div');
  target.className = 'chart-plot';
  box.append(target);
  const plot = new uPlot(options(card, box), data, target);
  box.classList.add('has-chart');
  box.dataset.pointCount = String(data[0].length);
  const observer = new ResizeObserver(() => plot.setSize(size(box)));
  observer.observe(box);
  charts.set(card, { plot, data, observer, box });
}

function size(box) {
  return { width: Math.max(box.clientWidth, 50), height: Math.max(box.clientHeight, 40) };
}

/** Computed colours of the card's own elements (the stylesheet's themed values). */
function palette(card, box) {
  const style = getComputedStyle(card);
  return {
    line: getComputedStyle(box).color,
    text: getComputedStyle(card.querySelector('.ago')).color,
    grid: style.borderTopColor,
    font: `${Math.round(parseFloat(style.fontSize) * 0.72)}px ${style.fontFamily}`,
  };
}

function options(card, box) {
  const colors = palette(card, box);
  const axis = {
    stroke: colors.text,
    font: colors.font,
    grid: { stroke: colors.grid, width: 1 },
    ticks: { show: false },
  };
  return {
    ...size(box),
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 7 } },
    padding: [8, null, 0, 0], // right: auto, so the last time label is not cut off
    axes: [
      { ...axis, space: 70, size: 28, values: (u, splits) => splits.map(timeLabel(splits)) },
      { ...axis, size: 48, space: 22, values: (u, splits) => splits.map((v) => formatNumber(v)) },
    ],
    series: [
      {},
      {
        stroke: colors.line,
        width: 2,
        fill: (u) => gradient(u, colors.line),
        points: { show: false },
      },
    ],
  };
}

/** Axis labels as fine as the ticks: "14:05:30", "14:05", or "26 Nov" for days. */
function timeLabel(splits) {
  const step = splits.length > 1 ? splits[1] - splits[0] : 60;
  let format = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (step < 60) format = { ...format, second: '2-digit' };
  if (step >= 86400) format = { day: 'numeric', month: 'short' };
  return (t) => new Date(t * 1000).toLocaleString('en-GB', format);
}

function gradient(u, color) {
  const { top, height } = u.bbox;
  const fill = u.ctx.createLinearGradient(0, top, 0, top + height);
  fill.addColorStop(0, withAlpha(color, 0.28));
  fill.addColorStop(1, withAlpha(color, 0));
  return fill;
}

/** "rgb(1, 2, 3)" → "rgba(1, 2, 3, a)". */
function withAlpha(rgb, alpha) {
  const parts = rgb.match(/[\d.]+/g) || ['0', '0', '0'];
  return `rgba(${parts[0]}, ${parts[1]}, ${parts[2]}, ${alpha})`;
}
