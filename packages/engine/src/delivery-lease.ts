import type { BackfillRequest, Delivery, Result, TrackerError } from '@smart-backfill/core';
import { engineError, errorMessage } from './errors.js';
import { settle } from './delivery-replies.js';
import type { WorkerContext } from './worker-context.js';

/** A fixed reason: `abort()` without one builds a `DOMException`, stack trace and all, twice per backfill. */
export const DONE = new Error('done');

/**
 * Keep a received delivery's lease while it waits its turn inside this worker (for
 * a slot under `concurrency`, to run alone, or behind a copy of its request), so
 * waiting here never lets it lapse and reach another worker.
 */
export const keepLeaseWhile = async <A>(ctx: WorkerContext, d: Delivery, id: string | null, wait: () => Promise<A>): Promise<A> => {
  const done = new AbortController();
  const keeping = (async () => {
    for (;;) {
      try {
        await ctx.clock.sleep(ctx.heartbeatMs, done.signal);
      } catch {
        return;
      }
      if (done.signal.aborted) return;
      await settle(ctx.log, 'extend the lease of', id, () => d.extendLease(ctx.leaseMs));
    }
  })();
  try {
    return await wait();
  } finally {
    done.abort(DONE);
    await keeping;
  }
};

/**
 * While a claimed backfill runs, both leases are kept: the request's (in the tracker,
 * fenced by `attempt`) and the delivery's. Beats until `stop` aborts; a refused
 * heartbeat means another claim owns the request, so the run is aborted.
 */
export const heartbeat = (
  ctx: WorkerContext,
  d: Delivery,
  requestId: string,
  attempt: number,
  run: AbortController,
  stop: AbortSignal,
): Promise<void> =>
  (async () => {
    for (;;) {
      try {
        await ctx.clock.sleep(ctx.heartbeatMs, stop);
      } catch {
        return;
      }
      if (stop.aborted) return;
      let res: Result<TrackerError, BackfillRequest>;
      try {
        res = await ctx.tracker.apply(requestId, { _tag: 'Heartbeat', at: ctx.clock.now(), attempt, leaseMs: ctx.leaseMs });
      } catch (e) {
        ctx.log.warn('heartbeat failed; will try again', { requestId, attempt, error: errorMessage(e) });
        continue;
      }
      if (res._tag === 'Err') {
        ctx.log.warn('lease lost; aborting the backfill', { requestId, attempt, reason: res.error.message });
        run.abort(engineError('stale_attempt', res.error.message));
        return;
      }
      await settle(ctx.log, 'extend the lease of', requestId, () => d.extendLease(ctx.leaseMs));
    }
  })();
