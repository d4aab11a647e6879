import {
  backfillStats,
  dependencyFailureRate,
  gapDetectionsByDay,
  summarizeDurations,
  timeToRecovery,
  utcDateOf,
  type AlertRecord,
  type BackfillRequest,
  type DurationSummary,
  type GapDetectionRow,
  type HeldRun,
  type IsoDate,
  type RunRecord,
  type TimeWindow,
} from '@smart-backfill/core';

/** Everything the metrics are computed from: plain records read from the store. */
export interface MetricsInput {
  /** `[since, until)` in epoch ms: the runs, requests and detections counted. */
  readonly window: TimeWindow;
  /** Runs started at or after `window.since` (later ones are fine: recoveries may land after `until`). */
  readonly runs: Iterable<RunRecord>;
  /** Requests made at or after `window.since`. */
  readonly requests: Iterable<BackfillRequest>;
  readonly alerts?: Iterable<AlertRecord> | undefined;
  readonly heldRuns?: Iterable<HeldRun> | undefined;
  /** Processors to list even when they have no data in the window (e.g. every configured one). */
  readonly processors?: Iterable<string> | undefined;
}

/** A duration summary (core's carries the median: time to recovery is skewed, one escalation waits days). */
export type RecoverySummary = DurationSummary;

export interface ProcessorMetrics {
  readonly processorName: string;
  /** Runs started in the window (scheduled, resumed, manual and backfill runs). */
  readonly runs: number;
  /** Runs that found a gap and queued backfills (the seed's `skip_reason = 'backfill_queued'`). */
  readonly gapDetections: number;
  /** Sum of those runs' gap sizes. */
  readonly missingDatesDetected: number;
  /** `gapDetections / days in the window`. */
  readonly gapDetectionsPerDay: number;
  /** Days with detections, newest first (the seed's "Gap Detection Frequency" rows). */
  readonly detectionsByDay: readonly Pick<GapDetectionRow, 'date' | 'gapDetections' | 'totalMissingDates'>[];
  /** Requests made in the window, by current status. */
  readonly backfills: {
    readonly total: number;
    readonly queued: number;
    readonly processing: number;
    readonly completed: number;
    readonly failed: number;
  };
  /** `completed / (completed + failed)`; `null` when none finished. */
  readonly successRate: number | null;
  /** Last attempt's `startedAt → completedAt` of finished requests. */
  readonly backfillDuration: DurationSummary;
  /** Gap episodes first detected in the window (see core `timeToRecovery`). */
  readonly gapEpisodes: number;
  /** Episodes whose held run has since succeeded. */
  readonly recovered: number;
  /** Detection → every missing date backfilled. */
  readonly timeToFill: RecoverySummary;
  /** Detection → gap filled → the held run succeeded: the full time to recovery. */
  readonly timeToRecovery: RecoverySummary;
  /** Scheduled runs held (skipped `backfill_queued` / `waiting_for_backfill`). */
  readonly runsHeld: number;
  /** Scheduled runs skipped because the gap was escalated (`gap_escalated`). */
  readonly escalations: number;
  /** Alerts opened in the window. */
  readonly alertsOpened: number;
  /** Held runs waiting now, whatever the window. */
  readonly heldNow: number;
  /** Alerts open now. */
  readonly openAlerts: number;
  /** Scheduled runs failed or held for a missing dependency, percent of scheduled runs; `null` without scheduled runs. */
  readonly dependencyFailurePct: number | null;
}

export interface MetricsReport {
  readonly since: number;
  readonly until: number;
  readonly days: number;
  readonly processors: readonly ProcessorMetrics[];
}

const DAY_MS = 86_400_000;

const recoverySummary = (xs: readonly number[]): RecoverySummary => summarizeDurations(xs);

const group = <T extends { readonly processorName: string }>(xs: Iterable<T>): Map<string, T[]> => {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const l = m.get(x.processorName);
    if (l === undefined) m.set(x.processorName, [x]);
    else l.push(x);
  }
  return m;
};

const inWindow = (t: number, w: TimeWindow): boolean => t >= w.since && t < w.until;

/**
 * Per processor: gap detections per day, backfills queued/completed/failed,
 * success rate, average and p95 backfill duration, time to recovery, runs held
 * and escalations — the seed's three monitoring queries, over any store's records.
 */
export const computeMetrics = (input: MetricsInput): MetricsReport => {
  const w = input.window;
  const runs = [...input.runs];
  const requests = [...input.requests];
  const alerts = [...(input.alerts ?? [])];
  const held = [...(input.heldRuns ?? [])];
  const days = Math.max((w.until - w.since) / DAY_MS, 1 / 24);

  const names = new Set<string>(input.processors ?? []);
  for (const x of [...runs, ...requests, ...alerts, ...held]) names.add(x.processorName);

  const detections = group(gapDetectionsByDay(runs, w));
  const stats = new Map(backfillStats(requests, w).map((s) => [s.processorName, s] as const));
  const deps = new Map(dependencyFailureRate(runs, w).byProcessor.map((s) => [s.processorName, s] as const));
  const episodes = group(timeToRecovery(runs, requests, w));
  const alertsBy = group(alerts);
  const heldBy = group(held);

  const processors = [...names].sort().map((processorName): ProcessorMetrics => {
    const det = detections.get(processorName) ?? [];
    const st = stats.get(processorName);
    const dep = deps.get(processorName);
    const eps = episodes.get(processorName) ?? [];
    const gapDetections = det.reduce((a, r) => a + r.gapDetections, 0);
    const nonNull = (xs: readonly (number | null)[]): number[] => xs.filter((x): x is number => x !== null);
    return {
      processorName,
      runs: dep?.totalRuns ?? 0,
      gapDetections,
      missingDatesDetected: det.reduce((a, r) => a + r.totalMissingDates, 0),
      gapDetectionsPerDay: gapDetections / days,
      detectionsByDay: det.map((r) => ({ date: r.date, gapDetections: r.gapDetections, totalMissingDates: r.totalMissingDates })),
      backfills: {
        total: st?.total ?? 0,
        queued: st?.queued ?? 0,
        processing: st?.processing ?? 0,
        completed: st?.completed ?? 0,
        failed: st?.failed ?? 0,
      },
      successRate: st?.successRate ?? null,
      backfillDuration: st?.duration ?? summarizeDurations([]),
      gapEpisodes: eps.length,
      recovered: eps.filter((e) => e.recoveredAt !== null).length,
      timeToFill: recoverySummary(nonNull(eps.map((e) => e.detectionToFilledMs))),
      timeToRecovery: recoverySummary(nonNull(eps.map((e) => e.detectionToRecoveredMs))),
      runsHeld: dep?.heldRuns ?? 0,
      escalations: dep?.escalations ?? 0,
      alertsOpened: (alertsBy.get(processorName) ?? []).filter((a) => inWindow(a.openedAt, w)).length,
      heldNow: (heldBy.get(processorName) ?? []).filter((h) => h.status === 'held').length,
      openAlerts: (alertsBy.get(processorName) ?? []).filter((a) => a.resolvedAt === null).length,
      dependencyFailurePct: dep?.dependencyFailurePct ?? null,
    };
  });
  return { since: w.since, until: w.until, days: (w.until - w.since) / DAY_MS, processors };
};

/** The dates of a metrics window as the seed's queries would name them. */
export const windowDates = (r: Pick<MetricsReport, 'since' | 'until'>): { readonly from: IsoDate; readonly to: IsoDate } => ({
  from: utcDateOf(r.since),
  to: utcDateOf(Math.max(r.since, r.until - 1)),
});
