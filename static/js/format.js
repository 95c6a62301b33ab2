// How values read on a wall screen. The server renders with the same rules
// (src/http/pages/format.rs), so a value looks the same before and after a live update.

const DEFAULT_MAX_DECIMALS = 2;

/** 1234.5 → "1,234.5"; with `decimals` (a whole number), exactly that many. */
export function formatNumber(value, decimals) {
  const fixed = Number.isInteger(decimals) && decimals >= 0;
  return value.toLocaleString('en-US', fixed
    ? { minimumFractionDigits: decimals, maximumFractionDigits: decimals }
    : { maximumFractionDigits: DEFAULT_MAX_DECIMALS });
}

/** "+10.0%" style change of `delta` against `previous`, or "" when there is no base. */
export function formatChange(delta, previous, decimals) {
  const amount = formatNumber(Math.abs(delta), decimals);
  if (previous === 0) return amount;
  const percent = (delta / Math.abs(previous)) * 100;
  return `${amount} (${percent >= 0 ? '+' : ''}${percent.toFixed(1)}%)`;
}

/** How long ago, as a person says it: "just now", "42 s ago", "3 min ago", "5 h ago", "2 d ago". */
export function formatAgo(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}
