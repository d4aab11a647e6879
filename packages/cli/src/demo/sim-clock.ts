import type { Clock } from '@smart-backfill/core';

interface Sleeper {
  readonly due: number;
  readonly resolve: () => void;
}

/**
 * The demo's clock: time moves only when the story moves it (`set`, `advance`).
 * A `sleep` resolves when the story passes its due time, so a worker's heartbeat
 * waits quietly while a backfill runs instead of racing the clock forward.
 */
export class SimulatedClock implements Clock {
  private t: number;
  private sleepers: Sleeper[] = [];
  constructor(startMs: number) {
    this.t = startMs;
  }
  now(): number {
    return this.t;
  }
  /** Move to `ms` (never backwards). */
  set(ms: number): void {
    if (ms <= this.t) return;
    this.t = ms;
    const due = this.sleepers.filter((s) => s.due <= ms);
    this.sleepers = this.sleepers.filter((s) => s.due > ms);
    for (const s of due) s.resolve();
  }
  advance(ms: number): void {
    this.set(this.t + ms);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        due: this.t + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }
}
