import { fromEpochDay, toEpochDay, type EpochDay, type IsoDate } from './iso-date.js';
import type { GapPolicy } from './policy.js';

/**
 * Row counts per date, in whichever shape the caller has: a `Map`, a plain
 * `{ date: count }` record, or an iterable of `[date, count]` pairs.
 * Dates absent from it count as 0 rows.
 */
export type RecordCounts =
  | ReadonlyMap<IsoDate, number>
  | Readonly<Record<string, number>>
  | Iterable<readonly [IsoDate, number]>;

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

type CountLookup = (date: IsoDate) => number;

const isMap = (c: RecordCounts): c is ReadonlyMap<IsoDate, number> => c instanceof Map;

const isIterable = (c: RecordCounts): c is Iterable<readonly [IsoDate, number]> =>
  typeof (c as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';

const countLookup = (counts: RecordCounts): CountLookup => {
  if (isMap(counts)) return (d) => counts.get(d) ?? 0;
  if (isIterable(counts)) {
    const m = new Map<IsoDate, number>();
    for (const [d, n] of counts) m.set(d, (m.get(d) ?? 0) + n);
    return (d) => m.get(d) ?? 0;
  }
  const rec = counts as Readonly<Record<string, number>>;
  return (d) => (Object.prototype.hasOwnProperty.call(rec, d) ? (rec[d] ?? 0) : 0);
};

/**
 * Which expected dates in the lookback window lack data. Linear in the input:
 * in-window dates are bucketed by their offset in the window, so the result
 * comes out sorted and unique without a sort. Inputs are trusted to be valid
 * dates (validate at the edge with `parseIsoDate`).
 */
export const analyzeGaps = (input: AnalyzeGapsInput): GapAnalysis => {
  const { asOf, policy } = input;
  const asOfDay = toEpochDay(asOf);
  const startDay = asOfDay - policy.lookbackDays;
  const endDay = asOfDay - 1;
  const criticalDay = asOfDay - policy.criticalLookbackDays;
  const windowStart = fromEpochDay(startDay);
  const windowEnd = fromEpochDay(endDay);
  const width = policy.lookbackDays;

  // Valid ISO dates sort like the days they name, so the window test is two string compares.
  const slots: (IsoDate | undefined)[] = new Array<IsoDate | undefined>(width);
  let expectedCount = 0;
  for (const d of input.expectedDates) {
    if (d < windowStart || d > windowEnd) continue;
    const off = toEpochDay(d) - startDay;
    if (slots[off] === undefined) {
      slots[off] = d;
      expectedCount++;
    }
  }

  const count = countLookup(input.recordCounts);
  const missingDates: IsoDate[] = [];
  const absentDates: IsoDate[] = [];
  const incompleteDates: IncompleteDate[] = [];
  const criticalMissing: IsoDate[] = [];
  const runs: GapRun[] = [];
  let runStart = -1;
  let prevOff = -2;
  for (let off = 0; off < width; off++) {
    const d = slots[off];
    if (d === undefined) continue;
    const n = count(d);
    if (n >= policy.minRecordsPerDate) continue;
    missingDates.push(d);
    if (n <= 0) absentDates.push(d);
    else incompleteDates.push({ date: d, count: n });
    if (startDay + off >= criticalDay) criticalMissing.push(d);
    if (off !== prevOff + 1) {
      if (runStart >= 0) runs.push(gapRun(startDay + runStart, startDay + prevOff));
      runStart = off;
    }
    prevOff = off;
  }
  if (runStart >= 0) runs.push(gapRun(startDay + runStart, startDay + prevOff));

  return {
    asOf,
    windowStart,
    windowEnd,
    criticalStart: fromEpochDay(criticalDay),
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
