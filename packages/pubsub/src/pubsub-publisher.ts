import type { PubSub, Topic } from '@google-cloud/pubsub';
import type { PublishOutcome, QueueMessage } from '@smart-backfill/core';
import { describeError } from './errors.js';

export interface PubSubPublisherOptions {
  readonly topic: string;
  readonly batching: { readonly maxMessages: number; readonly maxMilliseconds: number; readonly maxBytes: number };
  /** One ordering key per processor: `processor_name`, or the message's own `orderingKey`. */
  readonly orderingKeys: boolean;
  readonly publishTimeoutMs: number;
}

export interface PubSubPublisher {
  publish(messages: readonly QueueMessage[]): Promise<readonly PublishOutcome[]>;
  readonly topic: Topic;
  /** Send what is batched; wait for publishes still in flight (each at most `publishTimeoutMs`). */
  flush(): Promise<void>;
}

const orderingKeyOf = (m: QueueMessage): string => m.orderingKey ?? m.attributes['processor_name'] ?? '';

/**
 * Publishes each message on its own (the client batches them into few RPCs) and
 * reports one outcome per message, in input order. A message that fails or is not
 * confirmed within the timeout is a `PublishFailed` — never dropped silently — so
 * the engine's outbox keeps the request and its relay publishes it again.
 *
 * With ordering keys, messages of one processor are sent oldest `game_date` first
 * under the key `processor_name`. The client stops publishing on a key after a
 * failure (to keep order); we resume it at once, since a request left unpublished
 * is re-sent by the relay and order among retries is not something we promise.
 */
export const createPubSubPublisher = (pubsub: PubSub, opts: PubSubPublisherOptions): PubSubPublisher => {
  const topic = pubsub.topic(opts.topic, {
    batching: { maxMessages: opts.batching.maxMessages, maxMilliseconds: opts.batching.maxMilliseconds, maxBytes: opts.batching.maxBytes },
    messageOrdering: opts.orderingKeys,
    // The RPC itself (with the client's retries) gives up with our timeout, not the
    // client's 60 s default: nothing keeps running, or keeps close() waiting, after
    // the outcome was reported.
    // (gax turns a call's `timeout` into the retries' total timeout as well.)
    gaxOpts: { timeout: opts.publishTimeoutMs },
  });
  /** Publishes not yet settled: close() waits for these, and only as long as their own deadline. */
  const pending = new Set<Promise<PublishOutcome>>();

  const publishOne = async (m: QueueMessage): Promise<PublishOutcome> => {
    const orderingKey = opts.orderingKeys ? orderingKeyOf(m) : '';
    let timer: NodeJS.Timeout | undefined;
    try {
      const messageId = await Promise.race([
        topic.publishMessage({
          data: Buffer.from(m.data, 'utf8'),
          attributes: { ...m.attributes },
          ...(orderingKey !== '' ? { orderingKey } : {}),
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `not confirmed within ${opts.publishTimeoutMs} ms (publishTimeoutMs; it may still arrive, and consumers dedupe on request_id)`,
                ),
              ),
            opts.publishTimeoutMs,
          );
          timer.unref();
        }),
      ]);
      return { _tag: 'Published', id: m.id, messageId };
    } catch (e) {
      if (orderingKey !== '') topic.resumePublishing(orderingKey);
      return { _tag: 'PublishFailed', id: m.id, error: `publish to ${topic.name} failed: ${describeError(e)}`, cause: e };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };

  return {
    topic,
    async publish(messages) {
      if (messages.length === 0) return [];
      const order = messages.map((_, i) => i);
      if (opts.orderingKeys) {
        // Oldest date first within a processor, so a key's backfills run in date order.
        const date = (m: QueueMessage): string => m.attributes['game_date'] ?? '';
        order.sort((a, b) => {
          const ma = messages[a]!;
          const mb = messages[b]!;
          const ka = orderingKeyOf(ma);
          const kb = orderingKeyOf(mb);
          return ka < kb ? -1 : ka > kb ? 1 : date(ma) < date(mb) ? -1 : date(ma) > date(mb) ? 1 : a - b;
        });
      }
      const outcomes = new Array<PublishOutcome>(messages.length);
      // Start them all before awaiting any: the client puts them into batches.
      const started = order.map((i) => {
        const p = publishOne(messages[i]!);
        pending.add(p);
        return p.then((o) => {
          pending.delete(p);
          outcomes[i] = o;
        });
      });
      await Promise.all(started);
      return outcomes;
    },
    async flush() {
      // Send what is batched; wait only for publishes whose outcome is still open (each
      // bounded by publishTimeoutMs). One reported as failed is the relay's now: waiting
      // for the client's own retries of it would only add to the caller's wait.
      void topic.flush().catch(() => undefined);
      await Promise.all([...pending]);
    },
  };
};
