import { expect } from 'vitest';
import type { Delivery } from '@smart-backfill/core';
import type { ManualClock } from '../manual-clock.js';
import type { QueueSubject } from './types.js';

/**
 * Time as a queue contract case sees it. With a queue that follows the manual
 * clock, time passes when the case says so and every receive answers at once.
 * With a queue on real time (an emulator), leases are short real leases, a receive
 * that expects messages polls until they arrive (bounded), a receive that expects
 * none polls for the span in question, and the manual clock is moved alongside
 * real time so the engine's heartbeats and tracker leases keep step.
 */
export interface QueueTiming {
  readonly real: boolean;
  /** A short lease: `short` ms of manual time, or the subject's real lease. */
  readonly lease: number;
  /** Let `ms` pass: the manual clock always; real time too in real-time mode. */
  pass(ms: number): Promise<void>;
  /** Exactly `n` deliveries (fails when they do not come within the bound). */
  collect(n: number, leaseMs: number): Promise<Delivery[]>;
  /** Nothing deliverable now, and (real time) for the next `forMs`. */
  none(forMs?: number): Promise<void>;
  /** One receive: `waitMs` 0 with the manual clock, a short server-side wait otherwise. */
  receiveOnce(max: number, leaseMs: number): Promise<readonly Delivery[]>;
}

const REAL_WAIT_MS = 500;
/** How long real-time polling waits beyond the leases in play before giving up. */
const REAL_SLACK_MS = 20_000;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const queueTiming = (s: QueueSubject, clock: ManualClock, short: number): QueueTiming => {
  const real = s.followsClock === false;
  const lease = real ? (s.realLeaseMs ?? 3000) : short;
  const receiveOnce = (max: number, leaseMs: number): Promise<readonly Delivery[]> =>
    s.queue.receive({ max, leaseMs, waitMs: real ? REAL_WAIT_MS : 0 });
  return {
    real,
    lease,
    receiveOnce,
    async pass(ms) {
      clock.advance(ms);
      if (real) await realSleep(ms);
    },
    async collect(n, leaseMs) {
      if (!real) return [...(await receiveOnce(n, leaseMs))];
      const got: Delivery[] = [];
      // Long enough for any lease or nack delay a case sets to lapse, plus a loaded machine.
      const deadline = performance.now() + 4 * lease + REAL_SLACK_MS;
      while (got.length < n && performance.now() < deadline) got.push(...(await receiveOnce(n - got.length, leaseMs)));
      return got;
    },
    async none(forMs = 0) {
      if (!real) {
        expect(await receiveOnce(10, 60_000)).toEqual([]);
        return;
      }
      const until = performance.now() + forMs;
      do {
        const got = await receiveOnce(10, 60_000);
        expect(got.map((d) => d.message.id)).toEqual([]);
      } while (performance.now() < until);
    },
  };
};
