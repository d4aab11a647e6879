import type { BackfillQueue, BackfillRequest, Clock, RequestTracker } from '@smart-backfill/core';
import { queueMessageForRequest } from './codec.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

export interface PublishTrackedDeps {
  readonly tracker: RequestTracker;
  readonly queue: BackfillQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Prefixed to every log message (`relay: `), so a line says who published. */
  readonly logPrefix?: string | undefined;
  /** Extra fields for every log line. */
  readonly logFields?: Record<string, unknown> | undefined;
}

/**
 * The outbox's second half, shared by the guard and the relay: publish tracked
 * requests, then `MarkPublished` each one the queue confirmed. Never throws: a
 * request that is not marked stays in the outbox and the relay publishes it
 * again (consumers dedupe on `request_id`).
 */
export const publishTracked = async (
  deps: PublishTrackedDeps,
  requests: readonly BackfillRequest[],
): Promise<{ readonly published: number; readonly failed: number }> => {
  if (requests.length === 0) return { published: 0, failed: 0 };
  const prefix = deps.logPrefix ?? '';
  const fields = deps.logFields ?? {};
  let outcomes;
  try {
    outcomes = await deps.queue.publish(requests.map(queueMessageForRequest));
  } catch (e) {
    deps.logger.warn(`${prefix}publish failed; the requests stay in the outbox for the relay`, {
      ...fields,
      count: requests.length,
      error: errorMessage(e),
    });
    return { published: 0, failed: requests.length };
  }
  let published = 0;
  let failed = 0;
  await Promise.all(
    requests.map(async (r, i) => {
      const o = outcomes[i];
      if (o?._tag !== 'Published') {
        failed++;
        deps.logger.warn(`${prefix}publish failed; the request stays in the outbox for the relay`, {
          ...fields,
          requestId: r.requestId,
          error: o?.error ?? 'no outcome',
        });
        return;
      }
      published++;
      let error: string | undefined;
      try {
        const m = await deps.tracker.apply(r.requestId, { _tag: 'MarkPublished', at: deps.clock.now() }, { current: r });
        if (m._tag === 'Err') error = m.error.message;
      } catch (e) {
        error = errorMessage(e);
      }
      if (error !== undefined) deps.logger.warn(`${prefix}could not mark published`, { ...fields, requestId: r.requestId, error });
    }),
  );
  return { published, failed };
};
