import { fromEpochDay, toEpochDay, type EpochDay, type IsoDate } from './iso-date.js';
import type { AnalyzeGapsInput, GapAnalysis, GapRun, IncompleteDate, RecordCounts } from './gap-analysis.js';
import type { GapPolicy } from './policy.js';

/**
 * Row counts as a dense column: `values[i]` rows on epoch day `startDay + i`.
 * Days before `startDay` or past the end count as 0, like an absent date.
 * A `Int32Array`/`Float64Array` straight from a columnar read is ideal.
 * Counts are trusted to be non-negative numbers (a negative one reads as absent).
 */
export interface DenseCounts {
  readonly startDay: EpochDay;
  readonly values: ArrayLike<number>;
}

export interface AnalyzeGapsDenseInput {
  /** Epoch day of the run's date; never checked itself. */
  readonly asOfDay: EpochDay;
  /** Epoch days that should have data. Any order; duplicates and days outside the window are ignored. */
  readonly expectedDays: ArrayLike<number>;
  readonly counts: DenseCounts;
  readonly policy: Pick<GapPolicy, 'lookbackDays' | 'criticalLookbackDays' | 'minRecordsPerDate'>;
}

/**
 * `analyzeGaps` in epoch days, without building a single string. Missing days
 * come out ascending and unique; `missingCounts[i]` is the row count of
 * `missingDays[i]` (0 = absent, otherwise incomplete). Critical days are the
 * suffix `missingDays[gapSize − criticalGapSize ..]`, because the critical
 * window is the newest part of the window.
 */
export interface DenseGapAnalysis {
  readonly asOfDay: EpochDay;
  readonly windowStartDay: EpochDay;
  readonly windowEndDay: EpochDay;
  readonly criticalStartDay: EpochDay;
  readonly expectedCount: number;
  readonly missingDays: Int32Array;
  readonly missingCounts: Float64Array;
  readonly gapSize: number;
  readonly criticalGapSize: number;
  readonly hasGaps: boolean;
}

// Scratch buffers reused across calls: typed arrays over 64 bytes live off the
// V8 heap and cost more to allocate than checking a whole year of dates. The
// function is synchronous and never re-entered, and results are copied out.
let scratchSlots = new Uint8Array(0);
let scratchDays = new Int32Array(0);
let scratchCounts = new Float64Array(0);

/**
 * Dense-path gap analysis: same semantics as `analyzeGaps` (window
 * `[asOf − lookbackDays, asOf − 1]`, critical from `asOf − criticalLookbackDays`,
 * missing = expected with fewer than `minRecordsPerDate` rows), on integers.
 * O(expected + lookbackDays) and only the missing days allocated; this is
 * the path for checking a fleet of processors at once.
 */
export const analyzeGapsDense = (input: AnalyzeGapsDenseInput): DenseGapAnalysis => {
  const { asOfDay, expectedDays, counts, policy } = input;
  const width = policy.lookbackDays;
  const startDay = asOfDay - width;
  const criticalDay = asOfDay - policy.criticalLookbackDays;
  const min = policy.minRecordsPerDate;
  if (scratchSlots.length < width) {
    scratchSlots = new Uint8Array(width);
    scratchDays = new Int32Array(width);
    scratchCounts = new Float64Array(width);
  } else scratchSlots.fill(0, 0, width);
  const slots = scratchSlots;
  const days = scratchDays;
  const found = scratchCounts;

  // One byte per window day, set when the day is expected (dedupes for free).
  let expectedCount = 0;
  for (let i = 0, n = expectedDays.length; i < n; i++) {
    const off = (expectedDays[i] as number) - startDay;
    // `off >>> 0 < width` is the unsigned range test 0 <= off < width.
    if (off >>> 0 < width && slots[off] === 0) {
      slots[off] = 1;
      expectedCount++;
    }
  }

  const values = counts.values;
  const shift = startDay - counts.startDay;
  const len = values.length;
  let gap = 0;
  let critical = 0;
  const criticalOff = criticalDay - startDay;
  for (let off = 0; off < width; off++) {
    if (slots[off] === 0) continue;
    const idx = off + shift;
    const c = idx >= 0 && idx < len ? (values[idx] as number) : 0;
    if (c >= min) continue;
    days[gap] = startDay + off;
    found[gap] = c > 0 ? c : 0;
    gap++;
    if (off >= criticalOff) critical++;
  }

  return {
    asOfDay,
    windowStartDay: startDay,
    windowEndDay: asOfDay - 1,
    criticalStartDay: criticalDay,
    expectedCount,
    missingDays: days.slice(0, gap),
    missingCounts: found.slice(0, gap),
    gapSize: gap,
    criticalGapSize: critical,
    hasGaps: gap > 0,
  };
};

