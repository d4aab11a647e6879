import type { BackfillQueue, Clock, Delivery, PublishOutcome, QueueMessage } from '@smart-backfill/core';
import { seededRandom, type RandomSource } from './seeded-random.js';

/** The error an injected fault throws. `ambiguous`: the call's effect happened anyway. */
export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
  constructor(
    readonly kind: 'fail' | 'ambiguous',
    readonly method: string,
  ) {
    super(
      kind === 'fail'
        ? `[smart-backfill] [testkit] injected failure in ${method} (nothing was done)`
        : `[smart-backfill] [testkit] injected ambiguous failure in ${method} (the call took effect, the caller was told it failed)`,
    );
  }
}

export interface FaultOptions {
  /** Seed of the random source (ignored when `random` is given). */
  readonly seed?: number | string;
  readonly random?: RandomSource;
  /** Probability that a call throws before reaching the port. */
  readonly failRate?: number;
  /** Probability that a call reaches the port, succeeds, and then throws anyway. */
  readonly ambiguousRate?: number;
  /** Delay before each call, in ms of `clock` (or of real time when no clock is given). */
  readonly delayMs?: number | ((method: string) => number);
  readonly clock?: Clock;
  /** Only these methods get faults (default: every method). */
  readonly methods?: readonly string[];
  /** Faults are injected only while this returns true (default: always). */
  readonly enabled?: () => boolean;
  /** Told of each injected fault, e.g. to count them. */
  readonly onFault?: (fault: InjectedFault) => void;
}

const checkRate = (name: string, v: number | undefined): number => {
  const r = v ?? 0;
  if (!Number.isFinite(r) || r < 0 || r > 1)
    throw new RangeError(`[smart-backfill] [testkit] ${name} must be a probability in [0, 1], got ${String(v)}`);
  return r;
};

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Wrap any port (an object of async methods) so its calls fail, fail
 * ambiguously, or are delayed, drawing from a seeded random source. One draw per
 * call decides its fate: `< failRate` fails, `< failRate + ambiguousRate` is ambiguous.
 */
export const withFaults = <T extends object>(port: T, options: FaultOptions = {}): T => {
  const failRate = checkRate('failRate', options.failRate);
  const ambiguousRate = checkRate('ambiguousRate', options.ambiguousRate);
  if (failRate + ambiguousRate > 1) throw new RangeError('[smart-backfill] [testkit] failRate + ambiguousRate must be <= 1');
  const random = options.random ?? seededRandom(options.seed ?? 1);
  const only = options.methods === undefined ? undefined : new Set(options.methods);
  const sleep = options.clock !== undefined ? (ms: number) => options.clock!.sleep(ms) : realSleep;
  const delayOf = (m: string): number => (typeof options.delayMs === 'function' ? options.delayMs(m) : (options.delayMs ?? 0));
  const fault = (kind: InjectedFault['kind'], method: string): InjectedFault => {
    const f = new InjectedFault(kind, method);
    options.onFault?.(f);
    return f;
  };

  return new Proxy(port, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || (only !== undefined && !only.has(prop))) {
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      const fn = value as (...a: unknown[]) => unknown;
      return async (...args: unknown[]): Promise<unknown> => {
        const delay = delayOf(prop);
        if (delay > 0) await sleep(delay);
        const active = options.enabled === undefined || options.enabled();
        const roll = active ? random.next() : 1;
        if (roll < failRate) throw fault('fail', prop);
        const result = await fn.apply(target, args);
        if (roll < failRate + ambiguousRate) throw fault('ambiguous', prop);
        return result;
      };
    },
  });
};

export interface QueueFaultOptions {
  readonly seed?: number | string;
  readonly random?: RandomSource;
  /** Probability that a message's publish outcome is `PublishFailed` (ambiguous ones included). */
  readonly publishFailureRate?: number;
  /** Probability (of all messages, ≤ `publishFailureRate`) that a message is published but reported failed. */
  readonly ambiguousPublishRate?: number;
  /** Probability that an `ack` is silently lost, so the message comes back when its lease lapses. */
  readonly lostAckRate?: number;
  /** Acks are never lost once a delivery reaches this attempt (so a message is delivered at most this often through lost acks). */
  readonly maxDeliveries?: number;
  readonly enabled?: () => boolean;
  readonly onFault?: (fault: { readonly kind: 'publish_failed' | 'publish_ambiguous' | 'ack_lost'; readonly id: string }) => void;
}

/**
 * Queue-shaped faults: per-message publish failures (clean or ambiguous, as
 * `PublishFailed` outcomes, which is how the port reports them) and lost acks
 * (the transport's at-least-once redelivery).
 */
export const withQueueFaults = (queue: BackfillQueue, options: QueueFaultOptions = {}): BackfillQueue => {
  const failRate = checkRate('publishFailureRate', options.publishFailureRate);
  const ambiguous = checkRate('ambiguousPublishRate', options.ambiguousPublishRate);
  if (ambiguous > failRate)
    throw new RangeError(
      '[smart-backfill] [testkit] ambiguousPublishRate must be <= publishFailureRate (ambiguous failures are a share of all failures)',
    );
  const lostAck = checkRate('lostAckRate', options.lostAckRate);
  const maxDeliveries = options.maxDeliveries ?? 3;
  const random = options.random ?? seededRandom(options.seed ?? 1);
  const on = (): boolean => options.enabled === undefined || options.enabled();

  const wrapDelivery = (d: Delivery): Delivery => ({
    deliveryId: d.deliveryId,
    message: d.message,
    deliveryAttempt: d.deliveryAttempt,
    ack: async () => {
      if (on() && d.deliveryAttempt < maxDeliveries && random.chance(lostAck)) {
        options.onFault?.({ kind: 'ack_lost', id: d.message.id });
        return;
      }
      await d.ack();
    },
    nack: (ms?: number) => (ms === undefined ? d.nack() : d.nack(ms)),
    extendLease: (ms: number) => d.extendLease(ms),
    deadLetter: d.deadLetter === undefined ? undefined : (reason: string) => d.deadLetter!(reason),
  });

  const wrapped: BackfillQueue = {
    async publish(messages: readonly QueueMessage[]): Promise<readonly PublishOutcome[]> {
      const fate = messages.map((): 'ok' | 'fail' | 'ambiguous' => {
        if (!on()) return 'ok';
        const r = random.next();
        return r < ambiguous ? 'ambiguous' : r < failRate ? 'fail' : 'ok';
      });
      const toSend = messages.filter((_, i) => fate[i] !== 'fail');
      const sent = toSend.length > 0 ? await queue.publish(toSend) : [];
      let j = 0;
      return messages.map((m, i): PublishOutcome => {
        const f = fate[i];
        if (f === 'fail') {
          options.onFault?.({ kind: 'publish_failed', id: m.id });
          return { _tag: 'PublishFailed', id: m.id, error: 'injected publish failure (not sent)' };
        }
        const outcome = sent[j++];
        if (outcome === undefined) return { _tag: 'PublishFailed', id: m.id, error: 'queue returned fewer outcomes than messages' };
        if (f === 'ambiguous' && outcome._tag === 'Published') {
          options.onFault?.({ kind: 'publish_ambiguous', id: m.id });
          return { _tag: 'PublishFailed', id: m.id, error: 'injected ambiguous publish failure (the message was sent)' };
        }
        return outcome;
      });
    },
    async receive(opts) {
      return (await queue.receive(opts)).map(wrapDelivery);
    },
  };
  if (queue.close !== undefined) return { ...wrapped, close: () => queue.close!() };
  return wrapped;
};
