import type { Worker } from '@smart-backfill/engine';
import { CrashableProcess, type CrashPoint } from './crashable.js';
import { settle, type ManualClock } from './manual-clock.js';
import type { RandomSource } from './seeded-random.js';

const MIN = 60_000;

/** Where the pool counts the processes that died, and at which point. */
export interface CrashTally {
  workerCrashes: number;
  readonly crashesByPoint: Record<string, number>;
}

export interface SimulatedWorkerPoolOptions {
  readonly size: number;
  readonly clock: ManualClock;
  /** Draws each process's crashes (and nothing else the pool does). */
  readonly random: RandomSource;
  readonly crashRate: number;
  readonly tally: CrashTally;
  /** One worker running in `process`: its ports and processors wrapped by it, so they die with it. */
  readonly createWorker: (process: CrashableProcess, workerId: string) => Worker;
}

/** Worker processes side by side on a manual clock, each of which may die while handling a delivery. */
export interface SimulatedWorkerPool {
  /** Whether a worker is in the middle of a pass. */
  running(): boolean;
  /** Start a pass on every idle worker, then let every promise there is settle. */
  runIdle(): Promise<void>;
  /**
   * Move the clock `ms` forward a minute at a time, letting running workers settle after each
   * minute (and calling `settled` then), so heartbeats and long backfills see time pass.
   */
  advance(ms: number, settled?: () => void): Promise<void>;
}

export const createSimulatedWorkerPool = (options: SimulatedWorkerPoolOptions): SimulatedWorkerPool => {
  const { clock, tally } = options;
  interface Slot {
    readonly process: CrashableProcess;
    readonly worker: Worker;
    inflight: Promise<void> | null;
  }
  let generation = 0;
  const spawn = (): Slot => {
    const process = new CrashableProcess(
      options.random,
      options.crashRate,
      (p: CrashPoint) => {
        tally.workerCrashes++;
        tally.crashesByPoint[p] = (tally.crashesByPoint[p] ?? 0) + 1;
      },
      (ms) => clock.sleep(ms),
    );
    return { process, worker: options.createWorker(process, `worker-${++generation}`), inflight: null };
  };
  const slots = Array.from({ length: options.size }, spawn);
  const running = (): boolean => slots.some((s) => s.inflight !== null);
  // Everything a simulation runs is promises on the manual clock, no I/O: one macrotask turn
  // runs every microtask there is, so a settle leaves the world settled, and always the same way.
  const flush = (): Promise<void> => settle(1);
  return {
    running,
    async runIdle() {
      for (const [i, slot] of slots.entries()) {
        if (slot.inflight !== null) continue;
        // A dead process is replaced once its last promise has settled.
        const s = slot.process.dead ? (slots[i] = spawn()) : slot;
        s.inflight = s.worker
          .runOnce()
          .then(
            () => undefined,
            () => undefined,
          )
          .finally(() => {
            s.inflight = null;
          });
      }
      await flush();
    },
    async advance(ms, settled) {
      for (let t = 0; t < ms; t += MIN) {
        clock.advance(Math.min(MIN, ms - t));
        if (running()) {
          await flush();
          settled?.();
        }
      }
    },
  };
};
