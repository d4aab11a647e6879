import { describe, expect, it } from 'vitest';
import { addDays, dateRange, type GapPolicy, type IsoDate } from '@smart-backfill/core';
import { createMemoryStore, type MemoryStore } from '@smart-backfill/memory';
import {
  createWorker,
  processorRegistry,
  withSmartBackfill,
  type DeliveryOutcome,
  type Processor,
  type RunOptions,
  type Worker,
} from '@smart-backfill/engine';
import { ManualClock } from '@smart-backfill/testkit';
import { D, DAY, morningOf } from './support/world.js';
import { advance } from './support/time.js';

const TODAY = D('2025-11-16');
const BACKOFF = { baseMs: 1000, maxMs: 60_000 };

/** Two processors on one store, games every day, every date before today filled except `missing[name]`. */
const twoProcessors = (missing: Readonly<Record<string, IsoDate>>) => {
  const clock = new ManualClock(morningOf(TODAY));
  const store = createMemoryStore({ clock });
  const calls: { name: string; opts: RunOptions }[] = [];
  for (const name of Object.keys(missing)) {
    store.setSchedule(name, dateRange(D('2025-10-01'), D('2025-12-31')));
    for (const d of dateRange(D('2025-10-01'), addDays(TODAY, -1))) if (d !== missing[name]) store.setCount(name, d, 150);
  }
  const failing = (name: string): Processor => ({
    name,
    run: async (opts) => {
      calls.push({ name, opts });
      throw new Error(`${name}: source returned 503 on ${opts.date}`);
    },
  });
  const filling = (name: string): Processor => ({
    name,
    run: async (opts) => {
      calls.push({ name, opts });
      store.setCount(name, opts.date, 150);
      return { rows: 150 };
    },
  });
  return { clock, store, calls, failing, filling };
};

/** Run the worker, letting backoffs pass, until nothing is queued or processing; every outcome, in order. */
const drain = async (clock: ManualClock, store: MemoryStore, worker: Worker): Promise<DeliveryOutcome[]> => {
  const outcomes: DeliveryOutcome[] = [];
  for (let i = 0; i < 50 && store.requests().some((r) => r.status === 'queued' || r.status === 'processing'); i++) {
    outcomes.push(...(await worker.runOnce()).outcomes);
    await advance(clock, BACKOFF.maxMs);
  }
  return outcomes;
};

const byProcessor = (store: MemoryStore, outcomes: readonly DeliveryOutcome[], name: string): string[] => {
  const ids = new Set(
    store
      .requests()
      .filter((r) => r.processorName === name)
      .map((r) => r.requestId),
  );
  return outcomes.filter((o) => 'requestId' in o && o.requestId !== null && ids.has(o.requestId)).map((o) => o._tag);
};

