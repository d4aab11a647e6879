import {
  addDays,
  analyzeRange,
  buildPipelineGraph,
  compareDates,
  datesWaitingForInputs,
  decide,
  upstreamDatesRead,
  type BackfillRequest,
  type Decision,
  type GapAnalysis,
  type GapPolicy,
  type IsoDate,
  type PipelineGraph,
  type PipelineNode,
  type RunMetadata,
  type HeldRun,
  type InputState,
  type RunLog,
  type RunOutcome,
  type SkipReason,
  type WindowData,
  type UpstreamGap,
  type WindowReader,
  UPSTREAM_WAITS_KEY,
} from '@smart-backfill/core';
import { escalate, type AlertingDeps } from './alerts.js';
import { queueAutoBackfills, type AutoBackfillDeps } from './auto-backfills.js';
import { engineError, errorMessage, settle, toError } from './errors.js';
import { summarizeFailures } from './failures.js';
import type { GuardOutcome } from './guard-types.js';

/**
 * The dependency graph of `nodes`, checked by the rule the CLI's config uses (core's
 * `buildPipelineGraph`): for `WorkerDeps.pipeline`, or wherever an embedding wires processors
 * together.
 *
 * @throws SmartBackfillError (`invalid_config`) naming every problem: a cycle by its path,
 * an unknown processor by name, a repeated or self edge, a bad lookback.
 */
export const pipelineGraph = (nodes: readonly PipelineNode[]): PipelineGraph => {
  const g = buildPipelineGraph(nodes);
  if (g._tag === 'Err') throw engineError('invalid_config', g.error.map((p) => p.message).join('; '));
  return g.value;
};

/**
 * One input of a guarded processor: an upstream processor whose output it reads, judged by
 * the upstream's own schedule, target and policy. A run for D reads the upstream's dates
 * `D − lookbackDays .. D` (core's `upstreamDatesRead`).
 */
export interface UpstreamInput {
  readonly processor: string;
  readonly lookbackDays: number;
  /** The upstream's schedule and target, one round trip (as `GuardDeps.window`). */
  readonly window: WindowReader;
  /** The upstream's policy: what counts as filled, when a gap needs a person. Missing fields default. */
  readonly policy: GapPolicy;
  /**
   * The upstream's own inputs, when known: a date of the upstream is not queued while an
   * input date it reads is missing or held (core's `datesWaitingForInputs`). Without them only
   * the upstream's runs held for their inputs wait.
   */
  readonly inputs?: readonly UpstreamInput[] | undefined;
}

/**
 * What a run waits for on one upstream processor: core's `UpstreamGap`, the shape stored on the
 * held run's record and read back by `status` and the report (one type, so the two cannot drift).
 */
export type UpstreamWait = UpstreamGap;

export type UpstreamDeps = AutoBackfillDeps & {
  readonly runLog: RunLog;
  /** The upstream's alerting, when the guard has alerting: escalations open (once) on the upstream. */
  readonly alertingFor: (processor: string) => AlertingDeps | undefined;
};

const isHeld = (h: HeldRun): boolean => h.status === 'held' || h.status === 'resuming';

/** What the wait rule needs of each input over `first − lookback … last`: its dates that are missing or held. */
const inputStates = (runLog: RunLog, inputs: readonly UpstreamInput[], first: IsoDate, last: IsoDate): Promise<InputState[]> =>
  Promise.all(
    inputs.map(async (i) => {
      const q = { processorName: i.processor, start: addDays(first, -i.lookbackDays), end: last };
      const [data, held] = await Promise.all([
        settle(() => i.window.readWindow(q)),
        settle(() => runLog.heldRuns({ processorName: i.processor })),
      ]);
      const missing = analyzeRange({ start: q.start, end: q.end, ...data, policy: i.policy }).missingDates;
      return { lookbackDays: i.lookbackDays, unavailable: new Set([...missing, ...held.filter(isHeld).map((h) => h.runDate)]) };
    }),
  );

/**
 * The dates among `dates` of `processorName` that must wait for their inputs rather than be
 * backfilled (core's `datesWaitingForInputs`, the one rule for every path that queues a date):
 * its runs held for their inputs, and, over `inputs`, dates that read an input date that is
 * missing or held. Reads the processor's held runs and each input's window and held runs.
 *
 * @throws when a read fails (callers turn it into a failed check: nothing is guessed).
 */
