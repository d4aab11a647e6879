import type { Clock } from '@smart-backfill/core';

interface Sleeper {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
  readonly cleanup: () => void;
}

/**
 * A `Clock` that moves only when told to. `sleep(ms)` resolves once the clock
 * has been advanced to (or past) `now + ms`, in deadline order, so tests and the
 * simulator run days of leases, backoffs and heartbeats in microseconds.
 */
export class ManualClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;

  constructor(startMs = Date.UTC(2025, 0, 1)) {
    if (!Number.isFinite(startMs))
      throw new RangeError(`[smart-backfill] [testkit] ManualClock start must be a finite number of epoch ms, got ${String(startMs)}`);
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    const at = this.current + Math.max(0, ms);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      const sleeper: Sleeper = {
        at,
        seq: this.seq++,
        resolve,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Move forward by `ms` (≥ 0), waking every sleeper whose deadline is reached. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`[smart-backfill] [testkit] ManualClock.advance takes ms >= 0, got ${String(ms)}`);
    this.set(this.current + ms);
  }

  /** Jump to `ms`. Time never goes backwards: an earlier instant is an error. */
  set(ms: number): void {
    if (!Number.isFinite(ms) || ms < this.current) {
      throw new RangeError(`[smart-backfill] [testkit] ManualClock.set cannot move back from ${this.current} to ${String(ms)}`);
    }
    this.current = ms;
    const due = this.sleepers.filter((s) => s.at <= ms).sort((a, b) => a.at - b.at || a.seq - b.seq);
    if (due.length === 0) return;
    this.sleepers = this.sleepers.filter((s) => s.at > ms);
    for (const s of due) {
      s.cleanup();
      s.resolve();
    }
  }

  /** How many `sleep` calls are waiting. */
  pendingSleeps(): number {
    return this.sleepers.length;
  }

  /** The earliest pending sleep deadline, if any (lets a driver jump straight to it). */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const s of this.sleepers) if (min === undefined || s.at < min) min = s.at;
    return min;
  }
}

/** Let every queued promise continuation run (a few macrotask turns). */
export const settle = async (turns = 5): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
};

/**
 * Move `clock` forward by `ms` one sleep deadline at a time, settling in between,
 * so a sleeper woken on the way (a heartbeat) can sleep again and wake again
 * within the same span, as it would in real time.
 */
export const advanceStepwise = async (clock: ManualClock, ms: number): Promise<void> => {
  const target = clock.now() + ms;
  for (let next = clock.nextDeadline(); next !== undefined && next <= target; next = clock.nextDeadline()) {
    clock.set(Math.max(clock.now(), next));
    await settle();
  }
  clock.set(target);
  await settle();
};
