/**
 * Poison jobs: one backfill that always throws, one whose run always kills its
 * worker process. Each must end failed (or dead-lettered) within its bound —
 * `maxAttempts` real failures, `maxLeaseLapses` lapsed claims — while every
 * healthy job beside it completes, even the ones that shared a batch (and so a
 * dying process) with it: a request whose claim lapsed runs alone afterwards,
 * so only the job that was running when the process died is charged the lapse.
 * Count-based, on the memory store with a manual clock, through the engine's
 * real worker and guard.
 */
import { describe, expect, it } from 'vitest';
import { addDays, isoDate, type IsoDate } from '@smart-backfill/core';
import { createWorker, isPoison, processorRegistry, queueMessageForRequest, withSmartBackfill, type Worker } from '@smart-backfill/engine';
import { createMemoryStore } from '@smart-backfill/memory';
import { CrashableProcess, ManualClock, seededRandom } from '@smart-backfill/testkit';
import { record } from './figures.js';
import { aRequest } from './support.js';

const HEALTHY = 200;
const MAX_ATTEMPTS = 3;
const MAX_LAPSES = 3;
const LEASE = 60_000;
const START = isoDate('2025-01-01');

const setup = (mode: 'throws' | 'crashes', batch: number) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const store = createMemoryStore({ clock });
  const dates = Array.from({ length: HEALTHY + 1 }, (_, i) => addDays(START, i));
  const poisonDate = dates[100]!;
  store.setSchedule('daily', dates);
  for (const d of dates) store.setCount('daily', d, d === poisonDate ? 0 : 500);
  const runs = new Map<IsoDate, number>();
  /** The "process" the current worker lives in: when it dies every port call it makes fails, as if it were gone. */
  // CrashableProcess with crash rate 0: it never dies by chance, only when the poison run marks it dead.
  let process = new CrashableProcess(seededRandom(1), 0, () => undefined);
  const daily = {
    name: 'daily',
    run: async ({ date }: { date: IsoDate }) => {
      runs.set(date, (runs.get(date) ?? 0) + 1);
      if (date === poisonDate) {
        if (mode === 'crashes') process.dead = true;
        throw new Error(`cannot parse the source file for ${date}`);
      }
      store.setCount('daily', date, 500);
    },
  };
  const guard = withSmartBackfill(daily, { ...store, policy: { maxAttempts: MAX_ATTEMPTS, autoBackfillThreshold: 3 } });
  const newWorker = (): Worker => {
    const proc = new CrashableProcess(seededRandom(1), 0, () => undefined);
    process = proc;
    return createWorker({
      queue: proc.queue(store.queue),
      tracker: proc.tracker(store.tracker),
      runLog: proc.runLog(store.runLog),
      clock,
      registry: processorRegistry([guard]),
      policy: { maxAttempts: MAX_ATTEMPTS },
      maxLeaseLapses: MAX_LAPSES,
      leaseMs: LEASE,
      backoff: { baseMs: 1_000, maxMs: 4_000 },
      resume: false,
      batchSize: batch,
    });
  };
  return { clock, store, dates, poisonDate, runs, guard, newWorker, isDead: () => process.dead };
};

const CASES = [
  { mode: 'throws', batch: 10 },
  { mode: 'crashes', batch: 1 },
  { mode: 'crashes', batch: 10 },
] as const;

describe.each(CASES)('a poison job that always $mode (worker batch $batch)', ({ mode, batch }) => {
  it(`ends failed within its bound; all ${HEALTHY} healthy jobs beside it complete`, async () => {
    const { clock, store, dates, poisonDate, runs, guard, newWorker, isDead } = setup(mode, batch);
    const reqs = dates.map((d, i) => aRequest(`r-${i}`, 'daily', d, clock.now()));
    const { created } = await store.tracker.create(reqs);
    await store.queue.publish(created.map(queueMessageForRequest));

    let worker = newWorker();
    let workers = 1;
    const outcomes: Record<string, number> = {};
    for (let step = 0; step < 5_000; step++) {
      const active = store.requests().filter((r) => r.status === 'queued' || r.status === 'processing').length;
      if (active === 0) break;
      const tick = await worker.runOnce({ max: batch });
      for (const o of tick.outcomes) outcomes[o._tag] = (outcomes[o._tag] ?? 0) + 1;
      if (isDead()) {
        // the process died: a fresh one takes over, the dead one's lease must lapse first
        worker = newWorker();
        workers++;
      }
      if (tick.received === 0) clock.advance(10_000);
    }

    const poison = store.requests().find((r) => r.date === poisonDate)!;
    const healthy = store.requests().filter((r) => r.date !== poisonDate);
    const healthyCompleted = healthy.filter((r) => r.status === 'completed').length;
    const poisonRuns = runs.get(poisonDate) ?? 0;

    expect(poison.status).toBe('failed');
    // no healthy job fails as collateral of the poison, even when it shared the dying process's batch
    const collateral = healthy.filter((r) => r.status !== 'completed');
    expect(collateral).toEqual([]);
    expect(healthyCompleted).toBe(HEALTHY);
    for (const r of healthy) {
      // a batch-mate of the poison's first (fresh) run lapses once at most; afterwards the poison runs alone
      expect(r.attempt - 1 - r.failures, r.date).toBeLessThanOrEqual(mode === 'crashes' && batch > 1 ? 1 : 0);
      expect(isPoison(r)).toBe(false);
    }
    if (mode === 'throws' || batch === 1) {
      // nothing shares its fate: each healthy job ran once
      for (const d of dates) if (d !== poisonDate) expect(runs.get(d)).toBe(1);
    } else {
      // the batch-mates of its first run ran again (their results died with the process); nobody else did
      const reran = dates.filter((d) => d !== poisonDate && runs.get(d) !== 1);
      expect(reran.length).toBeLessThan(batch);
      for (const d of reran) expect(runs.get(d)).toBe(2);
    }
    if (mode === 'throws') {
      expect(poisonRuns).toBe(MAX_ATTEMPTS);
    } else {
      // each run killed its worker; after MAX_LAPSES lapsed claims the next claim fails it unrun
      expect(poisonRuns).toBeLessThanOrEqual(MAX_LAPSES);
      expect(isPoison(poison)).toBe(true);
    }

    // the next check of a date after it escalates instead of re-queueing it forever
    const outcome = await guard.run({ date: addDays(poisonDate, 1) });
    expect(outcome._tag).toBe('Escalated');
    if (outcome._tag === 'Escalated') {
      expect(outcome.decision.reason).toBe('backfill_keeps_failing');
      expect(outcome.decision.dates).toContain(poisonDate);
    }
    expect(store.requests().filter((r) => r.date === poisonDate)).toHaveLength(1); // never re-queued
    record('poison', `${mode}, batch ${batch}`, {
      collateralFailed: collateral.length,
      healthyJobs: HEALTHY,
      healthyCompleted,
      healthyShare: healthyCompleted / HEALTHY,
      poisonRuns,
      bound: mode === 'throws' ? `maxAttempts ${MAX_ATTEMPTS}` : `maxLeaseLapses ${MAX_LAPSES}`,
      poisonFinal: poison.status,
      poisonAttempts: poison.attempt,
      workerProcesses: workers,
      escalated: outcome._tag === 'Escalated',
      outcomes,
    });
  });
});
