import type { GapPolicy } from '@smart-backfill/core';

/** The nearest-rank `p` percentile of `xs`, or null when there are none. */
export const percentile = (xs: readonly number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] as number;
};

/** What one simulation found. Every figure is a count unless named otherwise; times are simulated minutes. */
export interface SimulationReport {
  readonly seed: number;
  readonly processors: number;
  readonly days: number;
  readonly policy: GapPolicy;
  /** Faults injected. */
  readonly injected: {
    readonly failedRuns: number;
    readonly partialWrites: number;
    readonly outages: number;
    readonly outageDays: number;
    readonly failedBackfillRuns: number;
    readonly publishFailures: number;
    readonly ambiguousPublishes: number;
    readonly trackerInsertFailures: number;
    readonly lostAcks: number;
    readonly workerCrashes: number;
    readonly crashesByPoint: Readonly<Record<string, number>>;
  };
  /** Gap episodes: a processor's stretch from its first missing date until nothing is missing again. */
  readonly gaps: {
    readonly created: number;
    readonly recoveredAutomatically: number;
    readonly escalated: number;
    readonly unhealedAtEnd: number;
    /** Largest gap the guard saw was at most the threshold. */
    readonly small: number;
    readonly large: number;
    /** Small gaps that needed a person, an alert, or never healed (the claim says 0). */
    readonly smallNeedingPerson: number;
    /** Small gaps escalated because one date's backfill failed `maxAttempts` times: the policy at work, not a lapse. */
    readonly smallEscalatedForFailingBackfills: number;
    /** Large gaps no person was told about (the claim says 0). */
    readonly largeNotAlerted: number;
    /** Large gaps whose injected cause was itself within the threshold: they grew while runs were held. */
    readonly grewPastThreshold: number;
  };
  /** Tracked requests still queued or processing at the end. */
  readonly lostRequests: number;
  /** Dates missing at the end that were never requested nor escalated. */
  readonly lostDates: number;
  /** Dates missing at the end, in all. */
  readonly missingDatesAtEnd: number;
  /** Moments (checked after every step) with two active requests for one (processor, date). */
  readonly duplicateActiveMoments: number;
  readonly runsHeld: number;
  /** Held runs still `held` at the end although their date has its data. */
  readonly staleHeldRuns: number;
  /** A few stale held runs, with the awaited dates that never got a completed request. */
  readonly staleHeldExamples: readonly string[];
  /** From the first check that saw a gap to the moment nothing was missing. */
  readonly recoveryMinutes: { readonly median: number | null; readonly p90: number | null; readonly max: number | null };
  /** The gap that took longest, described. */
  readonly slowestRecovery: string | null;
  readonly manualInterventions: number;
  readonly alerts: {
    readonly escalatedNotices: number;
    /** Escalation notices naming a date an earlier escalation already named: a person told twice (the claim says 0). */
    readonly repeatAlerts: number;
    readonly healedNotices: number;
    readonly reminderNotices: number;
    /** Escalation notices per escalated gap. */
    readonly perEscalatedGap: { readonly min: number | null; readonly max: number | null; readonly mean: number | null };
  };
  readonly requests: {
    readonly created: number;
    readonly completed: number;
    readonly failed: number;
    readonly manual: number;
    readonly maxAttempt: number;
    readonly maxDeliveriesOfOneMessage: number;
  };
  readonly simulatedDays: number;
  readonly steps: number;
  /** Each broken promise, spelled out (empty when all hold). */
  readonly violations: readonly string[];
}

const fmt = (v: number | null): string => (v === null ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(2));

/** The report as an aligned two-column text table. */
export const formatReport = (r: SimulationReport): string => {
  const rows: [string, string][] = [
    ['seed', String(r.seed)],
    ['processors × days', `${r.processors} × ${r.days}`],
    [
      'policy',
      `threshold ${r.policy.autoBackfillThreshold}, lookback ${r.policy.lookbackDays}, maxAttempts ${r.policy.maxAttempts}, blockOn ${r.policy.blockOn}`,
    ],
    ['— injected', ''],
    ['failed daily runs', String(r.injected.failedRuns)],
    ['partial writes', String(r.injected.partialWrites)],
    ['outages (days)', `${r.injected.outages} (${r.injected.outageDays})`],
    ['failed backfill runs', String(r.injected.failedBackfillRuns)],
    ['publish failures (ambiguous)', `${r.injected.publishFailures} (${r.injected.ambiguousPublishes})`],
    ['tracker insert failures', String(r.injected.trackerInsertFailures)],
    ['lost acks (redeliveries)', String(r.injected.lostAcks)],
    ['worker crashes', `${r.injected.workerCrashes} ${JSON.stringify(r.injected.crashesByPoint)}`],
    ['— gaps', ''],
    ['gaps created', String(r.gaps.created)],
    ['recovered automatically', String(r.gaps.recoveredAutomatically)],
    ['escalated', String(r.gaps.escalated)],
    ['unhealed at end', String(r.gaps.unhealedAtEnd)],
    ['small / large', `${r.gaps.small} / ${r.gaps.large}`],
    ['small gaps needing a person', String(r.gaps.smallNeedingPerson)],
    ['small gaps escalated: backfill kept failing', String(r.gaps.smallEscalatedForFailingBackfills)],
    ['large gaps never alerted', String(r.gaps.largeNotAlerted)],
    ['repeat alerts (a date alerted twice)', String(r.alerts.repeatAlerts)],
    ['grew past threshold while held', String(r.gaps.grewPastThreshold)],
    ['— safety', ''],
    ['lost requests', String(r.lostRequests)],
    ['lost dates', String(r.lostDates)],
    ['missing dates at end', String(r.missingDatesAtEnd)],
    ['two active requests, moments', String(r.duplicateActiveMoments)],
    ['— operations', ''],
    ['runs held', String(r.runsHeld)],
    ['stale held runs at end', String(r.staleHeldRuns)],
    ...r.staleHeldExamples.map((e): [string, string] => ['  e.g.', e]),
    [
      'time to recovery, min (median/p90/max)',
      `${fmt(r.recoveryMinutes.median)} / ${fmt(r.recoveryMinutes.p90)} / ${fmt(r.recoveryMinutes.max)}`,
    ],
    ['slowest recovery', r.slowestRecovery ?? '-'],
    ['manual interventions', String(r.manualInterventions)],
    ['escalation notices (healed, reminders)', `${r.alerts.escalatedNotices} (${r.alerts.healedNotices}, ${r.alerts.reminderNotices})`],
    [
      'notices per escalated gap (min/mean/max)',
      `${fmt(r.alerts.perEscalatedGap.min)} / ${fmt(r.alerts.perEscalatedGap.mean)} / ${fmt(r.alerts.perEscalatedGap.max)}`,
    ],
    ['requests (completed, failed, manual)', `${r.requests.created} (${r.requests.completed}, ${r.requests.failed}, ${r.requests.manual})`],
    ['max attempt / max deliveries of a message', `${r.requests.maxAttempt} / ${r.requests.maxDeliveriesOfOneMessage}`],
    ['simulated days / steps', `${r.simulatedDays} / ${r.steps}`],
    ['violations', r.violations.length === 0 ? 'none' : String(r.violations.length)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => (v === '' ? k : `${k.padEnd(w)}  ${v}`));
  for (const v of r.violations.slice(0, 20)) lines.push(`  ! ${v}`);
  if (r.violations.length > 20) lines.push(`  ! … ${r.violations.length - 20} more`);
  return lines.join('\n');
};
