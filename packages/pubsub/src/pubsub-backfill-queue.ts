import { v1, type PubSub } from '@google-cloud/pubsub';
import {
  countProblem,
  durationProblem,
  type BackfillQueue,
  type Delivery,
  type PublishOutcome,
  type QueueMessage,
  type ReceiveOptions,
} from '@smart-backfill/core';
import { ensurePubSubResources } from './admin.js';
import { connectPubSub } from './connect.js';
import { PubSubAdapterError, GrpcCode, checkInput, describeError, grpcCodeOf } from './errors.js';
import { fullName, resolvePubSubOptions, type PubSubQueueOptions, type ResolvedPubSubOptions } from './options.js';
import { createPubSubPublisher, type PubSubPublisher } from './pubsub-publisher.js';
import { AttemptCounter, deadLetterAttributes, toDeadlineSeconds, toQueueMessage } from './wire.js';

/** How long an ack waits for others to share its Acknowledge call. */
const ACK_BATCH_MS = 5;

/**
 * `extendLease(ms)` is not sent while the lease this process last set runs to within
 * this much (at most a tenth of `ms`) of what is asked. The engine worker extends
 * every message as its backfill starts, moments after the pull leased it: a gRPC
 * call per backfill for nothing. Heartbeats (a third of the lease) still go out.
 */
const LEASE_SLACK_MS = 2_000;

/** The Pub/Sub queue, with the client and resolved options for callers that need them. */
export interface PubSubBackfillQueue extends BackfillQueue {
  readonly pubsub: PubSub;
  readonly options: ResolvedPubSubOptions;
  readonly publisher: PubSubPublisher;
  /**
   * Up to `max` messages waiting on the dead-letter subscription, each with why it is
   * there, read without consuming them: pulled, then handed straight back (ack
   * deadline 0). The dead-letter subscription is the record of every message the
   * worker or Pub/Sub gave up on, including ones that named no known request. Empty
   * without a dead-letter topic.
   */
  peekDeadLetters(max?: number): Promise<readonly DeadLetterRecord[]>;
  close(): Promise<void>;
}

/** One message on the dead-letter subscription. */
export interface DeadLetterRecord {
  readonly messageId: string;
  /** When it reached the dead-letter topic (ISO-8601), when the service says. */
  readonly at: string | null;
  readonly requestId: string | null;
  readonly processorName: string | null;
  readonly date: string | null;
  /** `worker`: the worker forwarded it (`dead_letter_reason`); `pubsub`: the subscription's dead-letter policy did. */
  readonly by: 'worker' | 'pubsub' | 'unknown';
  readonly reason: string;
}

type PullResult = [
  {
    receivedMessages?: Array<{
      ackId?: string | null;
      message?: {
        data?: Uint8Array | string | null;
        attributes?: Record<string, string> | null;
        messageId?: string | null;
        orderingKey?: string | null;
        publishTime?: { seconds?: number | string | { toString(): string } | null; nanos?: number | null } | null;
      } | null;
      deliveryAttempt?: number | null;
    }> | null;
  },
];

/**
 * `BackfillQueue` over Pub/Sub. `publish` goes through the client's batching
 * publisher. `receive` uses synchronous Pull (the v1 `SubscriberClient`), not the
 * streaming subscriber: `receive({ max, leaseMs })` is a "lease me a batch" call,
 * which Pull is exactly — nothing is leased that the caller did not ask for, and
 * no background stream holds messages under a lease while the caller is not
 * looking. A long-running consumer that wants throughput uses
 * `startPubSubWorker` (StreamingPull, flow control, automatic lease extension).
 */
