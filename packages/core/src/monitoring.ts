import { utcDateOf, type IsoDate } from './iso-date.js';
import type { BackfillRequest, RequestStatus } from './request-lifecycle.js';
import type { RunRecord, SkipReason } from './ports/run-log.js';

/**
 * The seed's monitoring queries as pure functions over plain records: read
 * `RunRecord`s from a `RunLog` and `BackfillRequest`s from a `RequestTracker`
 * (or any store), pass them in with a time window, get rows back. There is no
 * clock here: "the last 30 days" is `{ since: now − 30 days, until: now }`,
 * computed by the caller from its own clock.
 */

/** `[since, until)` in epoch milliseconds. */
export interface TimeWindow {
  readonly since: number;
  readonly until: number;
}

const inWindow = (t: number, w: TimeWindow): boolean => t >= w.since && t < w.until;

/** Skip reasons that mean "the run did not happen because of a gap". */
export const GAP_SKIP_REASONS: readonly SkipReason[] = ['backfill_queued', 'waiting_for_backfill', 'gap_escalated'];

const isGapSkip = (r: RunRecord): boolean => r.skipReason !== null && GAP_SKIP_REASONS.includes(r.skipReason);

/**
 * The seed matched `error_message LIKE '%dependency%'`, which misses
 * "dependencies" and "Dependency"; we match both spellings, any case.
 */
const DEPENDENCY_ERROR = /dependenc(y|ies)/i;

/** A failed run whose error names a missing dependency (the seed's Query 2 test). */
export const isDependencyError = (r: Pick<RunRecord, 'outcome' | 'errorMessage'>): boolean =>
  r.outcome === 'failed' && r.errorMessage !== null && DEPENDENCY_ERROR.test(r.errorMessage);

/** Count, mean, median and nearest-rank 95th percentile of durations in ms; `null` when there are none. */
export interface DurationSummary {
  readonly count: number;
  readonly avgMs: number | null;
  /** The middle value (mean of the two middle ones for an even count): durations are skewed, the mean alone misleads. */
  readonly medianMs: number | null;
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
}

/**
 * Summarize durations. p95 is the nearest-rank percentile (the smallest value
 * with at least 95% of values at or below it), so it is always an observed value.
 */
export const summarizeDurations = (durationsMs: Iterable<number>): DurationSummary => {
  const xs = [...durationsMs].sort((a, b) => a - b);
  if (xs.length === 0) return { count: 0, avgMs: null, medianMs: null, p95Ms: null, maxMs: null };
  let sum = 0;
  for (const x of xs) sum += x;
  const n = xs.length;
  return {
    count: n,
    avgMs: sum / n,
    medianMs: n % 2 === 1 ? (xs[(n - 1) / 2] as number) : ((xs[n / 2 - 1] as number) + (xs[n / 2] as number)) / 2,
    p95Ms: xs[Math.ceil(0.95 * xs.length) - 1] as number,
    maxMs: xs[xs.length - 1] as number,
  };
};

// ---------------------------------------------------------------------------
// Query: gap detection frequency

/** One row of the seed's "Gap Detection Frequency" query. */
export interface GapDetectionRow {
  /** UTC calendar date of the detecting run's `startedAt` (the seed's `DATE(run_date)`). */
  readonly date: IsoDate;
  readonly processorName: string;
  /** Runs skipped with `backfill_queued`. */
  readonly gapDetections: number;
  /** Sum of those runs' `metadata.gap_size`. */
  readonly totalMissingDates: number;
}

const gapSizeOf = (r: RunRecord): number => {
  const g = r.metadata.gap_size;
  if (typeof g === 'number' && Number.isFinite(g)) return g;
  // Older rows may carry only the list; the seed's SUM would skip them, we count them.
  return Array.isArray(r.metadata.missing_dates) ? r.metadata.missing_dates.length : 0;
};

/**
 * Gap detections per processor per day: runs with `skipReason = 'backfill_queued'`
 * started in the window, grouped by (UTC day, processor). Newest day first, then
 * most detections, then processor name (the seed's `ORDER BY date DESC, gap_detections DESC`,
 * made total).
 */
