import { describe, expect, it } from 'vitest';
import { buildPipelineGraph, dateRange, DEFAULT_POLICY, isoDate, type IsoDate, type PipelineGraph } from '@smart-backfill/core';
import { createMemoryStore } from '@smart-backfill/memory';
import {
  createWorker,
  healDownstream,
  resumeHeldForInputs,
  processorRegistry,
  queueMessageForRequest,
  UPSTREAM_HEALED,
  withSmartBackfill,
  type GuardedProcessor,
  type Processor,
} from '@smart-backfill/engine';
import { ManualClock } from '@smart-backfill/testkit';

const D = isoDate;
const MINUTE = 60_000;

const NODES = [
  { name: 'weekly_revenue', dependsOn: [{ processor: 'orders_daily', lookbackDays: 6 }] },
  { name: 'pos_sales' },
  { name: 'orders_daily', dependsOn: [{ processor: 'pos_sales', lookbackDays: 0 }] },
];
const graph: PipelineGraph = (() => {
  const g = buildPipelineGraph(NODES);
  if (g._tag === 'Err') throw new Error('bad graph');
  return g.value;
})();

/** pos_sales (till receipts) → orders_daily (the same day) → weekly_revenue (six days back), in memory. */
const shop = (missing: Partial<Record<string, IsoDate[]>>, today: IsoDate) => {
  const clock = new ManualClock(Date.parse(`${today}T08:00:00Z`));
  const store = createMemoryStore({ clock });
  for (const n of graph.order) {
    store.setSchedule(n, dateRange(D('2025-10-01'), D('2025-12-31')));
    for (const d of dateRange(D('2025-10-01'), today)) if (!(missing[n] ?? []).includes(d)) store.setCount(n, d, 150);
  }
  const calls: string[] = [];
  const processor = (name: string): Processor => ({
    name,
    run: async (o) => {
      calls.push(`${name} ${o.date} ${o.trigger ?? ''}`);
      store.setCount(name, o.date, 150);
    },
  });
  const guards = new Map<string, GuardedProcessor>(
    graph.order.map((n) => [
      n,
      withSmartBackfill(processor(n), {
        ...store,
        upstream: (graph.dependsOn.get(n) ?? []).map((d) => ({ ...d, window: store.window, policy: DEFAULT_POLICY })),
      }),
    ]),
  );
  const guard = (n: string): GuardedProcessor => guards.get(n)!;
  const worker = (id: string) => createWorker({ ...store, registry: processorRegistry(guards.values()), pipeline: graph, workerId: id });
  /** A person's backfill of pos_sales 2025-11-10, recorded and published as the CLI does. */
  const manualFix = async (metadata: Record<string, unknown>): Promise<void> => {
    const { created } = await store.tracker.create([
      {
        requestId: 'fix-10',
        processorName: 'pos_sales',
        date: D('2025-11-10'),
        requestType: 'manual',
        priority: 'high',
        requestedAt: clock.now(),
        requestedBy: 'ops',
        triggerReason: 'manual_backfill',
        metadata,
      },
    ]);
    await store.queue.publish(created.map(queueMessageForRequest));
  };
  return { clock, store, calls, guard, worker, manualFix };
};

