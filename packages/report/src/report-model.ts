import {
  addDays,
  detectedGapDates,
  timeToRecovery,
  toEpochDay,
  type Assessment,
  type BackfillRequest,
  type HeldRun,
  type IsoDate,
  type PolicySuggestion,
  type RunRecord,
} from '@smart-backfill/core';
import { buildCalendarModel, type CalendarModel, type CalendarModelInput } from './calendar-model.js';
import type { DayState } from './day-state.js';

/** One processor's data for the report: its calendar's input plus run history. */
export interface ProcessorReportInput extends CalendarModelInput {
  /** Runs started in the range (time to recovery). */
  readonly runs?: Iterable<RunRecord> | undefined;
  readonly heldRuns?: Iterable<HeldRun> | undefined;
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
  readonly processors: readonly ProcessorReportInput[];
  /** Rows in the recent requests and held runs tables (default 25). */
  readonly recentLimit?: number | undefined;
}

/** The figures at the top of the report. */
export interface ReportKpis {
  /**
   * Scheduled dates in the period (up to yesterday) lacking enough rows now, or that a check
   * found missing (held runs, automatic requests, alerts). A manual request alone is not a gap.
   */
  readonly gaps: number;
  /** Gap dates now complete whose last completed backfill was automatic. */
  readonly healedAutomatically: number;
  /** Gap dates now complete through a manual backfill. */
  readonly healedManually: number;
  /** Gap dates now complete without a completed backfill (late data, a processor re-run outside smart-backfill). */
  readonly healedOtherwise: number;
  /** Gap dates still not complete. */
  readonly open: number;
  /** Median from the first run that found a gap to the held run succeeding; `null` when none recovered. */
  readonly medianTimeToRecoveryMs: number | null;
  readonly recoveredGaps: number;
  /** Completed / (completed + failed) backfills for dates in the period; `null` when none finished. */
  readonly successRate: number | null;
  readonly finishedBackfills: number;
}

export interface RequestRow {
  readonly processorName: string;
  readonly gameDate: IsoDate;
  readonly requestType: BackfillRequest['requestType'];
  readonly status: BackfillRequest['status'];
  readonly attempt: number;
  readonly requestedBy: string;
  readonly requestedAt: number;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  readonly errorMessage: string | null;
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
  readonly generatedAt: number;
  readonly start: IsoDate;
  readonly end: IsoDate;
  readonly kpis: ReportKpis;
  readonly processors: readonly ProcessorReport[];
  /** Newest first, all processors. */
  readonly recentRequests: readonly RequestRow[];
  /** Waiting ones first, then the most recently held. */
  readonly heldRuns: readonly HeldRun[];
}

const GAP_STATES: ReadonlySet<DayState> = new Set<DayState>(['incomplete', 'missing', 'queued', 'processing', 'failed', 'escalated']);
const DAY_MS = 86_400_000;
const EVER = { since: -Infinity, until: Infinity };

const median = (xs: readonly number[]): number | null => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return null;
  return n % 2 === 1 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
};

interface Tally {
  gaps: number;
  healedAutomatically: number;
  healedManually: number;
  healedOtherwise: number;
  open: number;
  recovery: number[];
  completed: number;
  failed: number;
}

const kpisOf = (t: Tally): ReportKpis => ({
  gaps: t.gaps,
  healedAutomatically: t.healedAutomatically,
  healedManually: t.healedManually,
  healedOtherwise: t.healedOtherwise,
  open: t.open,
  medianTimeToRecoveryMs: median(t.recovery),
  recoveredGaps: t.recovery.length,
  successRate: t.completed + t.failed === 0 ? null : t.completed / (t.completed + t.failed),
  finishedBackfills: t.completed + t.failed,
});

