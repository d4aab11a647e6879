import type { BackfillQueue, Clock, RequestTracker } from '@smart-backfill/core';
import { silentLogger, type Logger } from './logger.js';
import { publishTracked } from './publish-tracked.js';

export interface RelayDeps {
  readonly tracker: RequestTracker;
  readonly queue: BackfillQueue;
  readonly clock: Clock;
  /**
   * Only requests recorded at least this long ago (ms, default 30 s): younger ones
   * are most likely being published by the guard that created them right now.
   */
  readonly olderThanMs?: number | undefined;
  /** Requests per pass (default 100). */
  readonly limit?: number | undefined;
  readonly logger?: Logger | undefined;
}

export interface RelayResult {
  readonly republished: number;
  readonly failed: number;
}

export interface Relay {
  /** One pass over the outbox. Idempotent; several relays at once may publish a request twice, which consumers dedupe. */
  runOnce(): Promise<RelayResult>;
}

/**
 * The outbox relay: publishes tracked requests whose publish was never
 * confirmed (the guard crashed, the queue was down, or publish was ambiguous),
 * then marks them published.
 */
export const createRelay = (deps: RelayDeps): Relay => {
  const olderThanMs = deps.olderThanMs ?? 30_000;
  const limit = deps.limit ?? 100;
  const log = deps.logger ?? silentLogger;
  return {
    async runOnce() {
      const now = deps.clock.now();
      const pending = await deps.tracker.unpublished({ olderThan: now - olderThanMs, limit });
      if (pending.length === 0) return { republished: 0, failed: 0 };
      const { published: republished, failed } = await publishTracked(
        { tracker: deps.tracker, queue: deps.queue, clock: deps.clock, logger: log, logPrefix: 'relay: ' },
        pending,
      );
      if (republished > 0) log.info('relay: republished', { republished, failed });
      return { republished, failed };
    },
  };
};
