/**
 * The tracking store (tracker, run log, alert log) goes away for 30 simulated
 * seconds in the middle of a run — it starts while a backfill is running, so
 * that backfill's `Complete` is among the calls that fail. Guard, worker, relay
 * and sweeper keep being called the whole time. Afterwards: no request lost,
 * none duplicated, every one completed, every held run resumed, every date whole.
 * Memory store + testkit's `withFaults` + `ManualClock`: deterministic.
 */
import { describe, expect, it } from 'vitest';
import { addDays, isoDate, type IsoDate } from '@smart-backfill/core';
import { createRelay, createSweeper, createWorker, processorRegistry, withSmartBackfill, type GuardOutcome } from '@smart-backfill/engine';
import { createMemoryStore } from '@smart-backfill/memory';
import { InjectedFault, ManualClock, withFaults } from '@smart-backfill/testkit';
import { record } from './figures.js';

const PROCESSORS = 10;
const OUTAGE_MS = 30_000;
const TICK_MS = 5_000;
const FIRST = isoDate('2025-03-01');
const RUN_DATE = isoDate('2025-03-21');

describe('tracking store unavailable for 30 s mid-run', () => {
  it('no request lost or duplicated; all statuses right after recovery; held runs resume', async () => {
    const clock = new ManualClock(Date.UTC(2025, 2, 21, 6));
    const store = createMemoryStore({ clock });
    let outageFrom = Number.POSITIVE_INFINITY;
    let outageUntil = Number.NEGATIVE_INFINITY;
    const down = (): boolean => clock.now() >= outageFrom && clock.now() < outageUntil;
    let faults = 0;
    const unavailable = { failRate: 1, enabled: down, onFault: () => void faults++ };
    const tracker = withFaults(store.tracker, { ...unavailable, seed: 1 });
    const runLog = withFaults(store.runLog, { ...unavailable, seed: 2 });
    const alertLog = withFaults(store.alertLog, { ...unavailable, seed: 3 });
    const deps = { ...store, tracker, runLog, alertLog, policy: { autoBackfillThreshold: 3, maxAttempts: 3 } };

    const dates = Array.from({ length: 20 }, (_, i) => addDays(FIRST, i));
    const names = Array.from({ length: PROCESSORS }, (_, i) => `p${i}`);
    const missing = new Map<string, IsoDate[]>();
    for (const [k, name] of names.entries()) {
      store.setSchedule(name, [...dates, RUN_DATE, addDays(RUN_DATE, 1)]);
      const gap = [dates[5 + k]!, dates[6 + k]!]; // two missing dates each: a small gap
      missing.set(name, gap);
      for (const d of dates) if (!gap.includes(d)) store.setCount(name, d, 500);
    }
    const runsOf = new Map<string, number>();
    const guards = names.map((name) =>
      withSmartBackfill(
        {
          name,
          run: async ({ date, isBackfill }: { date: IsoDate; isBackfill?: boolean }) => {
            const key = `${name}@${date}`;
            runsOf.set(key, (runsOf.get(key) ?? 0) + 1);
            // the outage begins while the first backfill is running: its Complete will fail
            if (isBackfill === true && outageFrom === Number.POSITIVE_INFINITY) {
              outageFrom = clock.now();
              outageUntil = outageFrom + OUTAGE_MS;
            }
            store.setCount(name, date, 500);
          },
        },
        deps,
      ),
    );
    const registry = processorRegistry(guards);
    const workers = [1, 2].map((i) =>
      createWorker({ ...deps, registry, workerId: `w${i}`, leaseMs: 20_000, batchSize: 4, backoff: { baseMs: 2_000, maxMs: 10_000 } }),
    );
    const relay = createRelay({ tracker, queue: store.queue, clock, olderThanMs: 10_000 });
    const sweeper = createSweeper({ tracker, queue: store.queue, clock });

    // the 2025-03-21 runs find their gaps: held, 2 backfills each
    const first: GuardOutcome[] = [];
    for (const g of guards) first.push(await g.run({ date: RUN_DATE }));
    expect(first.map((o) => o._tag)).toEqual(names.map(() => 'Held'));
    const expectedRequests = PROCESSORS * 2;
    expect(store.requests()).toHaveLength(expectedRequests);

    const tally: Record<string, number> = {};
    const count = (k: string): void => void (tally[k] = (tally[k] ?? 0) + 1);
    const duringOutage: string[] = [];
    const nextDay = addDays(RUN_DATE, 1);
    const retryLater = new Set<number>();
    for (let step = 0; step < 400; step++) {
      for (const w of workers) {
        const t = await w.runOnce();
        for (const o of t.outcomes) count(`worker.${o._tag}${down() ? ' (down)' : ''}`);
      }
      for (const [name, f] of [
        ['relay', () => relay.runOnce()],
        ['sweeper', () => sweeper.runOnce()],
      ] as const) {
        try {
          await f();
          count(`${name}.ok${down() ? ' (down)' : ''}`);
        } catch (e) {
          expect(e).toBeInstanceOf(InjectedFault); // the store's error surfaced, nothing else broke
          count(`${name}.threw (down)`);
        }
      }
      // the next day's scheduled runs arrive during the outage: they must not run blind
      if (down() && !duringOutage.length) {
        for (const [k, g] of guards.entries()) {
          const o = await g.run({ date: nextDay });
          duringOutage.push(o._tag);
          if (o._tag === 'Failed') retryLater.add(k); // a scheduler retries a failed run
        }
      }
      const active = store.requests().some((r) => r.status === 'queued' || r.status === 'processing');
      const held = (await store.runLog.heldRuns({ status: 'held' })).length;
      if (!down() && clock.now() > outageUntil && !active && held === 0) break;
      clock.advance(TICK_MS);
    }
    expect(outageFrom).toBeLessThan(Number.POSITIVE_INFINITY);
    // after recovery the scheduler retries the runs that failed during the outage
    const retried: string[] = [];
    for (const k of retryLater) retried.push((await guards[k]!.run({ date: nextDay }))._tag);

    const reqs = store.requests();
    // nothing lost, nothing twice
    expect(reqs.filter((r) => r.status !== 'completed')).toEqual([]);
    const pairs = new Set(reqs.map((r) => `${r.processorName}@${r.date}`));
    expect(pairs.size).toBe(reqs.length);
    expect(reqs).toHaveLength(expectedRequests);
    for (const [name, gap] of missing) for (const d of gap) expect(pairs.has(`${name}@${d}`)).toBe(true);
    // every held run was resumed, every date whole, no processor's date produced twice by a backfill
    expect(await store.runLog.heldRuns({ status: 'held' })).toEqual([]);
    const resumed = await store.runLog.heldRuns({ status: 'resumed' });
    expect(resumed).toHaveLength(PROCESSORS);
    for (const name of names) for (const d of [...dates, RUN_DATE]) expect(store.target.count(name, d)).toBeGreaterThanOrEqual(500);
    // during the outage the guard refused to guess (Failed at check), and recovered afterwards
    expect(duringOutage.length).toBe(PROCESSORS);
    expect(duringOutage.every((t) => t === 'Failed')).toBe(true);
    expect(retried.every((t) => t === 'Ran')).toBe(true);
    expect(faults).toBeGreaterThan(0);
    expect(store.queueState().leased + store.queueState().ready).toBe(0);
    record('outage', `${PROCESSORS} processors, ${OUTAGE_MS / 1000} s outage`, {
      requests: reqs.length,
      completed: reqs.filter((r) => r.status === 'completed').length,
      duplicates: reqs.length - pairs.size,
      heldRunsResumed: resumed.length,
      guardDuringOutage: duringOutage.join(',').replace(/(Failed,?)+/, `Failed×${duringOutage.length}`),
      retriedAfter: retried.length,
      injectedStoreErrors: faults,
      maxAttempt: Math.max(...reqs.map((r) => r.attempt)),
      calls: tally,
    });
  });
});
