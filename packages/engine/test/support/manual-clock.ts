import type { Clock } from '@smart-backfill/core';

interface Sleeper {
  readonly until: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/**
 * A clock that moves only when told. Stand-in until @smart-backfill/testkit's
 * ManualClock lands; same surface (now, sleep, advance, set).
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private sleepers: Sleeper[] = [];

  constructor(startMs: number = Date.UTC(2025, 10, 16, 8, 0, 0)) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) return reject(signal.reason);
      const s: Sleeper = {
        until: this.t + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((x) => x !== s);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(s);
    });
  }

  /** Move time forward, waking sleepers due by then in order, letting promise chains settle in between. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      const due = this.sleepers.filter((s) => s.until <= target).sort((a, b) => a.until - b.until || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.sleepers = this.sleepers.filter((s) => s !== due);
      this.t = Math.max(this.t, due.until);
      due.resolve();
      await settle();
    }
    this.t = target;
    await settle();
  }

  set(ms: number): void {
    this.t = ms;
  }

  pendingSleeps(): number {
    return this.sleepers.length;
  }
}

/** Let every queued promise continuation run (a few macrotask turns). */
export const settle = async (turns = 5): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
};
