import { toRuns, type IsoDate } from '@smart-backfill/core';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

export interface FormatDateRangesOptions {
  /**
   * Years are left out when every date falls in this date's year (pass the run
   * date: "Nov 3–7" in a November run needs no year). Without it, years are left
   * out only when all dates share one year.
   */
  readonly referenceDate?: IsoDate | undefined;
  /** `auto` (default): show years only when needed, as above. */
  readonly years?: 'auto' | 'always' | 'never' | undefined;
  /** Show at most this many ranges, then "and N more". Default: all. */
  readonly maxRanges?: number | undefined;
}

interface Parts {
  readonly y: number;
  readonly m: number;
  readonly d: number;
}

const parts = (date: IsoDate): Parts => ({ y: Number(date.slice(0, 4)), m: Number(date.slice(5, 7)), d: Number(date.slice(8, 10)) });

const monthDay = (p: Parts): string => `${MONTHS[p.m - 1] ?? '???'} ${p.d}`;
const full = (p: Parts): string => `${monthDay(p)}, ${p.y}`;

/**
 * One contiguous run of days, in the shortest form that stays unambiguous:
 * `Nov 12`, `Nov 3–7`, `Nov 28 – Dec 2`, `Dec 30, 2025 – Jan 2, 2026`.
 */
const formatRun = (start: IsoDate, end: IsoDate, withYear: boolean): string => {
  const s = parts(start);
  const e = parts(end);
  if (start === end) return withYear ? full(s) : monthDay(s);
  if (s.y === e.y && s.m === e.m) return withYear ? `${monthDay(s)}–${e.d}, ${s.y}` : `${monthDay(s)}–${e.d}`;
  if (s.y === e.y) return withYear ? `${monthDay(s)} – ${monthDay(e)}, ${s.y}` : `${monthDay(s)} – ${monthDay(e)}`;
  // A run that crosses New Year always names both years, whatever `years` says: "Dec 30 – Jan 2" hides that.
  return `${full(s)} – ${full(e)}`;
};

/**
 * Dates as short, human ranges: `Nov 3–7, Nov 12`. Consecutive days collapse
 * into one range; input order and duplicates do not matter. When years are
 * shown, ranges are separated by "; " because "Dec 30, 2025" already holds a
 * comma. Month names are English and fixed (no locale), so output is the same
 * on every machine. Empty input gives "".
 */
export const formatDateRanges = (dates: Iterable<IsoDate>, options: FormatDateRangesOptions = {}): string => {
  const runs = toRuns(dates);
  if (runs.length === 0) return '';
  const first = runs[0]!.start;
  const last = runs[runs.length - 1]!.end;
  const mode = options.years ?? 'auto';
  const refYear = options.referenceDate?.slice(0, 4) ?? first.slice(0, 4);
  const withYear = mode === 'always' || (mode === 'auto' && (first.slice(0, 4) !== refYear || last.slice(0, 4) !== refYear));
  const max = options.maxRanges ?? Number.POSITIVE_INFINITY;
  const shown = runs.slice(0, Math.max(1, max)).map((r) => formatRun(r.start, r.end, withYear));
  const rest = runs.length - shown.length;
  const restDays = runs.slice(shown.length).reduce((n, r) => n + r.days, 0);
  const sep = withYear ? '; ' : ', ';
  return rest > 0
    ? `${shown.join(sep)} and ${rest} more ${rest === 1 ? 'range' : 'ranges'} (${restDays} ${restDays === 1 ? 'day' : 'days'})`
    : shown.join(sep);
};