export const datesThatWait = async (
  runLog: RunLog,
  processorName: string,
  dates: readonly IsoDate[],
  inputs: readonly UpstreamInput[] = [],
): Promise<Set<IsoDate>> => {
  const sorted = [...dates].sort(compareDates);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (first === undefined || last === undefined) return new Set();
  const [states, held] = await Promise.all([
    settle(() => inputStates(runLog, inputs, first, last)),
    settle(() => runLog.heldRuns({ processorName })),
  ]);
  const own = held.filter((h) => isHeld(h) && h.waitingFor.length === 0).map((h) => h.runDate);
  return datesWaitingForInputs(sorted, new Set(own), states);
};

/**
 * The input dates a backfill of `date` reads that are missing or held (`processor date`,
 * in declared order), by the same rule: empty when it may be built. A backfill is never
 * checked for its own window, but it is not built from an incomplete input either.
 *
 * @throws when a read fails.
 */
export const unreadyInputs = async (runLog: RunLog, inputs: readonly UpstreamInput[], date: IsoDate): Promise<string[]> => {
  const states = await inputStates(runLog, inputs, date, date);
  if (datesWaitingForInputs([date], new Set(), states).size === 0) return [];
  return states.flatMap((s, i) =>
    upstreamDatesRead(s, date)
      .filter((u) => s.unavailable.has(u))
      .map((u) => `${inputs[i]?.processor ?? '?'} ${u}`),
  );
};

interface Judged {
  readonly input: UpstreamInput;
  readonly analysis: GapAnalysis;
  readonly decision: Exclude<Decision, { _tag: 'Proceed' }>;
  readonly summary: ReturnType<typeof summarizeFailures>;
  /** Dates to queue on the upstream now: missing, not in flight, not waiting, not already escalated. */
  readonly toQueue: readonly IsoDate[];
  /** Dates named by an open alert on the upstream: a person was told, so nothing queues them behind that person's back. */
  readonly alerted: readonly IsoDate[];
}

/** Reads for judging an input: its requests and held runs, and its open alerts when alerting is configured. */
type JudgeDeps = Pick<UpstreamDeps, 'tracker' | 'runLog'> & Partial<Pick<UpstreamDeps, 'alertingFor'>>;

/** Dates of `processor` an open alert names (read only when it has a gap a run reads). */
const alertedDates = async (deps: JudgeDeps, processor: string): Promise<ReadonlySet<IsoDate>> => {
  const log = deps.alertingFor?.(processor)?.alertLog;
  if (log === undefined) return new Set();
  return new Set((await log.list({ processorName: processor, openOnly: true })).flatMap((a) => a.missingDates));
};

/**
 * Read and judge the upstream dates a run of `downstream` for `date` reads, as the upstream's
 * own guard would, without acting: one entry per input with a gap. Its dates that wait for its
 * own inputs count as in flight, never as its gap to escalate (core's `decide` with
 * `waitingForInputs`): the escalation belongs to the level whose own data is missing.
 */
const judgeUpstream = async (deps: JudgeDeps, inputs: readonly UpstreamInput[], downstream: string, date: IsoDate): Promise<Judged[]> => {
  // Every input's window and requests are read at once (one round trip, not one per input);
  // each is then judged in declared order, as if read in turn.
  const reads = inputs.map(async (input) => {
    const q = { processorName: input.processor, start: addDays(date, -input.lookbackDays), end: date };
    try {
      const [data, requests] = await Promise.all([settle(() => input.window.readWindow(q)), settle(() => deps.tracker.forWindow(q))]);
      return { input, data, requests };
    } catch (e) {
      return engineError(
        'read_failed',
        `could not check ${downstream}'s input ${input.processor} for ${date} (${q.start}..${q.end}): ${errorMessage(e)}`,
        { cause: e },
      );
    }
  });
  const judged: Judged[] = [];
  for (const read of reads) {
    const r = await read;
    if (r instanceof Error) throw r;
    const { input, data, requests }: { input: UpstreamInput; data: WindowData; requests: readonly BackfillRequest[] } = r;
    const policy = input.policy;
    // The upstream judged over exactly the dates read.
    const analysis = analyzeRange({ start: addDays(date, -input.lookbackDays), end: date, ...data, policy });
    if (analysis.missingDates.length === 0) continue;
    const summary = summarizeFailures(requests, policy.maxAttempts);
    let waiting: ReadonlySet<IsoDate>;
    let alerted: ReadonlySet<IsoDate>;
    try {
      [waiting, alerted] = await Promise.all([
        datesThatWait(deps.runLog, input.processor, analysis.missingDates, input.inputs),
        alertedDates(deps, input.processor),
      ]);
    } catch (e) {
      throw engineError('read_failed', `could not check the inputs of ${input.processor} for ${date}: ${errorMessage(e)}`, { cause: e });
    }
    const decision = decide(analysis, policy, {
      activeRequests: summary.active.keys(),
      failedAttempts: summary.failedAttempts,
      waitingForInputs: waiting,
    });
    if (decision._tag === 'Proceed') continue;
    const toQueue = decision._tag === 'Backfill' ? decision.toQueue.filter((d) => !alerted.has(d)) : [];
    const named = decision._tag === 'Backfill' ? decision.toQueue.filter((d) => alerted.has(d)) : [];
    judged.push({ input, analysis, decision, summary, toQueue, alerted: named });
  }
  return judged;
};

