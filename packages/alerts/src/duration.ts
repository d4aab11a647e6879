const UNITS = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
] as const;

const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;

/**
 * A span of time as a person says it: the two largest non-zero units, rounded
 * down — `3 hours 12 minutes`, `2 days 4 hours`, `45 seconds`. Under a second
 * is `under a second`; negative or non-finite input is treated as 0.
 */
export const formatDuration = (ms: number): string => {
  let rest = Number.isFinite(ms) && ms > 0 ? Math.floor(ms) : 0;
  if (rest < 1_000) return 'under a second';
  const out: string[] = [];
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) out.push(plural(n, unit));
    else if (out.length > 0) break; // "2 days 0 hours 5 minutes" reads worse than "2 days"
    if (out.length === 2) break;
  }
  return out.join(' ');
};

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** An instant as `2025-11-20 06:00 UTC` (minutes are precise enough for a person). */
export const formatInstant = (epochMs: number): string => {
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return 'an unknown time';
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
};

/** An instant as an ISO-8601 timestamp, or `null` when it is not a valid time. */
export const isoInstant = (epochMs: number | null): string | null => {
  if (epochMs === null) return null;
  const d = new Date(epochMs);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
};
