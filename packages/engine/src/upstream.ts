import {
  addDays,
  analyzeRange,
  decide,
  type Backfill,
  type GapAnalysis,
  type GapPolicy,
  type IsoDate,
  type RunMetadata,
  type RunLog,
  type RunOutcome,
  type SkipReason,
  type UpstreamGap,
  type WindowReader,
  UPSTREAM_WAITS_KEY,
} from '@smart-backfill/core';
import { escalate, type AlertingDeps } from './alerts.js';
import { queueAutoBackfills, type AutoBackfillDeps } from './auto-backfills.js';
import { engineError, errorMessage, toError } from './errors.js';
import { summarizeFailures } from './failures.js';
import type { GuardOutcome } from './guard-types.js';

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

/**
 * Check the upstream dates a run of `downstream` for `date` reads, and act as the upstream's
 * own guard would: queue its missing dates (the tracker's `create` keeps one active request
 * per date, so this and the upstream's guard never queue a date twice) or escalate on it.
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
  // Every input's window and requests are read at once (one round trip, not one per input);
  // each is then judged and acted on in declared order, as if read in turn.
  const reads = inputs.map(async (input) => {
    const q = { processorName: input.processor, start: addDays(date, -input.lookbackDays), end: date };
    try {
      const [data, requests] = await Promise.all([input.window.readWindow(q), deps.tracker.forWindow(q)]);
      return { input, data, requests };
    } catch (e) {
      return engineError(
        'read_failed',
        `could not check ${downstream}'s input ${input.processor} for ${date} (${q.start}..${q.end}): ${errorMessage(e)}`,
        { cause: e },
      );
    }
  });
  const waits: UpstreamWait[] = [];
  for (const read of reads) {
    const r = await read;
    if (r instanceof Error) throw r;
    const { input, data, requests } = r;
    const policy = input.policy;
    // The upstream judged over exactly the dates read.
    const analysis = analyzeRange({ start: addDays(date, -input.lookbackDays), end: date, ...data, policy });
    if (analysis.missingDates.length === 0) continue;
    const summary = summarizeFailures(requests, policy.maxAttempts);
    const decision = decide(analysis, policy, { activeRequests: summary.active.keys(), failedAttempts: summary.failedAttempts });
    if (decision._tag === 'Proceed') continue;
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
    // A date the upstream holds for its own inputs is not backfilled (that would build it from
    // them incomplete): its held run resumes when they heal, and that produces the date.
    const waiting = new Set(
      decision.toQueue.length === 0
        ? []
        : (await deps.runLog.heldRuns({ processorName: input.processor }))
            .filter((h) => h.status === 'held' || h.status === 'resuming')
            .map((h) => h.runDate),
    );
    const { created, lost } = await queueAutoBackfills(
      deps,
      input.processor,
      decision.toQueue.filter((d) => !waiting.has(d)),
      { runDate: date, runId, critical: new Set(analysis.criticalMissing), downstream },
    );
    if (!decision.holdRun) continue;
    waits.push({
      processor: input.processor,
      missing: analysis.missingDates,
      queued: created.map((r) => r.date),
      inFlight: [...decision.inFlight, ...decision.toQueue.filter((d) => waiting.has(d)), ...lost].sort(),
      escalated: [],
    });
  }
  return waits;
};

/** One line for a held run: `waits for pos_sales 2025-11-04 (queued), orders 2025-11-03 (in flight)`. */
const describeWaits = (waits: readonly UpstreamWait[]): string =>
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
  // Its own window is whole: it waits for no date of its own, only for its inputs (healed downstream on their completion).
  await ctx.hold(reason, []);
  const summary = describeWaits(waits);
  deps.logger.info('held for an input', { processor: ctx.name, date: ctx.date, runId: ctx.runId, waits: summary });
  await ctx.record('skipped', reason, null, { ...ctx.meta, decision: 'WaitingForUpstream', [UPSTREAM_WAITS_KEY]: waits, waits: summary });
  return {
    _tag: 'Held',
    analysis: ctx.analysis,
    decision: { _tag: 'Backfill', toQueue: [], inFlight: [], holdRun: true },
    queued: [],
    inFlight: [],
    upstream: waits,
    runId: ctx.runId,
  };
};

/**
 * A backfill decision without the dates the processor holds for its inputs: a backfill run
 * skips the check, so it would build them from the incomplete inputs. They count as in flight:
 * the held run resumes when its inputs heal and produces the date.
 */
export const waitForHeldDates = async (runLog: RunLog, processorName: string, d: Backfill): Promise<Backfill> => {
  if (d.toQueue.length === 0) return d;
  const held = new Set(
    (await runLog.heldRuns({ processorName }))
      .filter((h) => (h.status === 'held' || h.status === 'resuming') && h.waitingFor.length === 0)
      .map((h) => h.runDate),
  );
  if (!d.toQueue.some((x) => held.has(x))) return d;
  return {
    ...d,
    toQueue: d.toQueue.filter((x) => !held.has(x)),
    inFlight: [...d.inFlight, ...d.toQueue.filter((x) => held.has(x))].sort(),
  };
};
