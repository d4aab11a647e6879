import { fromEpochDay, toEpochDay, type EpochDay, type IsoDate } from './iso-date.js';
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
 * Counts as either a `Map` or a plain record. Pairs are summed into a `Map`
 * first, so the lookup loop below has only two shapes to handle.
 */
const normalizeCounts = (
  counts: RecordCounts,
): { readonly map: ReadonlyMap<IsoDate, number> | undefined; readonly rec: Readonly<Record<string, number>> } => {
  if (counts instanceof Map) return { map: counts as ReadonlyMap<IsoDate, number>, rec: {} };
  if (typeof (counts as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
    const m = new Map<IsoDate, number>();
    for (const [d, n] of counts as Iterable<readonly [IsoDate, number]>) m.set(d, (m.get(d) ?? 0) + n);
    return { map: m, rec: {} };
  }
  return { map: undefined, rec: counts as Readonly<Record<string, number>> };
};

/** Any order: bucket in-window dates by their offset, which sorts and dedupes in one linear pass. */
const bucketedWindowDates = (
  expected: Iterable<IsoDate>,
  windowStart: IsoDate,
  windowEnd: IsoDate,
  startDay: EpochDay,
  width: number,
): IsoDate[] => {
  const slots = new Array<IsoDate | undefined>(width).fill(undefined);
  for (const d of expected) {
    // Valid ISO dates sort like the days they name, so the window test is two string compares.
    if (d < windowStart || d > windowEnd) continue;
    const off = toEpochDay(d) - startDay;
    if (slots[off] === undefined) slots[off] = d;
  }
  const out: IsoDate[] = [];
  for (const d of slots) if (d !== undefined) out.push(d);
  return out;
};

/**
 * The common case — a schedule read with `ORDER BY date`, so ascending: the
 * in-window dates are one sorted stretch, found with two string compares per
 * date. Pushes missing dates and their counts; returns how many dates were in
 * the window, or -1 at the first out-of-order date (the caller starts over).
 * One copy per count shape keeps each lookup site monomorphic.
 */
const sortedScanMap = (
  expected: Iterable<IsoDate>,
  windowStart: IsoDate,
  windowEnd: IsoDate,
  counts: ReadonlyMap<IsoDate, number>,
  min: number,
  missingDates: IsoDate[],
  missingCounts: number[],
): number => {
  let inWindow = 0;
  let last = '';
  let inside = false;
  for (const d of expected) {
    if (d <= last) {
      if (d === last) continue;
      return -1;
    }
    last = d;
    if (d > windowEnd) continue;
    // Once one date is inside, every later (greater) date is past windowStart too.
    if (!inside) {
      if (d < windowStart) continue;
      inside = true;
    }
    inWindow++;
    const n = counts.get(d) ?? 0;
    if (n >= min) continue;
    missingDates.push(d);
    missingCounts.push(n);
  }
  return inWindow;
};

/** `sortedScanMap` for a plain record. */
const sortedScanRecord = (
  expected: Iterable<IsoDate>,
  windowStart: IsoDate,
  windowEnd: IsoDate,
  counts: Readonly<Record<string, number>>,
  min: number,
  missingDates: IsoDate[],
  missingCounts: number[],
): number => {
  let inWindow = 0;
  let last = '';
  let inside = false;
  for (const d of expected) {
    if (d <= last) {
      if (d === last) continue;
      return -1;
    }
    last = d;
    if (d > windowEnd) continue;
    if (!inside) {
      if (d < windowStart) continue;
      inside = true;
    }
    inWindow++;
    // A plain lookup, not `hasOwnProperty`: no inherited member of a record is named like YYYY-MM-DD.
    const n = counts[d] ?? 0;
    if (n >= min) continue;
    missingDates.push(d);
    missingCounts.push(n);
  }
  return inWindow;
};

/**
 * Which expected dates in the lookback window lack data. Linear in the input.
 * The common case — a schedule read with `ORDER BY date`, so ascending — takes
 * a single pass with two string compares and one count lookup per date and no
 * date parsing; any other order is bucketed by day offset first. Inputs are
 * trusted to be valid dates (validate at the edge with `parseIsoDate`).
 */
export const analyzeGaps = (input: AnalyzeGapsInput): GapAnalysis => {
  const { asOf, policy } = input;
  const asOfDay = toEpochDay(asOf);
  const startDay = asOfDay - policy.lookbackDays;
  const criticalDay = asOfDay - policy.criticalLookbackDays;
  const windowStart = fromEpochDay(startDay);
  const windowEnd = fromEpochDay(asOfDay - 1);
  const criticalStart = fromEpochDay(criticalDay);
  const min = policy.minRecordsPerDate;
  const { map, rec } = normalizeCounts(input.recordCounts);

  // A one-shot iterable could not be read twice if the sorted pass gives up.
  const expected =
    Array.isArray(input.expectedDates) || input.expectedDates instanceof Set ? input.expectedDates : [...input.expectedDates];

  // Hot loop: collect missing dates and their counts only; everything else is derived from those few.
  const missingDates: IsoDate[] = [];
  const missingCounts: number[] = [];
  let expectedCount =
    map !== undefined
      ? sortedScanMap(expected, windowStart, windowEnd, map, min, missingDates, missingCounts)
      : sortedScanRecord(expected, windowStart, windowEnd, rec, min, missingDates, missingCounts);
  if (expectedCount < 0) {
    // Not ascending: start over, bucketing by day offset.
    missingDates.length = 0;
    missingCounts.length = 0;
    const inWindow = bucketedWindowDates(expected, windowStart, windowEnd, startDay, policy.lookbackDays);
    expectedCount = inWindow.length;
    for (const d of inWindow) {
      const n = (map !== undefined ? map.get(d) : rec[d]) ?? 0;
      if (n >= min) continue;
      missingDates.push(d);
      missingCounts.push(n);
    }
  }

  const absentDates: IsoDate[] = [];
  const incompleteDates: IncompleteDate[] = [];
  const criticalMissing: IsoDate[] = [];
  const runs: GapRun[] = [];
  // Runs reuse the missing dates' own strings: formatting a date costs more than checking one.
  let runStart = 0;
  let runStartDate = '' as IsoDate;
  let prevDay = 0;
  let prevDate = '' as IsoDate;
  for (let i = 0; i < missingDates.length; i++) {
    const d = missingDates[i] as IsoDate;
    const n = missingCounts[i] as number;
    if (n <= 0) absentDates.push(d);
    else incompleteDates.push({ date: d, count: n });
    if (d >= criticalStart) criticalMissing.push(d);
    const day = toEpochDay(d);
    if (i === 0) {
      runStart = day;
      runStartDate = d;
    } else if (day !== prevDay + 1) {
      runs.push({ start: runStartDate, end: prevDate, days: prevDay - runStart + 1 });
      runStart = day;
      runStartDate = d;
    }
    prevDay = day;
    prevDate = d;
  }
  if (missingDates.length > 0) runs.push({ start: runStartDate, end: prevDate, days: prevDay - runStart + 1 });

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
    runs,
  };
};

const gapRun = (s: EpochDay, e: EpochDay): GapRun => ({ start: fromEpochDay(s), end: fromEpochDay(e), days: e - s + 1 });

/** Split any set of dates into contiguous calendar runs, oldest first. */
export const toRuns = (dates: Iterable<IsoDate>): GapRun[] => {
  const days = [...new Set([...dates].map(toEpochDay))].sort((a, b) => a - b);
  const out: GapRun[] = [];
  let s = days[0];
  let p = s;
  for (let i = 1; i < days.length; i++) {
    const d = days[i] as number;
    if (d !== (p as number) + 1) {
      out.push(gapRun(s as number, p as number));
      s = d;
    }
    p = d;
  }
  if (s !== undefined && p !== undefined) out.push(gapRun(s, p));
  return out;
};