describe('healing flows down', () => {
  it('a lost till day: both levels held, one upstream backfill, then each level resumed once, in order', async () => {
    const day = D('2025-11-15');
    const { clock, store, calls, guard, worker } = shop({ pos_sales: [day], orders_daily: [day], weekly_revenue: [day] }, day);
    expect(await guard('orders_daily').run({ date: day })).toMatchObject({ _tag: 'Held', upstream: [{ queued: [day] }] });
    // weekly_revenue waits for orders_daily's day, which waits for its own input: nothing is backfilled from an incomplete input.
    expect(await guard('weekly_revenue').run({ date: day })).toMatchObject({
      _tag: 'Held',
      upstream: [{ processor: 'orders_daily', queued: [], inFlight: [day] }],
    });
    expect(store.requests().map((r) => `${r.processorName} ${r.date}`)).toEqual([`pos_sales ${day}`]);

    clock.advance(5 * MINUTE);
    const tick = await worker('w1').runOnce();
    expect(tick.outcomes).toMatchObject([{ _tag: 'Completed' }]);
    expect(calls).toEqual([`pos_sales ${day} backfill`, `orders_daily ${day} resume`, `weekly_revenue ${day} resume`]);
    expect(await store.runLog.heldRuns({ status: 'held' })).toEqual([]);
    expect((await store.runLog.heldRuns({})).map((h) => `${h.processorName} ${h.status}`).sort()).toEqual([
      'orders_daily resumed',
      'weekly_revenue resumed',
    ]);
    // Nothing left to do, and a second pass does nothing again.
    expect(await worker('w2').runOnce()).toMatchObject({ outcomes: [] });
    expect(calls).toHaveLength(3);
  });

  it('a later run finds the held day missing in its own window: it waits for it, never backfills it from the missing input', async () => {
    const lost = D('2025-11-10');
    const { clock, store, calls, guard, worker } = shop({ pos_sales: [lost], orders_daily: [lost] }, D('2025-11-12'));
    expect(await guard('orders_daily').run({ date: lost })).toMatchObject({ _tag: 'Held', upstream: [{ queued: [lost] }] });
    expect(await guard('orders_daily').run({ date: D('2025-11-11') })).toMatchObject({ _tag: 'Held', queued: [], inFlight: [lost] });
    expect(store.requests().map((r) => r.processorName)).toEqual(['pos_sales']);
    clock.advance(MINUTE);
    await worker('w1').runOnce();
    expect(calls).toEqual([`pos_sales ${lost} backfill`, `orders_daily ${lost} resume`, 'orders_daily 2025-11-11 resume']);
    expect(await store.runLog.heldRuns({ status: 'held' })).toEqual([]);
  });

  it('racing healers: each held run is re-run by one of them', async () => {
    const day = D('2025-11-15');
    const { store, calls, guard } = shop({ pos_sales: [day], orders_daily: [day] }, day);
    await guard('orders_daily').run({ date: day });
    store.setCount('pos_sales', day, 150);
    const [r] = store.requests();
    await store.tracker.apply(r!.requestId, { _tag: 'Claim', at: store.clock.now(), owner: 'x', leaseMs: MINUTE });
    await store.tracker.apply(r!.requestId, { _tag: 'Complete', at: store.clock.now(), attempt: 1 });
    const deps = { ...store, graph, guardFor: guard };
    const results = await Promise.all([1, 2, 3].map(() => healDownstream(deps, 'pos_sales', [day], store.clock.now())));
    expect(results.flatMap((r) => r.resumed)).toEqual([{ processorName: 'orders_daily', runDate: day }]);
    expect(calls).toEqual([`orders_daily ${day} resume`]);
  });

  it("a person's backfill without its downstream rebuilds only itself", async () => {
    const { clock, store, calls, guard, worker, manualFix } = shop({}, D('2025-11-16'));
    await guard('orders_daily').run({ date: D('2025-11-10') });
    calls.length = 0;
    clock.advance(MINUTE);
    await manualFix({});
    await worker('w1').runOnce();
    expect(calls).toEqual(['pos_sales 2025-11-10 backfill']);
    expect(store.requests()).toHaveLength(1);
  });

  it('a worker that died between the completion and the heal: the periodic pass resumes the held runs, once, in order', async () => {
    const day = D('2025-11-15');
    const { clock, store, calls, guard } = shop({ pos_sales: [day], orders_daily: [day], weekly_revenue: [day] }, day);
    await guard('orders_daily').run({ date: day });
    await guard('weekly_revenue').run({ date: day });
    const deps = { ...store, graph, guardFor: guard };
    // Nothing has changed since the holds: the pass leaves them alone.
    expect(await resumeHeldForInputs(deps)).toMatchObject({ resumed: [] });
    store.setCount('pos_sales', day, 150);
    const [r] = store.requests();
    clock.advance(MINUTE);
    await store.tracker.apply(r!.requestId, { _tag: 'Claim', at: store.clock.now(), owner: 'dead', leaseMs: MINUTE });
    await store.tracker.apply(r!.requestId, { _tag: 'Complete', at: store.clock.now(), attempt: 1 });
    const passes = await Promise.all([resumeHeldForInputs(deps), resumeHeldForInputs(deps)]);
    expect(calls).toEqual([`orders_daily ${day} resume`, `weekly_revenue ${day} resume`]);
    expect(passes.flatMap((p) => p.resumed).map((x) => x.processorName)).toEqual(['orders_daily', 'weekly_revenue']);
    expect(await store.runLog.heldRuns({ status: 'held' })).toEqual([]);
  });

  it('the periodic pass also resumes a level whose input was produced by a resumed run (the healer died in between)', async () => {
    const day = D('2025-11-15');
    const { clock, store, calls, guard } = shop({ pos_sales: [day], orders_daily: [day], weekly_revenue: [day] }, day);
    await guard('orders_daily').run({ date: day });
    await guard('weekly_revenue').run({ date: day });
    store.setCount('pos_sales', day, 150);
    const [r] = store.requests();
    clock.advance(MINUTE);
    await store.tracker.apply(r!.requestId, { _tag: 'Claim', at: store.clock.now(), owner: 'dead', leaseMs: MINUTE });
    await store.tracker.apply(r!.requestId, { _tag: 'Complete', at: store.clock.now(), attempt: 1 });
    // The healer resumed orders_daily as healDownstream does, then died before the next level.
    const claim = await store.runLog.claimResume('orders_daily', day, { claimant: 'dead', at: store.clock.now(), leaseMs: MINUTE });
    const o = await guard('orders_daily').run({ date: day, trigger: 'resume' });
    await store.runLog.finishResume(claim!, { runId: o.runId, at: store.clock.now() });
    calls.length = 0;
    await resumeHeldForInputs({ ...store, graph, guardFor: guard });
    expect(calls).toEqual([`weekly_revenue ${day} resume`]);
  });

  it('dates built before their input was rebuilt are rebuilt once each, level by level, recorded as cascade', async () => {
    const today = D('2025-11-16');
    const { clock, store, calls, guard, worker, manualFix } = shop({}, today);
    const built = dateRange(D('2025-11-10'), D('2025-11-12'));
    for (const d of built) await guard('orders_daily').run({ date: d });
    for (const d of built) await guard('weekly_revenue').run({ date: d });
    calls.length = 0;

    // The till data of the 10th is rebuilt (a manual backfill with its downstream): what read it is stale.
    clock.advance(MINUTE);
    await manualFix({ with_downstream: true });
    const w = worker('w1');
    for (let i = 0; i < 5; i++) {
      clock.advance(MINUTE);
      await w.runOnce();
    }
    expect(calls).toEqual([
      'pos_sales 2025-11-10 backfill',
      'orders_daily 2025-11-10 cascade',
      ...built.map((d) => `weekly_revenue ${d} cascade`),
    ]);
    const cascades = (await store.runLog.runs({})).filter((r) => r.trigger === 'cascade');
    expect(cascades.map((r) => `${r.processorName} ${r.runDate} ${r.outcome}`)).toEqual([
      'orders_daily 2025-11-10 succeeded',
      ...built.map((d) => `weekly_revenue ${d} succeeded`),
    ]);
    expect(store.requests().filter((r) => r.status !== 'completed')).toEqual([]);
  });

  it('a backfill handed out before (or with) an input date it reads that is being rebuilt waits for it, spending no attempt, then is built once after it', async () => {
    const { clock, store, calls, worker } = shop({}, D('2025-11-16'));
    const day = D('2025-11-10');
    const request = (processorName: string, triggerReason: string) => ({
      requestId: `fix-${processorName}`,
      processorName,
      date: day,
      requestType: 'manual' as const,
      priority: 'high' as const,
      requestedAt: clock.now(),
      requestedBy: 'ops',
      triggerReason,
      metadata: { with_downstream: true },
    });
    // Out of order: the rebuild of what reads the till day comes first in the queue.
    const { created } = await store.tracker.create([request('orders_daily', UPSTREAM_HEALED), request('pos_sales', 'manual_backfill')]);
    await store.queue.publish(created.map(queueMessageForRequest));
    const w = worker('w1');
    const first = await w.runOnce();
    expect(first.outcomes).toContainEqual(
      expect.objectContaining({ _tag: 'Busy', requestId: 'fix-orders_daily', waitingFor: [`pos_sales ${day}`] }),
    );
    expect(store.requests().find((r) => r.requestId === 'fix-orders_daily')).toMatchObject({ status: 'queued', failures: 0 });
    for (let i = 0; i < 5; i++) {
      clock.advance(MINUTE);
      await w.runOnce();
    }
    expect(calls).toEqual([`pos_sales ${day} backfill`, `orders_daily ${day} cascade`]);
    expect(store.requests().map((r) => `${r.processorName} ${r.status} ${r.failures}`)).toEqual([
      'orders_daily completed 0',
      'pos_sales completed 0',
    ]);
  });
});