/**
 * What a run of `downstream` for `date` would wait for on its inputs, read only (the dry
 * run's view of `checkUpstream`): `queued` is what the run would queue.
 */
export const previewUpstream = async (
  deps: JudgeDeps,
  inputs: readonly UpstreamInput[],
  downstream: string,
  date: IsoDate,
): Promise<UpstreamWait[]> =>
  (await judgeUpstream(deps, inputs, downstream, date)).flatMap(({ input, analysis, decision, toQueue, alerted }): UpstreamWait[] => {
    if (decision._tag === 'Escalate')
      return [{ processor: input.processor, missing: analysis.missingDates, queued: [], inFlight: [], escalated: decision.dates }];
    if (!decision.holdRun) return [];
    return [
      { processor: input.processor, missing: analysis.missingDates, queued: toQueue, inFlight: decision.inFlight, escalated: alerted },
    ];
  });

/**
 * Check the upstream dates a run of `downstream` for `date` reads, and act as the upstream's
 * own guard would: queue its missing dates (the tracker's `create` keeps one active request
 * per date, so this and the upstream's guard never queue a date twice) or escalate on it.
 * A date that waits for the upstream's own inputs (`datesThatWait`) is in flight, not queued
 * nor escalated; a date an open alert on the upstream names is escalated already, not queued.
 * Returns one entry per upstream with a gap that holds the run; an empty list means go ahead.
 *
 * @throws SmartBackfillError (detail `read_failed`) when an upstream cannot be read (nothing is guessed),
 * `tracker_failed` when its requests cannot be recorded.
 */
const checkUpstream = async (
  deps: UpstreamDeps,
  inputs: readonly UpstreamInput[],
  downstream: string,
  date: IsoDate,
  runId: string,
): Promise<UpstreamWait[]> => {
  const waits: UpstreamWait[] = [];
  for (const { input, analysis, decision, summary, toQueue, alerted } of await judgeUpstream(deps, inputs, downstream, date)) {
    if (decision._tag === 'Escalate') {
      const alerting = deps.alertingFor(input.processor);
      if (alerting !== undefined) {
        const open = await alerting.alertLog.list({ processorName: input.processor, openOnly: true });
        const failing = decision.dates.map((d) => summary.lastError.get(d)).find((x) => x !== undefined) ?? null;
        await escalate(alerting, open, analysis, decision, failing);
      } else
        deps.logger.error('an input gap needs a person (no alerter configured)', {
          processor: input.processor,
          downstream,
          date,
          dates: decision.dates,
        });
      waits.push({ processor: input.processor, missing: analysis.missingDates, queued: [], inFlight: [], escalated: decision.dates });
      continue;
    }
    const { created, lost } = await queueAutoBackfills(deps, input.processor, toQueue, {
      runDate: date,
      runId,
      critical: new Set(analysis.criticalMissing),
      downstream,
    });
    if (!decision.holdRun) continue;
    waits.push({
      processor: input.processor,
      missing: analysis.missingDates,
      queued: created.map((r) => r.date),
      inFlight: [...decision.inFlight, ...lost].sort(compareDates),
      escalated: alerted,
    });
  }
  return waits;
};

/** Waits on one processor from several checks, as one: each field the union of theirs. */
const mergeWaits = (waits: readonly UpstreamWait[]): UpstreamWait[] => {
  const by = new Map<string, UpstreamWait[]>();
  for (const w of waits) by.set(w.processor, [...(by.get(w.processor) ?? []), w]);
  const union = (ws: readonly UpstreamWait[], f: (w: UpstreamWait) => readonly IsoDate[]): IsoDate[] =>
    [...new Set(ws.flatMap(f))].sort(compareDates);
  return [...by].map(([processor, ws]) => {
    const escalated = union(ws, (w) => w.escalated);
    const queued = union(ws, (w) => w.queued).filter((d) => !escalated.includes(d));
    const inFlight = union(ws, (w) => w.inFlight).filter((d) => !escalated.includes(d) && !queued.includes(d));
    return { processor, missing: union(ws, (w) => w.missing), queued, inFlight, escalated };
  });
};

