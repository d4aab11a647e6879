import type { Delivery } from '@smart-backfill/core';
import { engineError, errorMessage } from './errors.js';
import { handleOneDelivery } from './handle-delivery.js';
import { keepLeaseWhile } from './delivery-lease.js';
import { nack } from './delivery-replies.js';
import { createWorkerContext } from './worker-context.js';
import { createWorkerSweeps } from './worker-sweeps.js';
import type { DeliveryOutcome, Worker, WorkerDeps, WorkerTick } from './worker-types.js';

/**
 * The backfill worker: the loop around {@link handleOneDelivery}. It pulls batches,
 * keeps copies of one request from racing each other, turns a delivery that could not
 * be handled into a nack, runs the periodic sweeps, and stops with or without draining.
 * See {@link DeliveryOutcome} for how each delivery is acked, nacked or dead-lettered.
 */
export const createWorker = (deps: WorkerDeps): Worker => {
  const ctx = createWorkerContext(deps);
  const { log, clock, leaseMs, backoff } = ctx;

  let stopping = false;
  const handling = new Set<Promise<DeliveryOutcome>>();
  let loopAbort = new AbortController();
  let loop: Promise<void> | undefined;
  const sweeps = createWorkerSweeps(ctx, () => stopping);

  // Copies of one request inside this worker (a republished message, a redelivery
  // arriving beside the original) wait for the one in flight, then find it done and
  // are acked — instead of finding it leased and lingering unacked for a lease.
  const inFlightByRequest = new Map<string, Promise<unknown>>();
  const handleDelivery = (d: Delivery): Promise<DeliveryOutcome> => {
    const key = d.message.id;
    const before = key === '' ? undefined : inFlightByRequest.get(key);
    const started =
      before === undefined ? handleOneDelivery(ctx, d) : keepLeaseWhile(ctx, d, key, () => before).then(() => handleOneDelivery(ctx, d));
    const p = started.catch(async (e: unknown): Promise<DeliveryOutcome> => {
      const error = errorMessage(e);
      const delayMs = Math.min(leaseMs, backoff.baseMs);
      log.error('could not handle delivery; it will come back', { deliveryId: d.deliveryId, error });
      await nack(ctx, d, d.message.id, delayMs);
      return { _tag: 'Error', requestId: d.message.id === '' ? null : d.message.id, error, delayMs };
    });
    handling.add(p);
    if (key !== '') inFlightByRequest.set(key, p);
    void p.finally(() => {
      handling.delete(p);
      if (inFlightByRequest.get(key) === p) inFlightByRequest.delete(key);
    });
    return p;
  };

  const runOnce = async (opts?: { readonly max?: number | undefined }): Promise<WorkerTick> => {
    // By default no more than can start at once: a message received early would only wait
    // here. A caller that asks for more (a remote queue, where each receive is a round
    // trip) gets them; they wait at the gate with their leases kept.
    const max = Math.max(1, opts?.max ?? Math.min(ctx.batchSize, ctx.concurrency));
    const deliveries = await ctx.queue.receive({ max, leaseMs, waitMs: 0 });
    const outcomes = await Promise.all(deliveries.map(handleDelivery));
    await sweeps.afterBatch();
    return { received: deliveries.length, outcomes };
  };

  return {
    workerId: ctx.workerId,
    runOnce,
    handleDelivery,
    start() {
      if (loop !== undefined) return;
      stopping = false;
      ctx.shutdown.releasing = false;
      loopAbort = new AbortController();
      loop = (async () => {
        while (!stopping) {
          let received = 0;
          try {
            received = (await runOnce()).received;
          } catch (e) {
            log.warn('receive failed', { error: errorMessage(e) });
          }
          if (received === 0 && !stopping) await clock.sleep(ctx.idleMs, loopAbort.signal).catch(() => undefined);
        }
      })();
    },
    async stop(opts) {
      stopping = true;
      if (opts?.drain === false) {
        ctx.shutdown.releasing = true;
        for (const r of ctx.shutdown.running) r.abort(engineError('processor_failed', 'the worker is stopping'));
      }
      loopAbort.abort();
      await loop;
      await Promise.allSettled([...handling]);
      loop = undefined;
    },
  };
};
