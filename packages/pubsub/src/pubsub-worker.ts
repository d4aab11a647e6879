import { Duration, type Message, type PubSub, type Subscription } from '@google-cloud/pubsub';
import type { Delivery } from '@smart-backfill/core';
import { connectPubSub } from './connect.js';
import { InFlight, type DeliveryHandler } from './delivery-handler.js';
import { PubSubAdapterError, describeError } from './errors.js';
import type { FlowControlOptions, PubSubConnectionOptions } from './options.js';
import { AttemptCounter, deadLetterAttributes, toDeadlineSeconds, toQueueMessage } from './wire.js';

export interface PubSubWorkerOptions<O = unknown> extends PubSubConnectionOptions {
  /** A `Subscription` object, or its name (then `client`/`apiEndpoint`/`projectId` say how to connect). */
  readonly subscription: Subscription | string;
  readonly projectId?: string | undefined;
  /** The engine's worker (`createWorker(...)`), or anything with `handleDelivery`. */
  readonly worker: DeliveryHandler<O>;
  /**
   * Messages (and bytes) leased at once. Default 1,000 messages, 100 MiB (the client's
   * own defaults): enough for ≥ 1,000 backfills/s. To bound how many backfills *run* at
   * once, give the engine worker a `concurrency`; waiting messages keep their lease.
   */
  readonly flowControl?: FlowControlOptions | undefined;
  /**
   * How long the client keeps extending a message's lease while its backfill runs.
   * Default 60 minutes; a backfill running longer is redelivered (and fenced by the tracker).
   */
  readonly maxExtensionMinutes?: number | undefined;
  /**
   * Topic for poison messages the worker gives up on (`deadLetter(reason)`): the
   * message is copied there with a `dead_letter_reason` attribute, then acked.
   * Without one, the worker acks them (and the tracker records the failure).
   */
  readonly deadLetterTopic?: string | undefined;
  /** Called with each outcome (metrics, logs). */
  readonly onOutcome?: ((outcome: O, delivery: Delivery) => void) | undefined;
  /** Stream errors the client reports, and deliveries the handler threw on (those are nacked). Default: a line on stderr. */
  readonly onError?: ((error: Error) => void) | undefined;
}

export interface PubSubWorkerStats {
  received: number;
  handled: number;
  failedToHandle: number;
  /** Deliveries that waited for an earlier delivery of the same request in this process. */
  coalesced: number;
}

export interface PubSubWorker {
  readonly subscription: Subscription;
  readonly stats: Readonly<PubSubWorkerStats>;
  /** In-flight deliveries. */
  readonly inFlight: number;
  /** Stop taking messages, let in-flight ones finish, send every ack, close the stream. Safe to call twice. */
  stop(): Promise<void>;
}

interface SubscriberInternals {
  _subscriber?: { _inventory?: { remove(m: Message): void }; modAck?(m: Message, deadline: number): Promise<void> };
  _handled?: boolean;
}

/**
 * Hand a message back with a delay: keep it unacked for `seconds`, then the service
 * redelivers it. The client has no public call for this (its `nack()` means "now"),
 * so we take the message out of the lease manager — which would otherwise keep
 * extending it — and set its deadline. If the client's internals change, we fall
 * back to an immediate nack and the subscription's retry policy provides the backoff.
 */
const releaseWithDelay = async (message: Message, seconds: number): Promise<void> => {
  const internals = message as unknown as SubscriberInternals;
  const sub = internals._subscriber;
  if (seconds <= 0 || sub?._inventory?.remove === undefined || sub.modAck === undefined || internals._handled === true) {
    await message.nackWithResponse();
    return;
  }
  internals._handled = true;
  sub._inventory.remove(message);
  await sub.modAck(message, seconds);
  // The client batches modAcks: the receipt modAck it sent on arrival may travel in
  // the same batch and land after ours. Once that batch is flushed, say it again.
  await sub.modAck(message, seconds);
};

/**
 * A streaming-pull consumer: each Pub/Sub message becomes a core `Delivery` and goes
 * to `worker.handleDelivery`. Flow control caps what is leased at once; the client
 * extends leases while a backfill runs (up to `maxExtensionMinutes`); acks use
 * `ackWithResponse`, so on an exactly-once subscription an ack that the service
 * refuses (lease lost) surfaces as an error instead of passing silently.
 */