export const gapDetectionsByDay = (runs: Iterable<RunRecord>, window: TimeWindow): GapDetectionRow[] => {
  const rows = new Map<string, { date: IsoDate; processorName: string; gapDetections: number; totalMissingDates: number }>();
  for (const r of runs) {
    if (r.skipReason !== 'backfill_queued' || !inWindow(r.startedAt, window)) continue;
    const date = utcDateOf(r.startedAt);
    const key = `${date}\u0000${r.processorName}`;
    let row = rows.get(key);
    if (row === undefined) {
      row = { date, processorName: r.processorName, gapDetections: 0, totalMissingDates: 0 };
      rows.set(key, row);
    }
    row.gapDetections++;
    row.totalMissingDates += gapSizeOf(r);
  }
  return [...rows.values()].sort(
    (a, b) =>
      (a.date < b.date ? 1 : a.date > b.date ? -1 : 0) ||
      b.gapDetections - a.gapDetections ||
      (a.processorName < b.processorName ? -1 : a.processorName > b.processorName ? 1 : 0),
  );
};

// ---------------------------------------------------------------------------
// Query: backfill success rate

/** One row per processor: the seed's "Backfill Success Rate" query, pivoted. */
export interface BackfillStatsRow {
  readonly processorName: string;
  readonly total: number;
  readonly queued: number;
  readonly processing: number;
  readonly completed: number;
  readonly failed: number;
  /** `completed / (completed + failed)`, 0..1; `null` when none finished yet. */
  readonly successRate: number | null;
  /**
   * `startedAt → completedAt` of finished requests (completed or failed). It is
   * the duration of the last attempt: a claim resets `startedAt`.
   */
  readonly duration: DurationSummary;
}

const byName = <T extends { readonly processorName: string }>(a: T, b: T): number =>
  a.processorName < b.processorName ? -1 : a.processorName > b.processorName ? 1 : 0;

/** Backfill counts, success rate and durations per processor, for requests made (`requestedAt`) in the window. */
export const backfillStats = (requests: Iterable<BackfillRequest>, window: TimeWindow): BackfillStatsRow[] => {
  const acc = new Map<string, { counts: Record<RequestStatus, number>; durations: number[] }>();
  for (const r of requests) {
    if (!inWindow(r.requestedAt, window)) continue;
    let a = acc.get(r.processorName);
    if (a === undefined) {
      a = { counts: { queued: 0, processing: 0, completed: 0, failed: 0 }, durations: [] };
      acc.set(r.processorName, a);
    }
    a.counts[r.status]++;
    if ((r.status === 'completed' || r.status === 'failed') && r.startedAt !== null && r.completedAt !== null) {
      a.durations.push(r.completedAt - r.startedAt);
    }
  }
  return [...acc.entries()]
    .map(([processorName, { counts, durations }]) => {
      const finished = counts.completed + counts.failed;
      return {
        processorName,
        total: counts.queued + counts.processing + finished,
        ...counts,
        successRate: finished === 0 ? null : counts.completed / finished,
        duration: summarizeDurations(durations),
      };
    })
    .sort(byName);
};

// ---------------------------------------------------------------------------
// Query: time to recovery

/**
 * One detected gap, from the first run that found it to the run that finally
 * succeeded. An episode is keyed by (processor, run date): the run held for
 * that date, every later check that found it still waiting, and its resume.
 */
export interface GapRecovery {
  readonly processorName: string;
  /** The held run's date. */
  readonly runDate: IsoDate;
  /** Union of `metadata.missing_dates` over the episode's detections, ascending. */
  readonly missingDates: readonly IsoDate[];
  /** `startedAt` of the first detecting run. */
  readonly detectedAt: number;
  /** How many runs found the gap (first detection plus re-checks). */
  readonly detections: number;
  /** Some detection escalated to a person (`gap_escalated`). */
  readonly escalated: boolean;
  /**
   * When the last missing date got a completed backfill (at or after detection);
   * `null` while some date has none, or when the runs did not record which dates were missing.
   */
  readonly gapFilledAt: number | null;
  /** `finishedAt` of the first successful run for `runDate` after detection; `null` if none yet. */
  readonly recoveredAt: number | null;
  readonly detectionToFilledMs: number | null;
  readonly filledToRecoveredMs: number | null;
  readonly detectionToRecoveredMs: number | null;
}

/**
 * Time to recovery for every gap first detected in the window. Pass the runs
 * and requests from the window's start onwards (recoveries may land after
 * `until`). Unlike the seed's query, which joined only the first missing date,
 * a gap counts as filled when every missing date has a completed backfill, and
 * recovered when the held run itself succeeds. Oldest detection first.
 */
