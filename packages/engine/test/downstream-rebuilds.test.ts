import { describe, expect, it } from 'vitest';
import { buildPipelineGraph, dateRange, DEFAULT_POLICY, isoDate, type PipelineGraph, type PipelineNode } from '@smart-backfill/core';
import { createMemoryStore } from '@smart-backfill/memory';
import { healDownstream, resumeHeldForInputs, UPSTREAM_HEALED, withSmartBackfill, type GuardedProcessor } from '@smart-backfill/engine';
import { aRunRecord, ManualClock } from '@smart-backfill/testkit';

// Found by testkit's simulateGraph (docs/reliability.md, "Pipeline graph"): rebuilds after a
// restated upstream date were lost when the worker died between the completion and its heal,
// and a diamond rebuilt its bottom from one branch before the other branch had changed.

const D = isoDate;
const MINUTE = 60_000;
const day = D('2025-11-10');

const world = (nodes: readonly PipelineNode[]) => {
  const g = buildPipelineGraph(nodes);
  if (g._tag === 'Err') throw new Error('bad graph');
  const graph: PipelineGraph = g.value;
  const clock = new ManualClock(Date.parse('2025-11-10T06:00:00Z'));
  const store = createMemoryStore({ clock });
  const calls: string[] = [];
  const guards = new Map<string, GuardedProcessor>();
  for (const n of graph.order) {
    store.setSchedule(n, dateRange(D('2025-10-01'), D('2025-11-30')));
    for (const d of dateRange(D('2025-10-01'), D('2025-11-09'))) store.setCount(n, d, 150);
    guards.set(
      n,
      withSmartBackfill(
        {
          name: n,
          run: async (o) => {
            calls.push(`${n} ${o.date} ${o.trigger ?? ''}`);
            store.setCount(n, o.date, 150);
          },
        },
        { ...store, upstream: (graph.dependsOn.get(n) ?? []).map((d) => ({ ...d, window: store.window, policy: DEFAULT_POLICY })) },
      ),
    );
  }
  const guard = (n: string): GuardedProcessor => guards.get(n)!;
  const deps = { ...store, graph, guardFor: guard };
  /** A backfill of `name` for the day, run and completed by a worker that then dies before its heal. */
  const completeWithoutHeal = async (name: string, metadata: Record<string, unknown>, requestType: 'manual' | 'auto' = 'manual') => {
    const { created } = await store.tracker.create([
      {
        requestId: `fix-${name}`,
        processorName: name,
        date: day,
        requestType,
        priority: 'high',
        requestedAt: clock.now(),
        requestedBy: 'ops',
        triggerReason: 'manual_backfill',
        metadata,
      },
    ]);
    const id = created[0]!.requestId;
    await store.tracker.apply(id, { _tag: 'Claim', at: clock.now(), owner: 'dead', leaseMs: 10 * MINUTE });
    await guard(name).run({ date: day, isBackfill: true, trigger: 'backfill', requestId: id });
    clock.advance(MINUTE);
    await store.tracker.apply(id, { _tag: 'Complete', at: clock.now(), attempt: 1 });
  };
  const rebuildsQueued = () =>
    store
      .requests()
      .filter((r) => r.triggerReason === UPSTREAM_HEALED)
      .map((r) => `${r.processorName} ${r.date}`);
  return { graph, clock, store, calls, guard, deps, completeWithoutHeal, rebuildsQueued };
};