export const startPubSubWorker = <O>(opts: PubSubWorkerOptions<O>): PubSubWorker => {
  let conn: { pubsub: PubSub; owned: boolean } | null = null;
  let subscription: Subscription;
  if (typeof opts.subscription === 'string') {
    conn = connectPubSub({ client: opts.client, apiEndpoint: opts.apiEndpoint, projectId: opts.projectId });
    subscription = conn.pubsub.subscription(opts.subscription);
  } else subscription = opts.subscription;

  const maxMessages = opts.flowControl?.maxMessages ?? 1000;
  const maxBytes = opts.flowControl?.maxBytes ?? 100 * 1024 * 1024;
  if (!Number.isInteger(maxMessages) || maxMessages < 1)
    throw new PubSubAdapterError('invalid_options', `flowControl.maxMessages must be a whole number >= 1, got ${String(maxMessages)}`);
  if (!Number.isInteger(maxBytes) || maxBytes < 1024)
    throw new PubSubAdapterError('invalid_options', `flowControl.maxBytes must be a whole number >= 1024, got ${String(maxBytes)}`);
  const maxExtensionMinutes = opts.maxExtensionMinutes ?? 60;
  if (!(maxExtensionMinutes > 0))
    throw new PubSubAdapterError('invalid_options', `maxExtensionMinutes must be > 0, got ${String(maxExtensionMinutes)}`);
  subscription.setOptions({
    flowControl: { maxMessages, maxBytes, allowExcessMessages: false },
    maxExtensionTime: Duration.from({ minutes: maxExtensionMinutes }),
  });

  const deadLetterTopic = opts.deadLetterTopic === undefined ? null : subscription.pubsub.topic(opts.deadLetterTopic);
  const attempts = new AttemptCounter();
  const inFlight = new InFlight();
  const stats: PubSubWorkerStats = { received: 0, handled: 0, failedToHandle: 0, coalesced: 0 };
  let stopping = false;
  const onError = opts.onError ?? ((e: Error) => console.error(`[smart-backfill] [pubsub] subscriber error: ${e.message}`));

  const toDelivery = (m: Message): Delivery => {
    const deliveryAttempt = attempts.next(m.id, m.deliveryAttempt);
    const message = toQueueMessage({ data: m.data, attributes: m.attributes, messageId: m.id, orderingKey: m.orderingKey });
    const settle = async (what: string, f: () => Promise<unknown>): Promise<void> => {
      try {
        await f();
      } catch (e) {
        throw new PubSubAdapterError(
          'ack_failed',
          `${what} of message ${m.id} (request ${message.id}) failed: ${describeError(e)}; it will be redelivered and deduped on its request id`,
          { cause: e },
        );
      }
    };
    const ack = (): Promise<void> =>
      settle('ack', async () => {
        await m.ackWithResponse();
        attempts.forget(m.id);
      });
    return {
      deliveryId: m.ackId,
      message,
      deliveryAttempt,
      ack,
      nack: (delayMs = 0) => settle('nack', () => releaseWithDelay(m, toDeadlineSeconds(delayMs, 0))),
      extendLease: (ms) => settle('lease extension', () => m.modAckWithResponse(toDeadlineSeconds(ms, 1))),
      deadLetter:
        deadLetterTopic === null
          ? undefined
          : async (reason: string) => {
              await deadLetterTopic.publishMessage({
                data: m.data,
                attributes: {
                  ...m.attributes,
                  ...deadLetterAttributes(reason, { subscription: subscription.name, messageId: m.id, deliveryAttempt }),
                },
              });
              await ack();
            },
    };
  };

  const onMessage = (m: Message): void => {
    stats.received++;
    if (stopping) {
      m.nack();
      return;
    }
    const delivery = toDelivery(m);
    void inFlight
      .run(delivery.message.id, async () => {
        const outcome = await opts.worker.handleDelivery(delivery);
        stats.handled++;
        opts.onOutcome?.(outcome, delivery);
      })
      .catch((e: unknown) => {
        // The handler should settle and not throw; if it threw, give the message back.
        stats.failedToHandle++;
        onError(new PubSubAdapterError('receive_failed', `handling message ${m.id} failed: ${describeError(e)}`, { cause: e }));
        m.nack();
      })
      .finally(() => {
        stats.coalesced = inFlight.coalesced;
      });
  };
  // A stream that ends with status OK (the server closing it) is not a failure; the client reopens it.
  const onStreamError = (e: Error): void => {
    if ((e as { code?: unknown }).code !== 0) onError(e);
  };
  subscription.on('message', onMessage);
  subscription.on('error', onStreamError);

  let stopped: Promise<void> | null = null;
  return {
    subscription,
    stats,
    get inFlight() {
      return inFlight.size;
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        await inFlight.idle();
        // Close while our 'message' listener is still attached. Removing the last one makes
        // the client close itself in the background, and our close() would then return at
        // once, before its acks were sent: a process that exits after stop() lost them, and
        // 200-300 of 2,000 acked messages came back. The client's close() sends every
        // pending ack and waits for the answers.
        await subscription.close();
        subscription.removeListener('message', onMessage);
        subscription.removeListener('error', onStreamError);
        if (conn?.owned === true) await conn.pubsub.close().catch(() => undefined);
      })();
      return stopped;
    },
  };
};