describe('worker: each processor under its own policy', () => {
  it("retries each guarded processor up to its own maxAttempts (the guard's policy), not the largest", async () => {
    const { clock, store, calls, failing } = twoProcessors({ impatient: D('2025-11-15'), patient: D('2025-11-15') });
    const impatient = withSmartBackfill(failing('impatient'), { ...store, policy: { maxAttempts: 2 } });
    const patient = withSmartBackfill(failing('patient'), { ...store, policy: { maxAttempts: 4 } });
    for (const g of [impatient, patient])
      expect(await g.run({ date: TODAY })).toMatchObject({ _tag: 'Held', queued: [{ date: '2025-11-15' }] });

    // A worker-wide policy applies only where a processor has none of its own.
    const worker = createWorker({
      ...store,
      registry: processorRegistry([impatient, patient]),
      backoff: BACKOFF,
      policy: { maxAttempts: 3 },
    });
    const outcomes = await drain(clock, store, worker);

    expect(byProcessor(store, outcomes, 'impatient')).toEqual(['Retrying', 'FailedPermanently']);
    expect(byProcessor(store, outcomes, 'patient')).toEqual(['Retrying', 'Retrying', 'Retrying', 'FailedPermanently']);
    expect(calls.filter((c) => c.name === 'impatient')).toHaveLength(2);
    expect(calls.filter((c) => c.name === 'patient')).toHaveLength(4);
    const requests = new Map(store.requests().map((r) => [r.processorName, r]));
    expect(requests.get('impatient')).toMatchObject({ status: 'failed', failures: 2, gaveUp: false });
    expect(requests.get('patient')).toMatchObject({ status: 'failed', failures: 4, gaveUp: false });

    // The worker gave up exactly when each guard counts the budget spent: the next check escalates, never re-queues.
    await advance(clock, DAY);
    for (const g of [impatient, patient]) {
      expect(await g.run({ date: D('2025-11-17') })).toMatchObject({
        _tag: 'Escalated',
        decision: { reason: 'backfill_keeps_failing', dates: ['2025-11-15'] },
      });
    }
    expect(store.requests()).toHaveLength(2);
  });

  it('takes policyFor over the registry, filling what it leaves out from policy, then the defaults', async () => {
    const { clock, store, calls, failing } = twoProcessors({ a: D('2025-11-15'), b: D('2025-11-15'), c: D('2025-11-15') });
    // Queue one request each through guards with the default policy; the worker runs plain processors.
    for (const name of ['a', 'b', 'c']) await withSmartBackfill(failing(name), store).run({ date: TODAY });
    calls.length = 0;
    const asked: string[] = [];
    const own: Record<string, Partial<GapPolicy> | undefined> = { a: { maxAttempts: 2 }, b: { lookbackDays: 7 }, c: undefined };
    const worker = createWorker({
      ...store,
      registry: processorRegistry([failing('a'), failing('b'), failing('c')]),
      backoff: BACKOFF,
      policy: { maxAttempts: 1 },
      policyFor: (name) => (asked.push(name), own[name]),
    });
    const outcomes = await drain(clock, store, worker);
    expect(byProcessor(store, outcomes, 'a')).toEqual(['Retrying', 'FailedPermanently']);
    // b's answer has no maxAttempts and c has no answer: both fall back to the worker's policy (1).
    expect(byProcessor(store, outcomes, 'b')).toEqual(['FailedPermanently']);
    expect(byProcessor(store, outcomes, 'c')).toEqual(['FailedPermanently']);
    expect(new Set(asked)).toEqual(new Set(['a', 'b', 'c']));
    expect(calls.map((c) => c.name).sort()).toEqual(['a', 'a', 'b', 'c']);

    // With neither: the default maxAttempts (3).
    const d = twoProcessors({ d: D('2025-11-15') });
    await withSmartBackfill(d.failing('d'), d.store).run({ date: TODAY });
    const plain = createWorker({ ...d.store, registry: processorRegistry([d.failing('d')]), backoff: BACKOFF });
    expect(byProcessor(d.store, await drain(d.clock, d.store, plain), 'd')).toEqual(['Retrying', 'Retrying', 'FailedPermanently']);
  });

  it("bounds each processor's cascade by its own lookbackDays", async () => {
    // blockOn critical lets runs go ahead over an old gap; the cascade re-runs them once the gap heals.
    const { clock, store, calls, filling } = twoProcessors({ wide: D('2025-11-01'), narrow: D('2025-11-01') });
    const policy = { blockOn: 'critical', criticalLookbackDays: 10 } as const;
    const wide = withSmartBackfill(filling('wide'), { ...store, policy: { ...policy, lookbackDays: 30 } });
    const narrow = withSmartBackfill(filling('narrow'), { ...store, policy: { ...policy, lookbackDays: 15 } });
    for (const g of [wide, narrow]) expect(await g.run({ date: TODAY })).toMatchObject({ _tag: 'BackfillQueuedNotHeld' });
    await advance(clock, DAY);
    expect(await wide.run({ date: D('2025-11-17') })).toMatchObject({ _tag: 'Ran', reason: 'gaps_outside_critical_window' });
    expect(await narrow.run({ date: D('2025-11-17') })).toMatchObject({ _tag: 'Ran', reason: 'no_gaps' }); // 2025-11-01 slid out of its 15 days
    await advance(clock, DAY);
    calls.length = 0;

    // The largest lookback for everyone would cascade narrow's 2025-11-17 too (16 days after its gap).
    const worker = createWorker({
      ...store,
      registry: processorRegistry([wide, narrow]),
      resume: { cascade: true },
      policy: { lookbackDays: 30 },
    });
    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'Completed' }, { _tag: 'Completed' }]);
    const rerun = (name: string) => calls.filter((c) => c.name === name).map((c) => [c.opts.date, c.opts.trigger]);
    expect(rerun('wide')).toEqual([
      ['2025-11-01', 'backfill'],
      ['2025-11-16', 'cascade'],
      ['2025-11-17', 'cascade'],
    ]);
    expect(rerun('narrow')).toEqual([
      ['2025-11-01', 'backfill'],
      ['2025-11-16', 'cascade'],
    ]);
  });

  it('rejects a bad worker policy at once, and claims nothing for a processor whose policy is bad', async () => {
    const { store, calls, failing } = twoProcessors({ a: D('2025-11-15') });
    expect(() => createWorker({ ...store, registry: processorRegistry([failing('a')]), policy: { maxAttempts: 0 } })).toThrow(
      'invalid worker policy: maxAttempts must be a whole number >= 1, got 0',
    );
    // A lookback shorter than the default critical window is fine: the worker reads neither that nor the rest.
    expect(() => createWorker({ ...store, registry: processorRegistry([failing('a')]), policy: { lookbackDays: 5 } })).not.toThrow();

    await withSmartBackfill(failing('a'), store).run({ date: D('2025-11-16') });
    calls.length = 0;
    const worker = createWorker({
      ...store,
      registry: processorRegistry([failing('a')]),
      policyFor: () => ({ maxAttempts: 2.5, lookbackDays: -1 }),
    });
    const [o] = (await worker.runOnce()).outcomes;
    expect(o).toMatchObject({
      _tag: 'Error',
      error: expect.stringContaining(
        'invalid policy for processor "a": maxAttempts must be a whole number >= 1, got 2.5; lookbackDays must be a whole number >= 1, got -1',
      ),
    });
    expect(calls).toEqual([]);
    expect(store.requests()).toMatchObject([{ status: 'queued', attempt: 0, failures: 0 }]);

    const throwing = createWorker({
      ...store,
      registry: processorRegistry([failing('a')]),
      policyFor: () => {
        throw new Error('config not loaded');
      },
    });
    await advance(store.clock as ManualClock, 60_000);
    expect((await throwing.runOnce()).outcomes).toMatchObject([
      { _tag: 'Error', error: expect.stringContaining('could not get the policy of processor "a": config not loaded') },
    ]);
    expect(store.requests()).toMatchObject([{ status: 'queued', attempt: 0 }]);
  });
});
