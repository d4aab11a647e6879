import {
  addDays,
  healedGaps,
  medianOf,
  toEpochDay,
  type Assessment,
  type BackfillRequest,
  type HeldRun,
  type IsoDate,
  type PipelineRow,
  type PolicySuggestion,
  type RunRecord,
  type UpstreamGap,
} from '@smart-backfill/core';
import { buildCalendarModel, GAP_STATES, type CalendarModel, type CalendarModelInput } from './calendar-model.js';
import { DAY_STATES, DAY_STYLES, type DayState } from './day-state.js';

/** One processor's data for the report: its calendar's input (runs included: time to recovery) plus run history. */
export interface ProcessorReportInput extends CalendarModelInput {
  readonly heldRuns?: Iterable<HeldRun> | undefined;
  /**
   * For its runs held for their inputs (by run date): the upstream gaps that hold each, as its
   * run record stored them (`null`: no record names them). Absent for a processor without inputs.
   */
  readonly heldForInputs?: ReadonlyMap<IsoDate, readonly UpstreamGap[] | null> | undefined;
  /** The "is this needed?" verdict for the processor, when computed. */
  readonly assessment?: Assessment | undefined;
  readonly suggestion?: PolicySuggestion | undefined;
  /** What to do next, one sentence each (see `nextSteps`). */
  readonly nextSteps?: readonly string[] | undefined;
}

export interface ReportInput {
  readonly title?: string | undefined;
  /** When the report was made (epoch ms), printed in its header. */
  readonly generatedAt: number;
  /** Processors in the order given: a caller with a pipeline passes them in dependency order. */
  readonly processors: readonly ProcessorReportInput[];
  /**
   * The dependency graph's rows, in dependency order, when processors declare `dependsOn`:
   * the report then lists one row per processor with its level and what holds its runs.
   */
  readonly pipeline?: readonly PipelineRow[] | undefined;
  /** Rows in the recent requests and held runs tables (default 25). */
  readonly recentLimit?: number | undefined;
  /**
   * Words for the states where the data has its own (the NBA demo says "no games"
   * for `nothing_scheduled`); the rest keep `DAY_STYLES`' neutral labels.
   */
  readonly stateLabels?: Partial<Record<DayState, string>> | undefined;
}

/** The figures at the top of the report. */
export interface ReportKpis {
  /**
   * Gap dates: scheduled dates in the period (up to yesterday) that lacked enough rows at some
   * point or that a check found missing (`DayCell.wasGap`). A manual request alone is not a gap.
   */
  readonly gaps: number;
  /** Gap dates now `healed_auto`: the last completed backfill was automatic. */
  readonly healedAutomatically: number;
  /** Gap dates now `healed_manual`: healed by a manual backfill. */
  readonly healedManually: number;
  /** Gap dates now `healed_other`: complete without a completed backfill (late data, a processor re-run outside smart-backfill). */
  readonly healedOtherwise: number;
  /** Gap dates still not complete. */
  readonly open: number;
  /** Gaps (core `healedGaps`: one outage is one gap, however many dates and held runs) first found in the period. */
  readonly detectedGaps: number;
  /** Time to recovery of each healed gap, oldest detection first: the figures the CLI prints. */
  readonly timesToRecoveryMs: readonly number[];
  /** Median of `timesToRecoveryMs`; `null` when no gap healed. */
  readonly medianTimeToRecoveryMs: number | null;
  /** How many gaps healed (`timesToRecoveryMs.length`). */
  readonly recoveredGaps: number;
  /** Completed / (completed + failed) backfills for dates in the period; `null` when none finished. */
  readonly successRate: number | null;
  readonly finishedBackfills: number;
}

export interface RequestRow {
  readonly processorName: string;
  readonly date: IsoDate;
  readonly requestType: BackfillRequest['requestType'];
  readonly status: BackfillRequest['status'];
  readonly attempt: number;
  readonly requestedBy: string;
  readonly requestedAt: number;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  readonly errorMessage: string | null;
}

/** A held run as the report lists it: for a run held for its inputs, which upstream gaps hold it. */
export interface HeldRunRow extends HeldRun {
  /** Set only for a run held for its inputs: the stored upstream gaps (`null`: no record names them). */
  readonly waitingForUpstream?: readonly UpstreamGap[] | null;
}

/** One processor of the pipeline: its level, what it reads, and its runs held for their inputs, oldest first. */
export interface PipelineReportRow extends PipelineRow {
  readonly heldForInputs: readonly { readonly runDate: IsoDate; readonly gaps: readonly UpstreamGap[] | null }[];
}

export interface ProcessorReport {
  readonly calendar: CalendarModel;
  readonly kpis: ReportKpis;
  readonly assessment: Assessment | null;
  readonly suggestion: PolicySuggestion | null;
  readonly nextSteps: readonly string[];
}

/** Everything `renderReportHtml` draws; plain JSON-safe data. */
export interface ReportModel {
  readonly title: string;
  /** The label of every state as this report words it. */
  readonly stateLabels: Readonly<Record<DayState, string>>;
  readonly generatedAt: number;
  readonly start: IsoDate;
  readonly end: IsoDate;
  readonly kpis: ReportKpis;
  readonly processors: readonly ProcessorReport[];
  /** Newest first, all processors. */
  readonly recentRequests: readonly RequestRow[];
  /** Waiting ones first, then the most recently held. */
  readonly heldRuns: readonly HeldRunRow[];
  /** One row per processor in dependency order; empty when no processor declares `dependsOn`. */
  readonly pipeline: readonly PipelineReportRow[];
}

const DAY_MS = 86_400_000;