/** Epoch days of dates (for `expectedDays`). Trusts the dates: validate at the edge. */
export const toEpochDays = (dates: Iterable<IsoDate>): Int32Array => {
  const list = Array.isArray(dates) ? (dates as readonly IsoDate[]) : [...dates];
  const out = new Int32Array(list.length);
  for (let i = 0; i < list.length; i++) out[i] = toEpochDay(list[i] as IsoDate);
  return out;
};

/** Dates of epoch days (for reading `missingDays`). */
export const fromEpochDays = (days: ArrayLike<number>): IsoDate[] => {
  const out: IsoDate[] = new Array<IsoDate>(days.length);
  for (let i = 0; i < days.length; i++) out[i] = fromEpochDay(days[i] as number);
  return out;
};

/**
 * Pack record counts (any `RecordCounts` shape `analyzeGaps` takes) into a
 * dense column covering `[startDay, startDay + days)`. Counts outside it are
 * dropped; pairs for the same date add up, as in `analyzeGaps`.
 */
export const toDenseCounts = (counts: RecordCounts, startDay: EpochDay, days: number): DenseCounts => {
  const values = new Float64Array(Math.max(0, days));
  const put = (d: string, n: number): void => {
    const off = toEpochDay(d as IsoDate) - startDay;
    if (off >= 0 && off < values.length) values[off] = (values[off] as number) + n;
  };
  if (counts instanceof Map) {
    for (const [d, n] of counts as ReadonlyMap<IsoDate, number>) put(d, n);
  } else if (typeof (counts as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
    for (const [d, n] of counts as Iterable<readonly [IsoDate, number]>) put(d, n);
  } else {
    const rec = counts as Readonly<Record<string, number>>;
    for (const d of Object.keys(rec)) put(d, rec[d] as number);
  }
  return { startDay, values };
};

/**
 * Convert an `analyzeGaps` input to the dense form: the window's expected
 * days and a count column exactly as wide as the window.
 */
export const toDenseInput = (input: AnalyzeGapsInput): AnalyzeGapsDenseInput => {
  const asOfDay = toEpochDay(input.asOf);
  const startDay = asOfDay - input.policy.lookbackDays;
  return {
    asOfDay,
    expectedDays: toEpochDays(input.expectedDates),
    counts: toDenseCounts(input.recordCounts, startDay, input.policy.lookbackDays),
    policy: input.policy,
  };
};

/** Expand a dense result into the full `GapAnalysis` (strings, runs, absent/incomplete split). */
export const fromDenseAnalysis = (a: DenseGapAnalysis): GapAnalysis => {
  const missingDates: IsoDate[] = [];
  const absentDates: IsoDate[] = [];
  const incompleteDates: IncompleteDate[] = [];
  const criticalMissing: IsoDate[] = [];
  const runs: GapRun[] = [];
  let runStart = 0;
  for (let i = 0; i < a.gapSize; i++) {
    const day = a.missingDays[i] as number;
    const d = fromEpochDay(day);
    const c = a.missingCounts[i] as number;
    missingDates.push(d);
    if (c > 0) incompleteDates.push({ date: d, count: c });
    else absentDates.push(d);
    if (day >= a.criticalStartDay) criticalMissing.push(d);
    const next = a.missingDays[i + 1];
    if (i + 1 === a.gapSize || next !== day + 1) {
      const s = a.missingDays[runStart] as number;
      runs.push({ start: fromEpochDay(s), end: d, days: day - s + 1 });
      runStart = i + 1;
    }
  }
  return {
    asOf: fromEpochDay(a.asOfDay),
    windowStart: fromEpochDay(a.windowStartDay),
    windowEnd: fromEpochDay(a.windowEndDay),
    criticalStart: fromEpochDay(a.criticalStartDay),
    expectedCount: a.expectedCount,
    missingDates,
    absentDates,
    incompleteDates,
    criticalMissing,
    gapSize: a.gapSize,
    criticalGapSize: a.criticalGapSize,
    hasGaps: a.hasGaps,
    runs,
  };
};
