import type { BackfillQueue, Clock, RequestTracker } from '@smart-backfill/core';
import { queueMessageForRequest } from './codec.js';
import { errorMessage } from './errors.js';
import { silentLogger, type Logger } from './logger.js';

export interface SweeperDeps {
  readonly tracker: RequestTracker;
  /** When given, each requeued request is republished so the work is surely redelivered. */
  readonly queue?: BackfillQueue | undefined;
  readonly clock: Clock;
  /** Requests per pass (default 100). */
  readonly limit?: number | undefined;
  readonly logger?: Logger | undefined;
}

export interface SweepResult {
  /** Requests this sweeper moved from processing back to queued. */
  readonly expired: number;
  readonly republished: number;
}

export interface Sweeper {
  /** One pass. Safe on several machines: a second sweeper's `LeaseExpired` is a CAS loss, ignored. */
  runOnce(): Promise<SweepResult>;
}

/**
 * Requeues requests whose worker died (lease expired without heartbeat).
 * The dead worker's attempt number is now stale, so if it wakes up its
 * `Complete`/`Fail` is refused.
 */
export const createSweeper = (deps: SweeperDeps): Sweeper => {
  const limit = deps.limit ?? 100;
  const log = deps.logger ?? silentLogger;
  return {
    async runOnce() {
      const now = deps.clock.now();
      const expired = await deps.tracker.expiredLeases({ now, limit });
      const requeued = [];
      for (const r of expired) {
        const res = await deps.tracker.apply(r.requestId, { _tag: 'LeaseExpired', at: now });
        if (res._tag === 'Ok') requeued.push(res.value);
        else log.debug('sweeper: lease already handled', { requestId: r.requestId, reason: res.error.message });
      }
      let republished = 0;
      if (deps.queue !== undefined && requeued.length > 0) {
        try {
          const outcomes = await deps.queue.publish(requeued.map(queueMessageForRequest));
          republished = outcomes.filter((o) => o._tag === 'Published').length;
        } catch (e) {
          // The queue still redelivers the original message once its own lease lapses.
          log.warn('sweeper: republish failed', { count: requeued.length, error: errorMessage(e) });
        }
      }
      if (requeued.length > 0) log.info('sweeper: requeued expired leases', { expired: requeued.length, republished });
      return { expired: requeued.length, republished };
    },
  };
};
