import { addDays, diffDays, fromEpochDay, toEpochDay, type EpochDay, type IsoDate } from './iso-date.js';
import type { GapPolicy } from './policy.js';

/**
 * Row counts per date, in whichever shape the caller has: a `Map`, a plain
 * `{ date: count }` record, or an iterable of `[date, count]` pairs.
 * Dates absent from it count as 0 rows.
 */
export type RecordCounts = ReadonlyMap<IsoDate, number> | Readonly<Record<string, number>> | Iterable<readonly [IsoDate, number]>;

export interface AnalyzeGapsInput {
  /** The date the run is for. It is never checked itself: the run is about to produce it. */
  readonly asOf: IsoDate;
  /** Dates that should have data (the schedule). Duplicates and dates outside the window are ignored. */
  readonly expectedDates: Iterable<IsoDate>;
  /** Rows found per date in the target table. Counts for dates nobody expects are ignored. */
  readonly recordCounts: RecordCounts;
  readonly policy: Pick<GapPolicy, 'lookbackDays' | 'criticalLookbackDays' | 'minRecordsPerDate'>;
}

export interface IncompleteDate {
  readonly date: IsoDate;
  /** Rows found: more than 0, fewer than `minRecordsPerDate`. */
  readonly count: number;
}

/** A maximal run of consecutive calendar days that are all missing. */
export interface GapRun {
  readonly start: IsoDate;
  readonly end: IsoDate;
  readonly days: number;
}

export interface GapAnalysis {
  readonly asOf: IsoDate;
  /** `asOf − lookbackDays`, inclusive. */
  readonly windowStart: IsoDate;
  /** `asOf − 1`, inclusive: the seed's window ended on the run's own date, which the run has not produced yet. */
  readonly windowEnd: IsoDate;
  /** `asOf − criticalLookbackDays`: missing dates on or after it are critical. */
  readonly criticalStart: IsoDate;
  /** How many distinct expected dates fall inside the window. */
  readonly expectedCount: number;
  /** Expected dates in the window with fewer than `minRecordsPerDate` rows; ascending, unique. */
  readonly missingDates: readonly IsoDate[];
  /** The missing dates with no rows at all. */
  readonly absentDates: readonly IsoDate[];
  /** The missing dates with some rows, but fewer than the minimum. */
  readonly incompleteDates: readonly IncompleteDate[];
  /** Missing dates on or after `criticalStart`. */
  readonly criticalMissing: readonly IsoDate[];
  readonly gapSize: number;
  readonly criticalGapSize: number;
  readonly hasGaps: boolean;
  /** Contiguous calendar runs of missing dates, oldest first. */
  readonly runs: readonly GapRun[];
}

/**
 * One lookup for every count shape. Pairs are summed into a `Map` first (the
 * same date twice adds up); a plain record is read with a plain lookup, not
 * `hasOwnProperty`: no inherited member of an object is named like YYYY-MM-DD.
 */
const countLookup = (counts: RecordCounts): ((d: IsoDate) => number) => {
  if (counts instanceof Map) {
    const map = counts as ReadonlyMap<IsoDate, number>;
    return (d) => map.get(d) ?? 0;
  }
  if (typeof (counts as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
    const map = new Map<IsoDate, number>();
    for (const [d, n] of counts as Iterable<readonly [IsoDate, number]>) map.set(d, (map.get(d) ?? 0) + n);
    return (d) => map.get(d) ?? 0;
  }
  const rec = counts as Readonly<Record<string, number>>;
  return (d) => rec[d] ?? 0;
};

/**
 * Which expected dates in the lookback window lack data: the seed's query
 * (distinct expected dates between start and end, minus the dates with enough
 * rows, in date order), in the same steps. Linear in the input apart from the
 * sort, which is linear too for a schedule read with `ORDER BY date`. Dates are
 * trusted to be valid (validate at the edge with `parseIsoDate`), so they are
 * compared and sorted as strings and never parsed, except to find the runs.
 */
export const analyzeGaps = (input: AnalyzeGapsInput): GapAnalysis => {
  const { asOf, policy } = input;
  const windowStart = addDays(asOf, -policy.lookbackDays);
  const windowEnd = addDays(asOf, -1);
  const criticalStart = addDays(asOf, -policy.criticalLookbackDays);
  const countOf = countLookup(input.recordCounts);

  const inWindow: IsoDate[] = [];
  for (const d of input.expectedDates) if (d >= windowStart && d <= windowEnd) inWindow.push(d);
  // Valid ISO dates sort like the days they name; sorted, a duplicate sits next to its twin.
  inWindow.sort();

  let expectedCount = 0;
  let previous = '';
  const missingDates: IsoDate[] = [];
  const absentDates: IsoDate[] = [];
  const incompleteDates: IncompleteDate[] = [];
  const criticalMissing: IsoDate[] = [];
  for (const d of inWindow) {
    if (d === previous) continue;
    previous = d;
    expectedCount++;
    const n = countOf(d);
    if (n >= policy.minRecordsPerDate) continue;
    missingDates.push(d);
    if (n > 0) incompleteDates.push({ date: d, count: n });
    else absentDates.push(d);
    if (d >= criticalStart) criticalMissing.push(d);
  }

  return {
    asOf,
    windowStart,
    windowEnd,
    criticalStart,
    expectedCount,
    missingDates,
    absentDates,
    incompleteDates,
    criticalMissing,
    gapSize: missingDates.length,
    criticalGapSize: criticalMissing.length,
    hasGaps: missingDates.length > 0,
    runs: toRuns(missingDates),
  };
};

export interface AnalyzeRangeInput extends Omit<AnalyzeGapsInput, 'asOf' | 'policy'> {
  /** The first date judged, inclusive. */
  readonly start: IsoDate;
  /** The last date judged, inclusive (unlike a run's window, which stops the day before its run date). */
  readonly end: IsoDate;
  /** `criticalLookbackDays` counts back from the day after `end`; default 0 (nothing critical). */
  readonly policy: Pick<GapPolicy, 'minRecordsPerDate'> & Partial<Pick<GapPolicy, 'criticalLookbackDays'>>;
}

/**
 * `analyzeGaps` over a range of dates itself (`start … end`, both judged), not the window
 * before a run: what a manual backfill would fill, what a plan reads, the dates a downstream
 * run reads from an input. The analysis is as of the day after `end`.
 */
export const analyzeRange = (input: AnalyzeRangeInput): GapAnalysis => {
  const span = diffDays(input.end, input.start) + 1;
  return analyzeGaps({
    asOf: addDays(input.end, 1),
    expectedDates: input.expectedDates,
    recordCounts: input.recordCounts,
    policy: {
      lookbackDays: span,
      criticalLookbackDays: Math.min(input.policy.criticalLookbackDays ?? 0, span),
      minRecordsPerDate: input.policy.minRecordsPerDate,
    },
  });
};

/** Split any set of dates into contiguous calendar runs, oldest first. */
export const toRuns = (dates: Iterable<IsoDate>): GapRun[] => {
  const days = [...new Set(Array.from(dates, toEpochDay))].sort((a, b) => a - b);
  const runs: GapRun[] = [];
  let first = 0;
  for (let i = 0; i < days.length; i++) {
    const day = days[i] as EpochDay;
    if (days[i + 1] === day + 1) continue;
    const start = days[first] as EpochDay;
    runs.push({ start: fromEpochDay(start), end: fromEpochDay(day), days: day - start + 1 });
    first = i + 1;
  }
  return runs;
};
