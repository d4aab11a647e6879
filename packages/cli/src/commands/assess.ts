import {
  addDays,
  analyzeGaps,
  assess,
  dependencyFailureRate,
  detectedGapDates,
  gapDatesOfRun,
  toEpochDay,
  toRuns,
  utcDateOf,
  GAP_SKIP_REASONS,
  type Assessment,
  type IsoDate,
  type Measurement,
  type PolicySuggestion,
  type SignalName,
} from '@smart-backfill/core';
import { nextSteps, policyJson } from '@smart-backfill/report';
import { badInput, messageOf } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { configOption, dateOption, intOption, switchOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime/runtime.js';
import { withRuntime } from './shared.js';

const DAY_MS = 86_400_000;

export interface AssessOptions {
  /** How many days back to look (the seed: 30). */
  readonly days: number;
  /** The last day of the period; the window is the `days` days before it (today's data is not due yet). */
  readonly today: IsoDate;
  /** Minutes per week spent on manual backfills, when a person tracked them (overrides the tracker). */
  readonly manualMinutesPerWeek?: number | undefined;
  readonly alternativesConsidered?: boolean | undefined;
  /** The longest look-back the processor's logic needs, for the suggested `lookbackDays`. */
  readonly dependencyDays?: number | undefined;
}

/** The numbers behind each check, or why it could not be computed. */
export interface GapFrequencyFigures {
  readonly windowStart: IsoDate;
  readonly windowEnd: IsoDate;
  /** Scheduled dates in the window. */
  readonly expectedDates: number;
  /** Scheduled dates lacking enough rows now (`analyzeGaps` over the window). */
  readonly missingNow: readonly IsoDate[];
  /** Dates complete now that a check saw missing (held runs, automatic requests; never manual ones): healed since. */
  readonly healedSince: readonly IsoDate[];
  readonly gaps: number;
  /** `gaps × 30 / days`: the seed's figure. */
  readonly gapsPer30Days: number;
}

export interface DependencyFigures {
  /** Scheduled runs in the period: the denominator (backfill, resume, cascade and manual runs are left out). */
  readonly runs: number;
  /** Every run in the period, whatever its trigger. */
  readonly allRuns: number;
  readonly dependencyFailures: number;
  readonly heldRuns: number;
  readonly escalations: number;
  readonly dependencyErrors: number;
  readonly failedRuns: number;
  readonly pct: number;
}

export interface ManualFigures {
  /** `tracker` (manual requests' durations) or `option` (`--manual-minutes`). */
  readonly source: 'tracker' | 'option';
  readonly manualRequests: number;
  /** Manual requests finished (completed or failed) with a duration. */
  readonly timed: number;
  readonly totalMinutes: number;
  readonly minutesPerWeek: number;
}

export interface NotComputed {
  readonly signal: SignalName;
  readonly reason: string;
}

export interface ProcessorAssessment {
  readonly processorName: string;
  readonly days: number;
  readonly today: IsoDate;
  readonly gapFrequency: GapFrequencyFigures | null;
  readonly dependencyFailures: DependencyFigures | null;
  readonly manualBackfill: ManualFigures | null;
  /** Checks that could not be computed, each with why. */
  readonly notComputed: readonly NotComputed[];
  readonly assessment: Assessment;
  readonly suggestion: PolicySuggestion;
  readonly nextSteps: readonly string[];
}

const unmeasured = (reason: string): Measurement => ({ value: null, reason });

/**
 * The seed's three checks for one processor, measured from the store: gap
 * frequency from the schedule and target table (works with no smart-backfill
 * history), dependency failures from the run log, manual backfill time from
 * manual requests. Then core's `assess` and `suggestPolicy`.
 */
export const gatherAssessment = async (rt: Runtime, name: string, o: AssessOptions): Promise<ProcessorAssessment> => {
  const p = rt.processorConfig(name);
  const until = (toEpochDay(o.today) + 1) * DAY_MS;
  const since = until - o.days * DAY_MS;
  const window = { since, until };
  const windowStart = addDays(o.today, -o.days);
  const windowEnd = addDays(o.today, -1);
  const notComputed: NotComputed[] = [];

  const [runs, requestsSince, anyRequest, windowRequests] = await Promise.all([
    rt.runLog.runs({ processorName: name, since }),
    rt.tracker.list({ processorName: name, since }),
    rt.tracker.list({ processorName: name, limit: 1 }),
    rt.tracker.forWindow({ processorName: name, start: windowStart, end: windowEnd }),
  ]);
  const periodRuns = runs.filter((r) => r.startedAt < until);
  const periodRequests = requestsSince.filter((r) => r.requestedAt < until);

  // 1. Gap frequency: the schedule against the target table, like the seed's Query 1.
  let gapFrequency: GapFrequencyFigures | null = null;
  let gapsMeasure: Measurement;
  let rowsPerDate: number[] = [];
  let observedGapSizes: number[] = [];
  try {
    const data = await rt.windowFor(p).readWindow({ processorName: name, start: windowStart, end: windowEnd });
    const a = analyzeGaps({
      asOf: o.today,
      expectedDates: data.expectedDates,
      recordCounts: data.recordCounts,
      policy: {
        lookbackDays: o.days,
        criticalLookbackDays: Math.min(p.policy.criticalLookbackDays, o.days),
        minRecordsPerDate: p.policy.minRecordsPerDate,
      },
    });
    const expected = new Set(data.expectedDates.filter((d) => d >= windowStart && d <= windowEnd));
    const missing = new Set(a.missingDates);
    // Dates a check saw missing and that are complete now still were gaps; a manual request is not a gap.
    const seen = [...detectedGapDates(periodRuns, windowRequests, window)].filter((d) => expected.has(d));
    const healedSince = seen.filter((d) => !missing.has(d)).sort();
    const gaps = missing.size + healedSince.length;
    gapFrequency = {
      windowStart,
      windowEnd,
      expectedDates: expected.size,
      missingNow: a.missingDates,
      healedSince,
      gaps,
      gapsPer30Days: (gaps * 30) / o.days,
    };
    rowsPerDate = [...expected].map((d) => data.recordCounts.get(d) ?? 0);
    observedGapSizes = toRuns([...missing, ...healedSince]).map(
      (run) => [...missing, ...healedSince].filter((d) => d >= run.start && d <= run.end).length,
    );
    gapsMeasure =
      expected.size === 0
        ? unmeasured(
            `no schedule rows: the schedule table "${p.schedule.table}" lists no dates from ${windowStart} to ${windowEnd}` +
              (p.schedule.statuses !== undefined
                ? ` with ${p.schedule.statusColumn ?? 'status'} in ${JSON.stringify(p.schedule.statuses)}`
                : ''),
          )
        : gapFrequency.gapsPer30Days;
  } catch (e) {
    gapsMeasure = unmeasured(
      `could not read the schedule table "${p.schedule.table}" or the target table "${p.target.table}": ${messageOf(e)}`,
    );
  }

  // 2. Dependency failures from the run log.
  const dep = dependencyFailureRate(periodRuns, window).overall;
  const dependencyFailures: DependencyFigures | null =
    dep.dependencyFailurePct === null
      ? null
      : {
          runs: dep.scheduledRuns,
          allRuns: dep.totalRuns,
          dependencyFailures: dep.dependencyFailures,
          heldRuns: dep.heldRuns,
          escalations: dep.escalations,
          dependencyErrors: dep.dependencyErrors,
          failedRuns: dep.failedRuns,
          pct: dep.dependencyFailurePct,
        };
  const depMeasure: Measurement =
    dependencyFailures === null
      ? unmeasured(
          `no scheduled runs of ${name} in the run log from ${windowStart} to ${o.today}` +
            (dep.totalRuns > 0 ? ` (${dep.totalRuns} backfill, resume or manual run(s) do not count)` : '') +
            ': scheduled runs are recorded when they go through `smart-backfill run` or the guard',
        )
      : dependencyFailures.pct;

  // 3. Manual backfill time: manual requests' durations, per week.
  const weeks = o.days / 7;
  let manualBackfill: ManualFigures | null = null;
  let manualMeasure: Measurement;
  const manual = periodRequests.filter((r) => r.requestType === 'manual');
  if (o.manualMinutesPerWeek !== undefined) {
    manualBackfill = {
      source: 'option',
      manualRequests: manual.length,
      timed: 0,
      totalMinutes: o.manualMinutesPerWeek * weeks,
      minutesPerWeek: o.manualMinutesPerWeek,
    };
    manualMeasure = o.manualMinutesPerWeek;
  } else if (anyRequest.length === 0) {
    manualMeasure = unmeasured(
      `no backfill requests were ever tracked for ${name}: manual backfills done outside smart-backfill leave no trace (pass --manual-minutes <per week>)`,
    );
  } else {
    let ms = 0;
    let timed = 0;
    for (const r of manual) {
      if (r.startedAt !== null && r.completedAt !== null && (r.status === 'completed' || r.status === 'failed')) {
        ms += r.completedAt - r.startedAt;
        timed++;
      }
    }
    const totalMinutes = ms / 60_000;
    manualBackfill = { source: 'tracker', manualRequests: manual.length, timed, totalMinutes, minutesPerWeek: totalMinutes / weeks };
    manualMeasure = manualBackfill.minutesPerWeek;
  }

  for (const [signal, m] of [
    ['gapsPer30Days', gapsMeasure],
    ['dependencyFailurePct', depMeasure],
    ['manualBackfillMinutesPerWeek', manualMeasure],
  ] as const) {
    if (typeof m === 'object' && m !== null) notComputed.push({ signal, reason: m.reason });
  }

  const detectedSizes = periodRuns
    .filter((r) => r.skipReason !== null && GAP_SKIP_REASONS.includes(r.skipReason))
    .map((r) => r.metadata.gap_size ?? gapDatesOfRun(r).length);
  const assessment = assess({
    gapsPer30Days: gapsMeasure,
    dependencyFailurePct: depMeasure,
    manualBackfillMinutesPerWeek: manualMeasure,
    ...(o.alternativesConsidered === true ? { simplerAlternativesConsidered: true } : {}),
    policyHistory: {
      rowsPerDate: rowsPerDate.filter((n) => n > 0),
      gapSizes: detectedSizes.length > 0 ? detectedSizes : observedGapSizes,
      ...(o.dependencyDays !== undefined ? { longestDependencyDays: o.dependencyDays } : {}),
      base: p.policy,
    },
  });
  const suggestion = assessment.suggestion;
  return {
    processorName: name,
    days: o.days,
    today: o.today,
    gapFrequency,
    dependencyFailures,
    manualBackfill,
    notComputed,
    assessment,
    suggestion,
    nextSteps: nextSteps(assessment, { processorName: name, suggestion }),
  };
};

const num = (n: number): string => (Number.isInteger(n) ? String(n) : (Math.round(n * 100) / 100).toString());

const VERDICT_TEXT: Record<Assessment['verdict'], string> = {
  implement: 'IMPLEMENT',
  monitor: 'MONITOR',
  not_needed: 'NOT NEEDED',
  unknown: 'UNKNOWN',
};
const MARK = { passed: '[x]', failed: '[ ]', unknown: '[?]' } as const;

/** Human lines for one processor's assessment: core's verdict, reasons and checklist as they are, nothing re-decided. */
export const printAssessment = (out: Output, r: ProcessorAssessment): void => {
  const { c } = out;
  const a = r.assessment;
  const paint = a.verdict === 'implement' || a.verdict === 'unknown' ? c.red : a.verdict === 'monitor' ? c.yellow : c.green;
  out.line(c.bold(`${r.processorName}: is smart-backfill needed? last ${r.days} days to ${r.today}`));
  out.line(`  verdict: ${paint(c.bold(VERDICT_TEXT[a.verdict]))}  ${c.dim(a.reasons[0] ?? '')}`);
  for (const u of a.unknownBecause) out.line(`    because ${u}`);
  out.line('  checks');
  const reasonOf = (s: SignalName): string => a.signals.find((x) => x.signal === s)?.reason ?? '';
  const g = r.gapFrequency;
  out.line(
    `    ${reasonOf('gapsPer30Days')}` +
      (g !== null && g.expectedDates > 0
        ? c.dim(
            `  (${g.gaps} gap date(s) of ${g.expectedDates} scheduled from ${g.windowStart} to ${g.windowEnd}: ${g.missingNow.length} missing now, ${g.healedSince.length} healed since)`,
          )
        : ''),
  );
  const d = r.dependencyFailures;
  out.line(
    `    ${reasonOf('dependencyFailurePct')}` +
      (d !== null
        ? c.dim(
            `  (${d.dependencyFailures} of ${d.runs} scheduled runs: ${d.heldRuns} held, ${d.escalations} escalated, ${d.dependencyErrors} failed naming a dependency)`,
          )
        : ''),
  );
  const m = r.manualBackfill;
  out.line(
    `    ${reasonOf('manualBackfillMinutesPerWeek')}` +
      (m !== null
        ? c.dim(
            m.source === 'option'
              ? '  (given with --manual-minutes)'
              : `  (${num(m.totalMinutes)} min over ${m.timed} finished manual backfill(s) of ${m.manualRequests}, ${num(r.days / 7)} weeks)`,
          )
        : ''),
  );
  out.line(`  decision checklist (${a.checklistVerdict === 'proceed' ? 'all ticked: proceed' : "not all ticked: don't implement yet"})`);
  for (const i of a.checklist) out.line(`    ${MARK[i.status]} ${i.label}: ${c.dim(i.detail)}`);
  out.line('  next steps');
  for (const s of r.nextSteps) out.line(`    - ${s}`);
  out.line(`  suggested policy (${r.suggestion.preset}): ${policyJson(r.suggestion.policy)}`);
  for (const reason of r.suggestion.reasons) out.line(c.dim(`    ${reason}`));
};

const nonNegative = (flag: string, v: unknown): number => {
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw badInput(`${flag}: expected a number of minutes >= 0, got ${JSON.stringify(v)}`);
  return n;
};

interface AssessCommandOptions extends ConfigOption {
  readonly days: number;
  readonly manualMinutes: number | undefined;
  readonly dependencyDays: number | undefined;
  /** Default: today (UTC), read from the runtime's clock. */
  readonly today: IsoDate | undefined;
  readonly alternativesConsidered: boolean;
}

const assessOptions = (raw: RawOptions): AssessCommandOptions => ({
  ...configOption(raw),
  days: intOption('--days', raw['days'] ?? '30', 1, 3660),
  manualMinutes: raw['manualMinutes'] !== undefined ? nonNegative('--manual-minutes', raw['manualMinutes']) : undefined,
  dependencyDays: raw['dependencyDays'] !== undefined ? intOption('--dependency-days', raw['dependencyDays'], 0, 3650) : undefined,
  today: raw['today'] !== undefined ? dateOption('--today', raw['today']) : undefined,
  alternativesConsidered: switchOption(raw, 'alternativesConsidered'),
});

/** `assess [PROCESSOR] [--days 30]`: the seed's "is this needed?" checks from the store. */
export const assessCommand = async (out: Output, raw: RawOptions, args: readonly string[]): Promise<number> => {
  const opts = assessOptions(raw);
  const { days, manualMinutes: manual, dependencyDays } = opts;
  return withRuntime(out, opts, async (rt) => {
    const today = opts.today ?? utcDateOf(rt.clock.now());
    const names = args[0] !== undefined ? [rt.processorConfig(args[0]).name] : rt.config.processors.map((p) => p.name);
    const all: ProcessorAssessment[] = [];
    for (const n of names) {
      all.push(
        await gatherAssessment(rt, n, {
          days,
          today,
          manualMinutesPerWeek: manual,
          alternativesConsidered: opts.alternativesConsidered,
          dependencyDays,
        }),
      );
    }
    if (out.json) out.printJson({ today, days, processors: all });
    else
      for (const [i, r] of all.entries()) {
        if (i > 0) out.line();
        printAssessment(out, r);
      }
    // A verdict nobody could measure must not pass for "not needed" in a script.
    return all.some((r) => r.assessment.verdict === 'unknown') ? ExitCode.unknown : ExitCode.ok;
  });
};