const tallyProcessor = (
  p: ProcessorReportInput,
  cal: CalendarModel,
  requests: readonly BackfillRequest[],
  runs: readonly RunRecord[],
): Tally => {
  // The period's gaps are judged up to the day before `today`: today's data is still being produced.
  const lastJudged = addDays(cal.today, -1);
  const inPeriod = (d: IsoDate): boolean => d >= cal.start && d <= cal.end && d <= lastJudged;
  const cellOf = new Map(cal.days.map((c) => [c.date, c] as const));
  const gapDates = new Set<IsoDate>();
  for (const c of cal.days) if (GAP_STATES.has(c.state) && c.expected && inPeriod(c.date)) gapDates.add(c.date);
  const lastCompleted = new Map<IsoDate, BackfillRequest>();
  const t: Tally = {
    gaps: 0,
    healedAutomatically: 0,
    healedManually: 0,
    healedOtherwise: 0,
    open: 0,
    recovery: [],
    completed: 0,
    failed: 0,
  };
  for (const r of requests) {
    if (!inPeriod(r.gameDate)) continue;
    if (r.status === 'completed') {
      t.completed++;
      const cur = lastCompleted.get(r.gameDate);
      if (cur === undefined || (r.completedAt ?? 0) > (cur.completedAt ?? 0)) lastCompleted.set(r.gameDate, r);
    } else if (r.status === 'failed') t.failed++;
  }
  for (const a of p.alerts ?? [])
    if (a.processorName === p.processorName)
      for (const d of a.missingDates) if (inPeriod(d) && cellOf.get(d)?.expected === true) gapDates.add(d);
  // Dates a check found missing (held runs, automatic requests); a manual request — a rebuild — is not a gap.
  for (const d of detectedGapDates(runs, requests, EVER)) if (inPeriod(d) && cellOf.get(d)?.expected === true) gapDates.add(d);
  for (const d of gapDates) {
    t.gaps++;
    if (cellOf.get(d)?.state !== 'complete') t.open++;
    else {
      const by = lastCompleted.get(d)?.requestType;
      if (by === 'auto') t.healedAutomatically++;
      else if (by === 'manual') t.healedManually++;
      else t.healedOtherwise++;
    }
  }
  const since = toEpochDay(cal.start) * DAY_MS;
  const until = (toEpochDay(cal.end) + 1) * DAY_MS;
  for (const e of timeToRecovery(runs, requests, { since, until }))
    if (e.detectionToRecoveredMs !== null) t.recovery.push(e.detectionToRecoveredMs);
  return t;
};

/**
 * Calendars, KPIs and tables for the HTML report, from plain records. Pure and
 * JSON-safe: a test can compare the page it renders with this model.
 */
export const buildReportModel = (input: ReportInput): ReportModel => {
  if (input.processors.length === 0) throw new RangeError('[smart-backfill] [report] a report needs at least one processor');
  const limit = input.recentLimit ?? 25;
  const total: Tally = {
    gaps: 0,
    healedAutomatically: 0,
    healedManually: 0,
    healedOtherwise: 0,
    open: 0,
    recovery: [],
    completed: 0,
    failed: 0,
  };
  const allRequests: BackfillRequest[] = [];
  const allHeld: HeldRun[] = [];
  const processors = input.processors.map((p): ProcessorReport => {
    const calendar = buildCalendarModel(p);
    const requests = [...(p.requests ?? [])].filter((r) => r.processorName === p.processorName);
    const runs = [...(p.runs ?? [])].filter((r) => r.processorName === p.processorName);
    const t = tallyProcessor(p, calendar, requests, runs);
    total.gaps += t.gaps;
    total.healedAutomatically += t.healedAutomatically;
    total.healedManually += t.healedManually;
    total.healedOtherwise += t.healedOtherwise;
    total.open += t.open;
    total.recovery.push(...t.recovery);
    total.completed += t.completed;
    total.failed += t.failed;
    allRequests.push(...requests);
    allHeld.push(...[...(p.heldRuns ?? [])].filter((h) => h.processorName === p.processorName));
    return { calendar, kpis: kpisOf(t), assessment: p.assessment ?? null, suggestion: p.suggestion ?? null, nextSteps: p.nextSteps ?? [] };
  });
  const starts = processors.map((p) => p.calendar.start).sort();
  const ends = processors.map((p) => p.calendar.end).sort();
  return {
    title: input.title ?? 'smart-backfill gap report',
    generatedAt: input.generatedAt,
    start: starts[0] as IsoDate,
    end: ends[ends.length - 1] as IsoDate,
    kpis: kpisOf(total),
    processors,
    recentRequests: allRequests
      .sort((a, b) => b.requestedAt - a.requestedAt || (a.gameDate < b.gameDate ? 1 : -1))
      .slice(0, limit)
      .map((r) => ({
        processorName: r.processorName,
        gameDate: r.gameDate,
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
  };
};