export const openPubSubQueue = async (input: PubSubQueueOptions): Promise<PubSubBackfillQueue> => {
  const options = resolvePubSubOptions({ ...input, client: undefined, clock: undefined });
  const conn = connectPubSub({ client: input.client, apiEndpoint: input.apiEndpoint, projectId: options.projectId });
  const { pubsub } = conn;
  if (input.ensure === true) await ensurePubSubResources({ ...input, client: pubsub });
  const publisher = createPubSubPublisher(pubsub, options);
  const attempts = new AttemptCounter();
  const clock = input.clock ?? { now: () => Date.now() };
  let subscriber: v1.SubscriberClient | null = null;
  let subscriptionName: string | null = null;
  let closed = false;

  const sub = async (): Promise<{ client: v1.SubscriberClient; name: string }> => {
    if (subscriber === null || subscriptionName === null) {
      const config = await pubsub.getClientConfig();
      subscriber = new v1.SubscriberClient(config as ConstructorParameters<typeof v1.SubscriberClient>[0]);
      subscriptionName = fullName(pubsub.projectId, 'subscriptions', options.subscription);
    }
    return { client: subscriber, name: subscriptionName };
  };

  const modAck = async (ackIds: string[], seconds: number): Promise<void> => {
    const { client, name } = await sub();
    await client.modifyAckDeadline({ subscription: name, ackIds, ackDeadlineSeconds: seconds });
  };

  const deadLetterTopic = options.deadLetter === null ? null : pubsub.topic(options.deadLetter.topic);

  // Acks go out in batches, as the streaming client sends them: one Acknowledge per
  // batch instead of a round trip per backfill. Without exactly-once an ack is
  // best-effort on Pub/Sub's side anyway (a lost one redelivers, and the tracker
  // acks the copy as done), so `ack()` resolves at once and a failed batch is
  // reported on stderr; with exactly-once, `ack()` waits for the service's answer
  // and throws on a refusal. Every `receive` and `close()` first sends what is
  // waiting and waits for it, so this process never pulls a message it has acked.
  let pendingAcks: string[] = [];
  let ackTimer: NodeJS.Timeout | undefined;
  let nextSend: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | null = null;
  const acksInFlight = new Set<Promise<void>>();
  const sendAcks = (): Promise<void> => {
    if (ackTimer !== undefined) clearTimeout(ackTimer);
    ackTimer = undefined;
    const ids = pendingAcks;
    const waiting = nextSend;
    pendingAcks = [];
    nextSend = null;
    if (ids.length === 0) return Promise.resolve();
    const p = (async () => {
      const { client, name } = await sub();
      for (let i = 0; i < ids.length; i += 2500) await client.acknowledge({ subscription: name, ackIds: ids.slice(i, i + 2500) });
    })();
    acksInFlight.add(p);
    p.then(
      () => waiting?.resolve(),
      (e: unknown) => waiting?.reject(e),
    ).finally(() => acksInFlight.delete(p));
    return p;
  };
  const queueAck = (ackId: string): Promise<void> => {
    pendingAcks.push(ackId);
    if (nextSend === null) {
      let resolve: () => void = () => undefined;
      let reject: (e: unknown) => void = () => undefined;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      nextSend = { promise, resolve, reject };
    }
    if (pendingAcks.length >= 2500) void sendAcks().catch(() => undefined);
    else ackTimer ??= setTimeout(() => void sendAcks().catch(() => undefined), ACK_BATCH_MS);
    return nextSend?.promise ?? Promise.resolve();
  };
  // Lease extensions issued together (heartbeats of messages pulled together fall due
  // together) share one ModifyAckDeadline per deadline, sent once the current turn's
  // callbacks are done (no timer); every caller of the batch gets the call's answer.
  // `receive` and `close()` first wait for extensions in flight, as they do for acks.
  const leaseBatches = new Map<number, { readonly ackIds: string[]; readonly sent: Promise<void> }>();
  const leasesInFlight = new Set<Promise<void>>();
  const extendLeaseOf = (ackId: string, seconds: number): Promise<void> => {
    const open = leaseBatches.get(seconds);
    if (open !== undefined) {
      open.ackIds.push(ackId);
      return open.sent;
    }
    const ackIds = [ackId];
    const sent = new Promise<void>((resolve) => process.nextTick(resolve)).then(() => {
      leaseBatches.delete(seconds);
      return modAck(ackIds, seconds);
    });
    leaseBatches.set(seconds, { ackIds, sent });
    leasesInFlight.add(sent);
    const forget = (): boolean => leasesInFlight.delete(sent);
    sent.then(forget, forget);
    return sent;
  };
  const flushLeases = async (): Promise<void> => {
    await Promise.allSettled([...leasesInFlight]);
  };

  const flushAcks = async (): Promise<void> => {
    await sendAcks().catch(() => undefined);
    await Promise.allSettled([...acksInFlight]);
  };

  const toDelivery = (
    r: NonNullable<PullResult[0]['receivedMessages']>[number],
    subscription: string,
    leasedUntilAtPull: number,
  ): Delivery => {
    const ackId = r.ackId ?? '';
    // When the lease this process set on the message runs out, as far as it knows (0: unknown).
    let leasedUntil = leasedUntilAtPull;
    const messageId = r.message?.messageId ?? '';
    const deliveryAttempt = attempts.next(messageId, r.deliveryAttempt);
    const message = toQueueMessage({
      data: r.message?.data,
      attributes: r.message?.attributes,
      messageId,
      orderingKey: r.message?.orderingKey,
    });
    const settle = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        throw new PubSubAdapterError(
          'ack_failed',
          `${what} of message ${messageId} (request ${message.id}) failed: ${describeError(e)}; the lease may have lapsed, and the message will come back`,
          { cause: e },
        );
      }
    };
    const extendLease = async (ms: number): Promise<void> => {
      const now = clock.now();
      if (leasedUntil - now >= ms - Math.min(LEASE_SLACK_MS, ms / 10)) return;
      const seconds = toDeadlineSeconds(ms, 1);
      await settle('lease extension', () => extendLeaseOf(ackId, seconds));
      leasedUntil = now + seconds * 1000;
    };
    const ack = (): Promise<void> =>
      settle('ack', async () => {
        attempts.forget(messageId);
        const sent = queueAck(ackId);
        if (options.exactlyOnce) await sent;
        else
          void sent.catch((e: unknown) =>
            console.error(
              `[smart-backfill] [pubsub] ack of message ${messageId} (request ${message.id}) failed: ${describeError(e)}; it will be redelivered and acked as done`,
            ),
          );
      });
    return {
      deliveryId: ackId,
      message,
      deliveryAttempt,
      ack,
      nack: (delayMs = 0) => {
        leasedUntil = 0;
        return settle('nack', () => modAck([ackId], toDeadlineSeconds(delayMs, 0)));
      },
      extendLease,
      deadLetter:
        deadLetterTopic === null
          ? undefined
          : async (reason: string) => {
              await deadLetterTopic.publishMessage({
                data: Buffer.from(message.data, 'utf8'),
                attributes: { ...message.attributes, ...deadLetterAttributes(reason, { subscription, messageId, deliveryAttempt }) },
              });
              await ack();
            },
    };
  };

  const receive = async (ro: ReceiveOptions): Promise<readonly Delivery[]> => {
    if (closed) throw new PubSubAdapterError('receive_failed', 'receive() after close()');
    checkInput(countProblem, ro.max, 'max');
    checkInput(durationProblem, ro.leaseMs, 'leaseMs');
    if (ro.waitMs !== undefined) checkInput(durationProblem, ro.waitMs, 'waitMs');
    const aborted = (): boolean => ro.signal?.aborted === true;
    if (ro.max <= 0 || aborted()) return [];
    await flushLeases();
    await flushAcks();
    const { client, name } = await sub();
    const waitMs = ro.waitMs ?? 0;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const remaining = deadline - Date.now();
      const call = client.pull(
        { subscription: name, maxMessages: ro.max, returnImmediately: waitMs === 0 },
        // A Pull with nothing to give waits server-side; bound it by our wait.
        { timeout: Math.max(1_000, remaining + 500), retry: null as never },
      ) as unknown as Promise<PullResult> & { cancel?: () => void };
      const onAbort = (): void => call.cancel?.();
      ro.signal?.addEventListener('abort', onAbort, { once: true });
      let res: PullResult;
      try {
        res = await call;
      } catch (e) {
        const code = grpcCodeOf(e);
        if (code === GrpcCode.CANCELLED || code === GrpcCode.DEADLINE_EXCEEDED) return [];
        throw new PubSubAdapterError('receive_failed', `pull from ${name} failed: ${describeError(e)}`, { cause: e });
      } finally {
        ro.signal?.removeEventListener('abort', onAbort);
      }
      const received = res[0].receivedMessages ?? [];
      if (received.length > 0) {
        const ackIds = received.map((r) => r.ackId ?? '');
        // Lease for what the caller asked, not the subscription's default.
        const seconds = toDeadlineSeconds(ro.leaseMs, 1);
        const at = clock.now();
        const leasedUntil = await modAck(ackIds, seconds).then(
          () => at + seconds * 1000,
          () => 0,
        );
        return received.map((r) => toDelivery(r, name, leasedUntil));
      }
      if (waitMs === 0 || Date.now() >= deadline || aborted()) return [];
    }
  };

  const peekDeadLetters = async (max = 100): Promise<readonly DeadLetterRecord[]> => {
    if (options.deadLetter === null || max <= 0) return [];
    const { client } = await sub();
    const name = fullName(pubsub.projectId, 'subscriptions', options.deadLetter.subscription);
    let res: PullResult;
    try {
      res = (await client.pull(
        { subscription: name, maxMessages: max, returnImmediately: true },
        { timeout: 10_000 },
      )) as unknown as PullResult;
    } catch (e) {
      throw new PubSubAdapterError('receive_failed', `reading dead letters from ${name} failed: ${describeError(e)}`, { cause: e });
    }
    const got = res[0].receivedMessages ?? [];
    // Give them straight back: a peek must not hide them from whoever reads dead letters next.
    if (got.length > 0)
      await client
        .modifyAckDeadline({ subscription: name, ackIds: got.map((r) => r.ackId ?? ''), ackDeadlineSeconds: 0 })
        .catch(() => undefined);
    return got.map((r): DeadLetterRecord => {
      const a = r.message?.attributes ?? {};
      const ours = a['dead_letter_reason'];
      const policy = a['CloudPubSubDeadLetterSourceDeliveryCount'];
      const seconds = r.message?.publishTime?.seconds;
      return {
        messageId: r.message?.messageId ?? '',
        at: seconds === undefined || seconds === null ? null : new Date(Number(String(seconds)) * 1000).toISOString(),
        requestId: a['request_id'] ?? null,
        processorName: a['processor_name'] ?? null,
        date: a['game_date'] ?? null,
        by: ours !== undefined ? 'worker' : policy !== undefined ? 'pubsub' : 'unknown',
        reason:
          ours ??
          (policy !== undefined
            ? `delivered ${policy} times without an ack (the subscription's dead-letter policy)`
            : 'no reason recorded on the message'),
      };
    });
  };

  return {
    pubsub,
    options,
    publisher,
    peekDeadLetters,
    // async: a closed queue rejects like any other failed publish instead of throwing synchronously.
    publish: async (messages: readonly QueueMessage[]): Promise<readonly PublishOutcome[]> => {
      if (closed) throw new PubSubAdapterError('publish_failed', 'publish() after close()');
      return publisher.publish(messages);
    },
    receive,
    async close() {
      if (closed) return;
      closed = true;
      await publisher.flush().catch(() => undefined);
      await flushLeases();
      await flushAcks();
      if (subscriber !== null) await subscriber.close().catch(() => undefined);
      if (conn.owned) await pubsub.close().catch(() => undefined);
    },
  };
};
