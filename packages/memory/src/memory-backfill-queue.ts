import {
  countProblem,
  durationProblem,
  SmartBackfillError,
  type BackfillQueue,
  type Clock,
  type Delivery,
  type PublishOutcome,
  type QueueMessage,
  type ReceiveOptions,
} from '@smart-backfill/core';
import { check } from './check.js';

/** Where one message stands. `leased` with a lapsed lease is redelivered on the next `receive`. */
export type MessageState = 'ready' | 'leased' | 'acked' | 'dead';

export interface StoredMessage {
  readonly seq: number;
  readonly message: QueueMessage;
  readonly messageId: string;
  readonly publishedAt: number;
  readonly state: MessageState;
  /** Not delivered before this instant (nack delay). */
  readonly visibleAt: number;
  readonly leaseExpiresAt: number | null;
  /** Deliveries so far. */
  readonly deliveryAttempt: number;
  readonly deadLetterReason: string | null;
}

export interface QueueState {
  /** Deliverable now (including leased messages whose lease lapsed). */
  readonly ready: number;
  /** Waiting out a nack delay. */
  readonly delayed: number;
  readonly leased: number;
  readonly acked: number;
  readonly deadLettered: readonly { readonly id: string; readonly reason: string }[];
  readonly messages: readonly StoredMessage[];
  /** ack/nack/extend calls on a delivery that was no longer current (its lease lapsed and it was redelivered). */
  readonly staleCalls: number;
}

export interface MemoryBackfillQueueOptions {
  readonly clock: Clock;
  /** After this many deliveries a message is dead-lettered instead (Pub/Sub's dead-letter policy). Default: never. */
  readonly maxDeliveryAttempts?: number | undefined;
}

export interface MemoryBackfillQueue extends BackfillQueue {
  state(): QueueState;
}

interface Slot {
  seq: number;
  message: QueueMessage;
  messageId: string;
  publishedAt: number;
  state: MessageState;
  visibleAt: number;
  leaseExpiresAt: number | null;
  token: string | null;
  deliveryAttempt: number;
  deadLetterReason: string | null;
}

/**
 * An at-least-once queue in memory with leases, redelivery, `deliveryAttempt`,
 * nack delays and a dead-letter state, all timed by the given clock (a manual
 * clock makes leases lapse on `advance`). It does not dedupe on publish: the
 * same request id published twice is two messages, as on Pub/Sub.
 */
export const memoryBackfillQueue = (opts: MemoryBackfillQueueOptions): MemoryBackfillQueue => {
  const { clock } = opts;
  const slots: Slot[] = [];
  let seq = 0;
  let tokens = 0;
  let staleCalls = 0;
  let closed = false;
  let waiters: (() => void)[] = [];

  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  const deliverable = (s: Slot, now: number): boolean =>
    (s.state === 'ready' && s.visibleAt <= now) || (s.state === 'leased' && s.leaseExpiresAt !== null && s.leaseExpiresAt <= now);

  const current = (s: Slot, token: string): boolean => {
    if (s.token === token && s.state === 'leased') return true;
    staleCalls++;
    return false;
  };

  const take = (o: ReceiveOptions): Delivery[] => {
    const now = clock.now();
    const out: Delivery[] = [];
    const due = slots.filter((s) => deliverable(s, now)).sort((a, b) => a.visibleAt - b.visibleAt || a.seq - b.seq);
    for (const s of due) {
      if (out.length >= o.max) break;
      if (opts.maxDeliveryAttempts !== undefined && s.deliveryAttempt >= opts.maxDeliveryAttempts) {
        s.state = 'dead';
        s.token = null;
        s.deadLetterReason = `delivered ${s.deliveryAttempt} times without an ack`;
        continue;
      }
      const token = `d-${++tokens}`;
      s.state = 'leased';
      s.token = token;
      s.deliveryAttempt++;
      s.leaseExpiresAt = now + o.leaseMs;
      out.push({
        deliveryId: token,
        message: s.message,
        deliveryAttempt: s.deliveryAttempt,
        ack: async () => {
          if (!current(s, token)) return;
          s.state = 'acked';
          s.token = null;
          s.leaseExpiresAt = null;
        },
        nack: async (delayMs = 0) => {
          if (!current(s, token)) return;
          s.state = 'ready';
          s.token = null;
          s.leaseExpiresAt = null;
          s.visibleAt = clock.now() + Math.max(0, delayMs);
          wake();
        },
        extendLease: async (ms: number) => {
          if (!current(s, token)) return;
          s.leaseExpiresAt = clock.now() + ms;
        },
        deadLetter: async (reason: string) => {
          if (!current(s, token)) return;
          s.state = 'dead';
          s.token = null;
          s.leaseExpiresAt = null;
          s.deadLetterReason = reason;
        },
      });
    }
    return out;
  };

  return {
    async publish(messages) {
      if (closed) throw new SmartBackfillError('unavailable', 'the queue is closed', { origin: 'memory' });
      const now = clock.now();
      const outcomes: PublishOutcome[] = messages.map((m) => {
        const s: Slot = {
          seq: ++seq,
          message: m,
          messageId: `m-${seq}`,
          publishedAt: now,
          state: 'ready',
          visibleAt: now,
          leaseExpiresAt: null,
          token: null,
          deliveryAttempt: 0,
          deadLetterReason: null,
        };
        slots.push(s);
        return { _tag: 'Published', id: m.id, messageId: s.messageId };
      });
      if (messages.length > 0) wake();
      return outcomes;
    },
    async receive(o) {
      check(countProblem, o.max, 'max');
      check(durationProblem, o.leaseMs, 'leaseMs');
      if (o.waitMs !== undefined) check(durationProblem, o.waitMs, 'waitMs');
      if (closed) return [];
      const got = take(o);
      if (got.length > 0 || (o.waitMs ?? 0) <= 0 || o.signal?.aborted === true) return got;
      // Wait for a publish/nack, or until waitMs of the clock's time passes, or abort.
      const stop = new AbortController();
      const onAbort = (): void => stop.abort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      await Promise.race([
        new Promise<void>((resolve) => waiters.push(resolve)),
        clock.sleep(o.waitMs ?? 0, stop.signal).catch(() => undefined),
        new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true })),
      ]);
      stop.abort();
      o.signal?.removeEventListener('abort', onAbort);
      return closed ? [] : take(o);
    },
    async close() {
      closed = true;
      wake();
    },
    state() {
      const now = clock.now();
      return {
        ready: slots.filter((s) => deliverable(s, now)).length,
        delayed: slots.filter((s) => s.state === 'ready' && s.visibleAt > now).length,
        leased: slots.filter((s) => s.state === 'leased' && !deliverable(s, now)).length,
        acked: slots.filter((s) => s.state === 'acked').length,
        deadLettered: slots.filter((s) => s.state === 'dead').map((s) => ({ id: s.message.id, reason: s.deadLetterReason ?? '' })),
        messages: slots.map(({ token: _t, ...rest }) => ({ ...rest })),
        staleCalls,
      };
    },
  };
};
