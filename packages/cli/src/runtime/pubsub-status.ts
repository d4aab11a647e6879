import type { RequestTracker } from '@smart-backfill/core';
import type { DeadLetterRecord, PubSubBackfillQueue } from '@smart-backfill/pubsub';

/**
 * What `status` can say about a Pub/Sub queue. Pub/Sub's API has no call for a
 * subscription's backlog or its oldest unacked message (those are Cloud Monitoring
 * metrics), so the counts come from the tracker — every request is recorded before
 * it is published — and the dead letters are peeked from the dead-letter
 * subscription (pulled and handed straight back).
 */
export interface PubSubQueueReport {
  readonly type: 'pubsub';
  readonly topic: string;
  readonly subscription: string;
  /** The tracker's view of the requests that should be on the subscription or in a worker's hands. */
  readonly fromTracker: {
    /** Queued and confirmed published: waiting on the subscription (or leased, not yet claimed). */
    readonly published: number;
    /** Queued but never confirmed: in the outbox, for the worker's relay. */
    readonly unpublished: number;
    /** Claimed by a worker that holds its message (lease in the tracker). */
    readonly processing: number;
    /** The oldest published, unclaimed request's publish time (ISO-8601): a floor for the oldest unacked message's age. */
    readonly oldestWaitingSince: string | null;
  };
  readonly deadLetters: {
    readonly subscription: string | null;
    /** Up to 100, peeked; `null` when they could not be read (see `deadLettersError`). */
    readonly messages: readonly DeadLetterRecord[] | null;
    readonly error?: string;
  };
  /** What this report cannot know, and where to find it. */
  readonly unknown: readonly string[];
}

const UNKNOWN = [
  'the subscription backlog and the oldest unacked message age as Pub/Sub counts them (stale copies, messages published by others): Cloud Monitoring metrics pubsub.googleapis.com/subscription/num_undelivered_messages and oldest_unacked_message_age',
  "which worker process holds which message: only each worker's own view (startPubSubWorker's stats and inFlight)",
];

export const pubSubQueueReport = async (queue: PubSubBackfillQueue, tracker: RequestTracker): Promise<PubSubQueueReport> => {
  const active = await tracker.list({ statuses: ['queued', 'processing'] });
  const waiting = active.filter((r) => r.status === 'queued' && r.publishedAt !== null);
  const oldest = waiting.reduce<number | null>((m, r) => (m === null || (r.publishedAt ?? m) < m ? r.publishedAt : m), null);
  const dl = queue.options.deadLetter;
  let messages: readonly DeadLetterRecord[] | null = null;
  let error: string | undefined;
  try {
    messages = await queue.peekDeadLetters(100);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  return {
    type: 'pubsub',
    topic: queue.options.topic,
    subscription: queue.options.subscription,
    fromTracker: {
      published: waiting.length,
      unpublished: active.filter((r) => r.status === 'queued' && r.publishedAt === null).length,
      processing: active.filter((r) => r.status === 'processing').length,
      oldestWaitingSince: oldest === null ? null : new Date(oldest).toISOString(),
    },
    deadLetters: { subscription: dl?.subscription ?? null, messages, ...(error === undefined ? {} : { error }) },
    unknown: UNKNOWN,
  };
};
