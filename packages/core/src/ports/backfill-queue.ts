/**
 * A message on the backfill queue. The body is already encoded (the engine's
 * codec writes the seed's JSON); the queue moves bytes, it does not interpret them.
 */
export interface QueueMessage {
  /** The request id. Adapters may use it for publish-side dedupe; consumers dedupe on it, never on a transport message id. */
  readonly id: string;
  /** UTF-8 JSON text. */
  readonly data: string;
  /** `processor_name`, `game_date`, `request_id`, `attempt`: for filtering and dedupe. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Messages with the same key are delivered in publish order where the transport supports it. */
  readonly orderingKey?: string | undefined;
}

export type PublishOutcome =
  | { readonly _tag: 'Published'; readonly id: string; readonly messageId: string }
  | { readonly _tag: 'PublishFailed'; readonly id: string; readonly error: string; readonly cause?: unknown };

/** One delivery of one message. A message may be delivered more than once. */
export interface Delivery {
  /** Transport id of this delivery (not of the request). */
  readonly deliveryId: string;
  readonly message: QueueMessage;
  /** 1 on first delivery; grows with each redelivery. */
  readonly deliveryAttempt: number;
  /** Done with it: never deliver again. */
  ack(): Promise<void>;
  /** Give it back: deliver again after `delayMs` (default: at once). */
  nack(delayMs?: number): Promise<void>;
  /** Keep it leased for `ms` more from now (long backfills). */
  extendLease(ms: number): Promise<void>;
  /**
   * Park it in the dead-letter state with a reason. Transports without one
   * (Pub/Sub routes dead letters server-side) leave this undefined; the worker then acks.
   */
  deadLetter?: ((reason: string) => Promise<void>) | undefined;
}

export interface ReceiveOptions {
  /** At most this many deliveries. */
  readonly max: number;
  /** Each delivery is leased to the caller for this long unless acked, nacked or extended. */
  readonly leaseMs: number;
  /** Wait up to this long for the first message; 0 returns at once. */
  readonly waitMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Where backfill requests travel from the guard to the worker. At-least-once:
 * a message is delivered until acked; a lapsed lease redelivers it.
 */
export interface BackfillQueue {
  /**
   * Publish each message; one outcome per message, in order. A failure of one
   * message is an outcome, not an exception: the engine's outbox keeps it and the
   * relay republishes it. May throw only when nothing at all could be attempted.
   */
  publish(messages: readonly QueueMessage[]): Promise<readonly PublishOutcome[]>;
  /** Lease up to `max` deliveries. Resolves with an empty list when nothing arrived in `waitMs`. */
  receive(options: ReceiveOptions): Promise<readonly Delivery[]>;
  /** Release resources (connections, timers). Safe to call twice. */
  close?(): Promise<void>;
}