interface Tally {
  gaps: number;
  healedAutomatically: number;
  healedManually: number;
  healedOtherwise: number;
  open: number;
  detectedGaps: number;
  recovery: number[];
  completed: number;
  failed: number;
}

const emptyTally = (): Tally => ({
  gaps: 0,
  healedAutomatically: 0,
  healedManually: 0,
  healedOtherwise: 0,
  open: 0,
  detectedGaps: 0,
  recovery: [],
  completed: 0,
  failed: 0,
});

const kpisOf = (t: Tally): ReportKpis => ({
  gaps: t.gaps,
  healedAutomatically: t.healedAutomatically,
  healedManually: t.healedManually,
  healedOtherwise: t.healedOtherwise,
  open: t.open,
  detectedGaps: t.detectedGaps,
  timesToRecoveryMs: t.recovery,
  medianTimeToRecoveryMs: medianOf(t.recovery),
  recoveredGaps: t.recovery.length,
  successRate: t.completed + t.failed === 0 ? null : t.completed / (t.completed + t.failed),
  finishedBackfills: t.completed + t.failed,
});

/** The figures are the calendar's cells counted, so a tile and the legend never disagree. */
const tallyProcessor = (cal: CalendarModel, requests: readonly BackfillRequest[], runs: readonly RunRecord[]): Tally => {
  const t = emptyTally();
  for (const c of cal.days) {
    if (!c.wasGap) continue;
    t.gaps++;
    if (c.state === 'healed_auto') t.healedAutomatically++;
    else if (c.state === 'healed_manual') t.healedManually++;
    else if (c.state === 'healed_other') t.healedOtherwise++;
    else if (GAP_STATES.has(c.state)) t.open++;
  }
  // Backfills of dates up to yesterday: today's data is still being produced.
  const lastJudged = addDays(cal.today, -1);
  for (const r of requests) {
    if (r.date < cal.start || r.date > cal.end || r.date > lastJudged) continue;
    if (r.status === 'completed') t.completed++;
    else if (r.status === 'failed') t.failed++;
  }
  const since = toEpochDay(cal.start) * DAY_MS;
  const until = (toEpochDay(cal.end) + 1) * DAY_MS;
  const gaps = healedGaps(runs, requests, { since, until });
  t.detectedGaps = gaps.length;
  for (const g of gaps) if (g.timeToRecoveryMs !== null) t.recovery.push(g.timeToRecoveryMs);
  return t;
};

/**
 * Calendars, KPIs and tables for the HTML report, from plain records. Pure and
 * JSON-safe: a test can compare the page it renders with this model.
 */
export const buildReportModel = (input: ReportInput): ReportModel => {
  if (input.processors.length === 0) throw new RangeError('[smart-backfill] [report] a report needs at least one processor');
  const limit = input.recentLimit ?? 25;
  const total = emptyTally();
  const allRequests: BackfillRequest[] = [];
  const allHeld: HeldRunRow[] = [];
  const processors = input.processors.map((p): ProcessorReport => {
    const calendar = buildCalendarModel(p);
    const requests = [...(p.requests ?? [])].filter((r) => r.processorName === p.processorName);
    const runs = [...(p.runs ?? [])].filter((r) => r.processorName === p.processorName);
    const t = tallyProcessor(calendar, requests, runs);
    total.gaps += t.gaps;
    total.healedAutomatically += t.healedAutomatically;
    total.healedManually += t.healedManually;
    total.healedOtherwise += t.healedOtherwise;
    total.open += t.open;
    total.detectedGaps += t.detectedGaps;
    total.recovery.push(...t.recovery);
    total.completed += t.completed;
    total.failed += t.failed;
    allRequests.push(...requests);
    for (const h of p.heldRuns ?? []) {
      if (h.processorName !== p.processorName) continue;
      const gaps = p.heldForInputs?.get(h.runDate);
      allHeld.push(gaps === undefined ? h : { ...h, waitingForUpstream: gaps });
    }
    return { calendar, kpis: kpisOf(t), assessment: p.assessment ?? null, suggestion: p.suggestion ?? null, nextSteps: p.nextSteps ?? [] };
  });
  const heldFor = new Map(input.processors.map((p) => [p.processorName, p.heldForInputs]));
  const pipeline = (input.pipeline ?? []).map((r): PipelineReportRow => ({
    ...r,
    heldForInputs: [...(heldFor.get(r.processor)?.entries() ?? [])]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([runDate, gaps]) => ({ runDate, gaps })),
  }));
  const starts = processors.map((p) => p.calendar.start).sort();
  const ends = processors.map((p) => p.calendar.end).sort();
  return {
    title: input.title ?? 'smart-backfill gap report',
    stateLabels: Object.fromEntries(DAY_STATES.map((s) => [s, input.stateLabels?.[s] ?? DAY_STYLES[s].label])) as Record<DayState, string>,
    generatedAt: input.generatedAt,
    start: starts[0] as IsoDate,
    end: ends[ends.length - 1] as IsoDate,
    kpis: kpisOf(total),
    processors,
    recentRequests: allRequests
      .sort((a, b) => b.requestedAt - a.requestedAt || (a.date < b.date ? 1 : -1))
      .slice(0, limit)
      .map((r) => ({
        processorName: r.processorName,
        date: r.date,
        requestType: r.requestType,
        status: r.status,
        attempt: r.attempt,
        requestedBy: r.requestedBy,
        requestedAt: r.requestedAt,
        startedAt: r.startedAt,
        completedAt: r.completedAt,
        errorMessage: r.errorMessage,
      })),
    heldRuns: allHeld.sort((a, b) => (a.status === 'held' ? 0 : 1) - (b.status === 'held' ? 0 : 1) || b.heldAt - a.heldAt).slice(0, limit),
    pipeline,
  };
};