export const timeToRecovery = (runs: Iterable<RunRecord>, requests: Iterable<BackfillRequest>, window: TimeWindow): GapRecovery[] => {
  // Completion instants per (processor, date), ascending, to find the first one after detection.
  const completions = new Map<string, number[]>();
  for (const r of requests) {
    if (r.status !== 'completed' || r.completedAt === null) continue;
    const key = `${r.processorName}\u0000${r.date}`;
    const list = completions.get(key);
    if (list === undefined) completions.set(key, [r.completedAt]);
    else list.push(r.completedAt);
  }
  for (const list of completions.values()) list.sort((a, b) => a - b);

  interface Episode {
    processorName: string;
    runDate: IsoDate;
    detectedAt: number;
    detections: number;
    escalated: boolean;
    missing: Set<IsoDate>;
    listed: boolean;
    recoveredAt: number | null;
  }
  const sorted = [...runs].sort((a, b) => a.startedAt - b.startedAt);
  const open = new Map<string, Episode>();
  const episodes: Episode[] = [];
  for (const r of sorted) {
    if (r.isBackfill) continue;
    const key = `${r.processorName}\u0000${r.runDate}`;
    const ep = open.get(key);
    if (isGapSkip(r)) {
      const e: Episode = ep ?? {
        processorName: r.processorName,
        runDate: r.runDate,
        detectedAt: r.startedAt,
        detections: 0,
        escalated: false,
        missing: new Set<IsoDate>(),
        listed: false,
        recoveredAt: null,
      };
      if (ep === undefined) {
        open.set(key, e);
        episodes.push(e);
      }
      e.detections++;
      if (r.skipReason === 'gap_escalated') e.escalated = true;
      const md = r.metadata.missing_dates;
      if (Array.isArray(md)) {
        e.listed = true;
        for (const d of md) e.missing.add(d);
      }
    } else if (ep !== undefined && r.outcome === 'succeeded') {
      ep.recoveredAt = r.finishedAt;
      open.delete(key);
    }
  }

  const firstAtOrAfter = (list: readonly number[] | undefined, t: number): number | null => {
    if (list === undefined) return null;
    for (const x of list) if (x >= t) return x;
    return null;
  };
  const span = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : b - a);

  return episodes
    .filter((e) => inWindow(e.detectedAt, window))
    .map((e): GapRecovery => {
      const missingDates = [...e.missing].sort();
      let gapFilledAt: number | null = e.listed && missingDates.length > 0 ? e.detectedAt : null;
      for (const d of missingDates) {
        const at = firstAtOrAfter(completions.get(`${e.processorName}\u0000${d}`), e.detectedAt);
        if (at === null) {
          gapFilledAt = null;
          break;
        }
        if (gapFilledAt !== null && at > gapFilledAt) gapFilledAt = at;
      }
      return {
        processorName: e.processorName,
        runDate: e.runDate,
        missingDates,
        detectedAt: e.detectedAt,
        detections: e.detections,
        escalated: e.escalated,
        gapFilledAt,
        recoveredAt: e.recoveredAt,
        detectionToFilledMs: span(e.detectedAt, gapFilledAt),
        filledToRecoveredMs: span(gapFilledAt, e.recoveredAt),
        detectionToRecoveredMs: span(e.detectedAt, e.recoveredAt),
      };
    });
};

// ---------------------------------------------------------------------------
// Query: dependency failure rate

/** Per processor (or overall): how often the daily runs did not produce data because of a gap. */
export interface DependencyFailureStats {
  /** Every run started in the window, whatever its trigger. */
  readonly totalRuns: number;
  /**
   * Runs with trigger `scheduled`: the denominator. Backfill, resume, cascade
   * and manual runs are left out — the seed's query counted a processor's daily
   * runs, and a rebuild of 25 dates must not dilute (or a held run re-checked on
   * resume inflate) the rate.
   */
  readonly scheduledRuns: number;
  /** Scheduled runs held, escalated or failed because of a gap; each run counts once. */
  readonly dependencyFailures: number;
  /** Scheduled runs skipped with `backfill_queued` or `waiting_for_backfill`. */
  readonly heldRuns: number;
  /** Scheduled runs skipped with `gap_escalated`. */
  readonly escalations: number;
  /** Scheduled runs with `outcome: 'failed'` and an error mentioning a dependency (the seed's only test). */
  readonly dependencyErrors: number;
  /** Every failed scheduled run, whatever the error (the seed's `total_failures`). */
  readonly failedRuns: number;
  /** `dependencyFailures / scheduledRuns × 100`; `null` when there was no scheduled run. Not rounded. */
  readonly dependencyFailurePct: number | null;
}

export interface DependencyFailureReport {
  /** One row per processor with at least one run in the window, by name. */
  readonly byProcessor: readonly (DependencyFailureStats & { readonly processorName: string })[];
  /** All processors together: the figure `assess` takes. */
  readonly overall: DependencyFailureStats;
}