describe('rebuilds after an upstream date changed', () => {
  it('a worker that died between a completion and its heal: the periodic pass queues the rebuilds it missed, once', async () => {
    const w = world([{ name: 'pos_sales' }, { name: 'orders_daily', dependsOn: [{ processor: 'pos_sales', lookbackDays: 0 }] }]);
    for (const n of w.graph.order) await w.guard(n).run({ date: day });
    w.clock.advance(60 * MINUTE);
    // The till day is restated and backfilled with its downstream; the worker dies right after `Complete`.
    await w.completeWithoutHeal('pos_sales', { with_downstream: true });
    expect(w.rebuildsQueued()).toEqual([]);
    w.clock.advance(5 * MINUTE);
    const passes = [await resumeHeldForInputs(w.deps), await resumeHeldForInputs(w.deps)];
    expect(passes.flatMap((p) => p.queued)).toEqual([{ processorName: 'orders_daily', date: day }]);
    expect(w.rebuildsQueued()).toEqual([`orders_daily ${day}`]);
  });

  it("a person's backfill without its downstream is not healed by the periodic pass either", async () => {
    const w = world([{ name: 'pos_sales' }, { name: 'orders_daily', dependsOn: [{ processor: 'pos_sales', lookbackDays: 0 }] }]);
    for (const n of w.graph.order) await w.guard(n).run({ date: day });
    w.clock.advance(60 * MINUTE);
    await w.completeWithoutHeal('pos_sales', {});
    await resumeHeldForInputs(w.deps);
    expect(w.rebuildsQueued()).toEqual([]);
  });

  it('a heal reads the runs of the dates it touches, not every run since them (a year of --with-downstream backfills stays linear)', async () => {
    const w = world([{ name: 'pos_sales' }, { name: 'orders_daily', dependsOn: [{ processor: 'pos_sales', lookbackDays: 0 }] }]);
    for (const n of w.graph.order) await w.guard(n).run({ date: day });
    // A year of later runs of orders_daily.
    for (const d of dateRange(D('2025-11-11'), D('2026-11-10'))) {
      w.clock.set(Date.parse(`${d}T07:00:00Z`));
      await w.store.runLog.append(aRunRecord(`later-${d}`, 'orders_daily', d, w.clock.now(), { finishedAt: w.clock.now(), durationMs: 0 }));
    }
    let rowsRead = 0;
    const runLog = {
      ...w.store.runLog,
      runs: async (q: Parameters<typeof w.store.runLog.runs>[0]) => {
        const rows = await w.store.runLog.runs(q);
        rowsRead += rows.length;
        return rows;
      },
    };
    w.clock.advance(MINUTE);
    await w.completeWithoutHeal('pos_sales', { with_downstream: true });
    const r = await healDownstream({ ...w.deps, runLog }, 'pos_sales', [day], w.clock.now(), { rebuild: true });
    expect(r.queued).toEqual([{ processorName: 'orders_daily', date: day }]);
    expect(rowsRead).toBe(1);
  });

  it('a diamond: the bottom waits while a branch above one of its inputs is still being rebuilt, then is rebuilt once', async () => {
    // raw → left → left_feature → report ← right ← raw: report reads raw's day through two branches.
    const w = world([
      { name: 'raw' },
      { name: 'left', dependsOn: [{ processor: 'raw', lookbackDays: 0 }] },
      { name: 'left_feature', dependsOn: [{ processor: 'left', lookbackDays: 0 }] },
      { name: 'right', dependsOn: [{ processor: 'raw', lookbackDays: 0 }] },
      {
        name: 'report',
        dependsOn: [
          { processor: 'left_feature', lookbackDays: 0 },
          { processor: 'right', lookbackDays: 0 },
        ],
      },
    ]);
    for (const n of w.graph.order) await w.guard(n).run({ date: day });
    w.clock.advance(60 * MINUTE);
    await w.completeWithoutHeal('raw', { with_downstream: true });
    await healDownstream(w.deps, 'raw', [day], w.clock.now(), { rebuild: true });
    expect(w.rebuildsQueued().sort()).toEqual([`left ${day}`, `right ${day}`]);
    // `right` is rebuilt first; `left` (and so `left_feature`) is still to change: report must wait.
    w.clock.advance(MINUTE);
    const right = w.store.requests().find((r) => r.processorName === 'right')!;
    await w.store.tracker.apply(right.requestId, { _tag: 'Claim', at: w.clock.now(), owner: 'w', leaseMs: 10 * MINUTE });
    await w.guard('right').run({ date: day, isBackfill: true, trigger: 'cascade', requestId: right.requestId });
    await w.store.tracker.apply(right.requestId, { _tag: 'Complete', at: w.clock.now(), attempt: 1 });
    await healDownstream(w.deps, 'right', [day], w.clock.now());
    expect(w.rebuildsQueued().sort()).toEqual([`left ${day}`, `right ${day}`]);
    // `left`, then `left_feature`, rebuilt: now report is rebuilt, once.
    for (const n of ['left', 'left_feature']) {
      w.clock.advance(MINUTE);
      const r = w.store.requests().find((x) => x.processorName === n)!;
      await w.store.tracker.apply(r.requestId, { _tag: 'Claim', at: w.clock.now(), owner: 'w', leaseMs: 10 * MINUTE });
      await w.guard(n).run({ date: day, isBackfill: true, trigger: 'cascade', requestId: r.requestId });
      await w.store.tracker.apply(r.requestId, { _tag: 'Complete', at: w.clock.now(), attempt: 1 });
      await healDownstream(w.deps, n, [day], w.clock.now());
    }
    expect(w.rebuildsQueued().filter((x) => x.startsWith('report'))).toEqual([`report ${day}`]);
  });
});
