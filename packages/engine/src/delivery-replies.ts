import type { BackfillRequest, Delivery } from '@smart-backfill/core';
import { wellFormed } from './codec.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import type { WorkerContext } from './worker-context.js';
import type { DeliveryOutcome } from './worker-types.js';

/**
 * How a delivery is answered: acked, nacked with a delay, or dead-lettered. An answer
 * that fails is logged and dropped: the transport redelivers an unacked message, so
 * there is nothing else to do.
 */
export const settle = async (log: Logger, what: string, requestId: string | null, op: () => Promise<void>): Promise<void> => {
  try {
    await op();
  } catch (e) {
    log.warn(`could not ${what} the delivery`, { requestId, error: errorMessage(e) });
  }
};

export const ack = (ctx: WorkerContext, d: Delivery, id: string | null): Promise<void> => settle(ctx.log, 'ack', id, () => d.ack());

export const nack = (ctx: WorkerContext, d: Delivery, id: string | null, delayMs: number): Promise<void> =>
  settle(ctx.log, 'nack', id, () => d.nack(Math.max(0, Math.round(delayMs))));

// V8's error texts quote single UTF-16 units (`Unexpected token '\ud83d'`): a lone
// surrogate that a UTF-8 store refuses, which would leave the message undead.
export const deadLetter = (ctx: WorkerContext, d: Delivery, id: string | null, reason: string): Promise<void> =>
  settle(ctx.log, 'dead-letter', id, () => (d.deadLetter !== undefined ? d.deadLetter(wellFormed(reason)) : d.ack()));

/**
 * The tracker refused this worker's `Complete`/`Fail` (fencing): another claim owns
 * the request, or the sweeper requeued it. The delivery is given back when the request
 * is still waiting for a claim — it may be the only message behind it (the sweeper's
 * republish can fail, and a queue may keep one message per request) — and acked otherwise.
 */
export const stale = async (
  ctx: WorkerContext,
  d: Delivery,
  id: string,
  attempt: number,
  what: 'result' | 'failure',
  reason: string,
): Promise<DeliveryOutcome> => {
  ctx.log.warn(`${what} refused: this worker lost the request`, { requestId: id, attempt, reason });
  let latest: BackfillRequest | undefined;
  try {
    latest = await ctx.tracker.get(id);
  } catch (e) {
    ctx.log.warn('could not read the request after a refused result', { requestId: id, error: errorMessage(e) });
    await nack(ctx, d, id, 0);
    return { _tag: 'Stale', requestId: id, attempt, reason };
  }
  if (latest?.status === 'queued') await nack(ctx, d, id, Math.max(0, (latest.notBefore ?? 0) - ctx.clock.now()));
  else await ack(ctx, d, id);
  return { _tag: 'Stale', requestId: id, attempt, reason };
};
