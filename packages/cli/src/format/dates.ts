import { toRuns, type IsoDate } from '@smart-backfill/core';

/**
 * Dates as contiguous ranges (`2025-11-03…2025-11-07, 2025-11-12`), with a count
 * when there are many: long lists of days stay one readable line.
 */
export const formatDates = (dates: readonly IsoDate[], maxRanges = 6): string => {
  if (dates.length === 0) return 'none';
  const runs = toRuns(dates);
  const parts = runs
    .slice(0, maxRanges)
    .map((r) => (r.days === 1 ? r.start : r.days === 2 ? `${r.start}, ${r.end}` : `${r.start}…${r.end}`));
  const more = runs.length > maxRanges ? ` … (+${runs.length - maxRanges} more ranges)` : '';
  return `${parts.join(', ')}${more}${dates.length > 3 ? ` (${dates.length} dates)` : ''}`;
};