interface MutableDependencyStats {
  totalRuns: number;
  scheduledRuns: number;
  dependencyFailures: number;
  heldRuns: number;
  escalations: number;
  dependencyErrors: number;
  failedRuns: number;
}

const emptyStats = (): MutableDependencyStats => ({
  totalRuns: 0,
  scheduledRuns: 0,
  dependencyFailures: 0,
  heldRuns: 0,
  escalations: 0,
  dependencyErrors: 0,
  failedRuns: 0,
});

const finishStats = (s: MutableDependencyStats): DependencyFailureStats => ({
  ...s,
  dependencyFailurePct: s.scheduledRuns === 0 ? null : (s.dependencyFailures / s.scheduledRuns) * 100,
});

/**
 * Dependency-failure rate per processor over the scheduled runs started in the
 * window. A run counts when it was held or escalated because of a gap (skip
 * reasons `backfill_queued`, `waiting_for_backfill`, `gap_escalated`) or failed
 * with an error mentioning a dependency — so the figure is comparable before
 * (failures) and after (holds) smart-backfill is in place.
 */
export const dependencyFailureRate = (runs: Iterable<RunRecord>, window: TimeWindow): DependencyFailureReport => {
  const per = new Map<string, MutableDependencyStats>();
  const all = emptyStats();
  for (const r of runs) {
    if (!inWindow(r.startedAt, window)) continue;
    let s = per.get(r.processorName);
    if (s === undefined) {
      s = emptyStats();
      per.set(r.processorName, s);
    }
    const scheduled = r.trigger === 'scheduled' && !r.isBackfill;
    const dependencyFailure = isGapSkip(r) || isDependencyError(r);
    for (const t of [s, all]) {
      t.totalRuns++;
      if (!scheduled) continue;
      t.scheduledRuns++;
      if (dependencyFailure) t.dependencyFailures++;
      if (r.skipReason === 'backfill_queued' || r.skipReason === 'waiting_for_backfill') t.heldRuns++;
      else if (r.skipReason === 'gap_escalated') t.escalations++;
      if (r.outcome === 'failed') {
        t.failedRuns++;
        if (isDependencyError(r)) t.dependencyErrors++;
      }
    }
  }
  return {
    byProcessor: [...per.entries()].map(([processorName, s]) => ({ processorName, ...finishStats(s) })).sort(byName),
    overall: finishStats(all),
  };
};

// ---------------------------------------------------------------------------
// What counts as a gap

/**
 * A request a check made (`auto`): its date was found missing. A `manual`
 * request is a person's choice — often a rebuild of a healthy date — and says
 * nothing about whether the date was missing, so it is never a gap.
 */
export const isDetectedGapRequest = (r: Pick<BackfillRequest, 'requestType'>): boolean => r.requestType === 'auto';

/** The dates a run reports missing: only a check that held or escalated the run found a gap. */
export const gapDatesOfRun = (r: RunRecord): readonly IsoDate[] => (isGapSkip(r) ? (r.metadata.missing_dates ?? []) : []);

/**
 * Dates some check found missing, for one processor's records: the missing
 * dates of its gap-skipped runs started in the window and the dates of its
 * automatic requests made in the window. The one rule for "smart-backfill saw
 * this date missing" that `assess` and the report share; the caller adds what
 * the window analysis finds missing now.
 */
export const detectedGapDates = (runs: Iterable<RunRecord>, requests: Iterable<BackfillRequest>, window: TimeWindow): Set<IsoDate> => {
  const seen = new Set<IsoDate>();
  for (const r of runs) if (inWindow(r.startedAt, window)) for (const d of gapDatesOfRun(r)) seen.add(d);
  for (const r of requests) if (isDetectedGapRequest(r) && inWindow(r.requestedAt, window)) seen.add(r.date);
  return seen;
};

/**
 * Distinct (processor, date) pairs reported missing by gap-skipped runs started
 * in the window: the seed's Query 1 figure ("gaps in 30 days") as seen by the
 * guard, for `assess`.
 */
export const distinctGapDates = (runs: Iterable<RunRecord>, window: TimeWindow): number => {
  const seen = new Set<string>();
  for (const r of runs) {
    if (!isGapSkip(r) || !inWindow(r.startedAt, window)) continue;
    const md = r.metadata.missing_dates;
    if (Array.isArray(md)) for (const d of md) seen.add(`${r.processorName}\u0000${d}`);
  }
  return seen.size;
};