/**
 * Queue (or escalate) on the inputs what `dates` of `downstream` read and miss, as a run for
 * each would: dates that wait for their inputs are filled from below, never built from them
 * incomplete. Returns what they wait for, one entry per input processor.
 */
export const requestInputs = async (
  deps: UpstreamDeps,
  inputs: readonly UpstreamInput[],
  downstream: string,
  dates: readonly IsoDate[],
  runId: string,
): Promise<UpstreamWait[]> => {
  const waits: UpstreamWait[] = [];
  for (const d of dates) waits.push(...(await checkUpstream(deps, inputs, downstream, d, runId)));
  return mergeWaits(waits);
};

/** One line for a held run: `waits for pos_sales 2025-11-04 (queued), orders 2025-11-03 (in flight)`. */
export const describeWaits = (waits: readonly UpstreamWait[]): string =>
  `waits for ${waits
    .map(
      (w) =>
        `${w.processor} ${w.missing.join(', ')} (${w.escalated.length > 0 ? 'escalated: a person must fill it' : w.queued.length > 0 ? 'queued' : 'in flight'})`,
    )
    .join('; ')}`;

/** What `holdForUpstream` needs from the guard's run: its records and its hold. */
export interface UpstreamRunContext {
  readonly name: string;
  readonly date: IsoDate;
  readonly runId: string;
  readonly analysis: GapAnalysis;
  readonly meta: RunMetadata;
  /** Own backfills this run already queued (a run that would have gone ahead over old gaps). */
  readonly queued?: readonly BackfillRequest[] | undefined;
  readonly inFlight?: readonly IsoDate[] | undefined;
  hold(reason: SkipReason, waitingFor: readonly IsoDate[]): Promise<void>;
  record(outcome: RunOutcome, skipReason: SkipReason | null, error: string | null, metadata: RunMetadata): Promise<void>;
}

/**
 * The guard's upstream step, before a run that would proceed: `undefined` to go ahead, or
 * the outcome of a run held for its inputs (recorded, saying what it waits for) or failed
 * because an input could not be read.
 */
export const holdForUpstream = async (
  deps: UpstreamDeps,
  inputs: readonly UpstreamInput[],
  ctx: UpstreamRunContext,
): Promise<GuardOutcome | undefined> => {
  let waits: UpstreamWait[];
  try {
    waits = await checkUpstream(deps, inputs, ctx.name, ctx.date, ctx.runId);
  } catch (e) {
    const error = toError(e);
    deps.logger.error('input check failed; not running (no guessing)', {
      processor: ctx.name,
      date: ctx.date,
      runId: ctx.runId,
      error: error.message,
    });
    await ctx.record('failed', null, error.message, { ...ctx.meta, decision: 'CheckFailed' });
    return { _tag: 'Failed', error, stage: 'check', runId: ctx.runId };
  }
  if (waits.length === 0) return undefined;
  const reason: SkipReason = waits.some((w) => w.escalated.length > 0)
    ? 'gap_escalated'
    : waits.some((w) => w.queued.length > 0)
      ? 'backfill_queued'
      : 'waiting_for_backfill';
  // It waits for no date of its own (its window is whole, or only old gaps it would have run over),
  // only for its inputs: their completion resumes it (`healDownstream`).
  await ctx.hold(reason, []);
  const summary = describeWaits(waits);
  deps.logger.info('held for an input', { processor: ctx.name, date: ctx.date, runId: ctx.runId, waits: summary });
  await ctx.record('skipped', reason, null, { ...ctx.meta, decision: 'WaitingForUpstream', [UPSTREAM_WAITS_KEY]: waits, waits: summary });
  return {
    _tag: 'Held',
    analysis: ctx.analysis,
    decision: { _tag: 'Backfill', toQueue: (ctx.queued ?? []).map((r) => r.date), inFlight: ctx.inFlight ?? [], holdRun: true },
    queued: ctx.queued ?? [],
    inFlight: ctx.inFlight ?? [],
    upstream: waits,
    runId: ctx.runId,
  };
};
