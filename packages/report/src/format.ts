/** Small, locale-free formatting shared by the text, table and HTML renderers. */

/** `42s`, `7m`, `1h 05m`, `2d 3h`; `–` for `null`. */
export const formatDuration = (ms: number | null): string => {
  if (ms === null || !Number.isFinite(ms)) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
};

/** `2025-11-16 06:05 UTC`; `–` for `null`. */
export const formatTimestamp = (ms: number | null): string =>
  ms === null ? '–' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** `87.5%`; `–` for `null`. */
export const formatPercent = (ratio: number | null, digits = 1): string =>
  ratio === null ? '–' : `${(Math.round(ratio * 100 * 10 ** digits) / 10 ** digits).toFixed(digits)}%`;

/** Up to two decimals, no trailing zeros. */
export const formatNumber = (n: number): string => (Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100));
