import { randomUUID } from 'node:crypto';
import type { BackfillRequest, Delivery, IsoDate, RunTrigger } from '@smart-backfill/core';
import type { BackfillMessage } from './codec.js';
import { errorMessage, toError } from './errors.js';
import { isGuardedProcessor, isGuardOutcome } from './guard-types.js';
import { DONE, heartbeat } from './delivery-lease.js';
import { settle } from './delivery-replies.js';
import { UPSTREAM_HEALED } from './downstream.js';
import type { Processor } from './processor.js';
import type { WorkerContext } from './worker-context.js';

/** How running a claimed backfill ended, before anything is written back. */
export type BackfillRunEnd =
  | { readonly _tag: 'Succeeded' }
  | { readonly _tag: 'Threw'; readonly failure: unknown }
  /** `stop({ drain: false })` aborted it: whatever it did, its result is not written back. */
  | { readonly _tag: 'Released' };

/** A rebuild because an input healed is a cascade re-run, and its records say so. */
const triggerOf = (m: BackfillMessage): RunTrigger => (m.trigger_reason === UPSTREAM_HEALED ? 'cascade' : 'backfill');

/**
 * Run the processor with `isBackfill: true` over `dates` (the message's), in order,
 * heartbeating both leases; the first date that fails ends the run.
 */
export const runBackfill = async (
  ctx: WorkerContext,
  d: Delivery,
  m: BackfillMessage,
  processor: Processor,
  claimed: BackfillRequest,
  dates: readonly IsoDate[],
): Promise<BackfillRunEnd> => {
  const id = claimed.requestId;
  const attempt = claimed.attempt;
  const run = new AbortController();
  const stopBeat = new AbortController();
  ctx.shutdown.running.add(run);
  await settle(ctx.log, 'extend the lease of', id, () => d.extendLease(ctx.leaseMs));
  const beating = heartbeat(ctx, d, id, attempt, run, stopBeat.signal);
  // A guarded processor writes its own run record; a plain one gets one from here.
  const recordRuns = !isGuardedProcessor(processor);
  const trigger = triggerOf(m);
  let end: BackfillRunEnd = { _tag: 'Succeeded' };
  try {
    for (const date of dates) {
      const startedAt = ctx.clock.now();
      try {
        const out = await processor.run({ date, isBackfill: true, trigger, requestId: id, attempt, signal: run.signal });
        // A guarded processor reports a failure as a value, not a throw.
        if (isGuardOutcome(out) && out._tag === 'Failed') throw out.error;
        // "Succeeded" is not "filled": a plain processor's date is re-counted by its guard (a guarded one re-counts itself).
        const unfilled = recordRuns ? await ctx.guardFor(m.processor_name)?.verifyFilled(date) : undefined;
        if (unfilled instanceof Error) throw unfilled;
        if (recordRuns) await appendRun(ctx, m, date, id, attempt, startedAt, null);
      } catch (e) {
        if (recordRuns) await appendRun(ctx, m, date, id, attempt, startedAt, toError(e).message);
        throw e;
      }
    }
  } catch (e) {
    end = { _tag: 'Threw', failure: e };
  } finally {
    stopBeat.abort(DONE);
    await beating;
    ctx.shutdown.running.delete(run);
  }
  return ctx.shutdown.releasing && run.signal.aborted ? { _tag: 'Released' } : end;
};

/** The run record of one date of a plain processor's backfill; a failure to write it is logged, never thrown. */
const appendRun = async (
  ctx: WorkerContext,
  m: BackfillMessage,
  date: IsoDate,
  requestId: string,
  attempt: number,
  startedAt: number,
  error: string | null,
): Promise<void> => {
  const finishedAt = ctx.clock.now();
  try {
    await ctx.runLog.append({
      runId: randomUUID(),
      processorName: m.processor_name,
      runDate: date,
      trigger: triggerOf(m),
      isBackfill: true,
      outcome: error === null ? 'succeeded' : 'failed',
      skipReason: null,
      errorMessage: error,
      startedAt,
      finishedAt,
      durationMs: finishedAt - startedAt,
      metadata: { decision: 'Proceed:is_backfill', request_id: requestId, attempt },
    });
  } catch (e) {
    ctx.log.warn('could not append run record', { requestId, error: errorMessage(e) });
  }
};
