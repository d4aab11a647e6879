import { describe, expect, it } from 'vitest';
import { addDays, dateRange, DEFAULT_POLICY, isoDate, type IsoDate } from '@smart-backfill/core';
import { createMemoryStore } from '@smart-backfill/memory';
import { withSmartBackfill, type Processor, type RunOptions } from '@smart-backfill/engine';
import { ManualClock } from '@smart-backfill/testkit';

const D = isoDate;
const DAY = 86_400_000;
const TODAY = D('2025-11-16');

/** A shop's pipeline in memory: pos_sales (till receipts) → orders_daily (same day) → weekly_revenue (6 days back). */
const shop = (missing: Partial<Record<'pos_sales' | 'orders_daily' | 'weekly_revenue', IsoDate[]>> = {}) => {
  const clock = new ManualClock(Date.parse(`${TODAY}T08:00:00Z`));
  const store = createMemoryStore({ clock });
  const names = ['pos_sales', 'orders_daily', 'weekly_revenue'] as const;
  for (const n of names) {
    store.setSchedule(n, dateRange(D('2025-10-01'), D('2025-12-31')));
    for (const d of dateRange(D('2025-10-01'), TODAY)) if (!(missing[n] ?? []).includes(d)) store.setCount(n, d, 150);
  }
  const calls: { processor: string; opts: RunOptions }[] = [];
  const processor = (name: string): Processor => ({
    name,
    run: async (opts) => {
      calls.push({ processor: name, opts });
      store.setCount(name, opts.date, 150);
    },
  });
  const input = (processor: string, lookbackDays: number) => ({ processor, lookbackDays, window: store.window, policy: DEFAULT_POLICY });
  const guards = {
    pos_sales: withSmartBackfill(processor('pos_sales'), { ...store }),
    orders_daily: withSmartBackfill(processor('orders_daily'), { ...store, upstream: [input('pos_sales', 0)] }),
    weekly_revenue: withSmartBackfill(processor('weekly_revenue'), { ...store, upstream: [input('orders_daily', 6)] }),
  };
  return { clock, store, calls, guards };
};

describe('the guard looks upstream', () => {
  it('a missing input date holds the run and queues the upstream, once, whoever asks first', async () => {
    const { store, calls, guards } = shop({ pos_sales: [TODAY] });
    const o = await guards.orders_daily.run({ date: TODAY });
    expect(o).toMatchObject({
      _tag: 'Held',
      upstream: [{ processor: 'pos_sales', missing: [TODAY], queued: [TODAY], inFlight: [], escalated: [] }],
    });
    expect(calls).toEqual([]);
    expect(store.requests().map((r) => `${r.processorName} ${r.date} ${r.status}`)).toEqual([`pos_sales ${TODAY} queued`]);
    const [rec] = await store.runLog.runs({ processorName: 'orders_daily' });
    expect(rec).toMatchObject({
      outcome: 'skipped',
      skipReason: 'backfill_queued',
      metadata: { waits: `waits for pos_sales ${TODAY} (queued)` },
    });
    expect(await store.runLog.heldRuns({ processorName: 'orders_daily', status: 'held' })).toMatchObject([{ runDate: TODAY }]);

    // The upstream's own guard, a day later, finds the same date: in flight, not queued twice.
    const own = await guards.pos_sales.run({ date: addDays(TODAY, 1) });
    expect(own).toMatchObject({ _tag: 'Held', queued: [], inFlight: [TODAY] });
    // And a second downstream run reading it waits on the same request.
    const again = await guards.orders_daily.run({ date: TODAY, trigger: 'manual' });
    expect(again).toMatchObject({ _tag: 'Held', upstream: [{ processor: 'pos_sales', queued: [], inFlight: [TODAY] }] });
    expect(store.requests()).toHaveLength(1);
  });

  it('reads the upstream over the whole lookback of the edge, and runs when it is whole', async () => {
    const { store, calls, guards } = shop({ orders_daily: [addDays(TODAY, -6)] });
    expect(await guards.weekly_revenue.run({ date: TODAY })).toMatchObject({
      _tag: 'Held',
      upstream: [{ processor: 'orders_daily', missing: [addDays(TODAY, -6)] }],
    });
    // Seven days back is outside the edge: not read, not waited for.
    store.setCount('orders_daily', addDays(TODAY, -6), 150);
    store.setCount('orders_daily', addDays(TODAY, -7), 0);
    expect(await guards.weekly_revenue.run({ date: TODAY, trigger: 'manual' })).toMatchObject({ _tag: 'Ran' });
    expect(calls.map((c) => c.processor)).toEqual(['weekly_revenue']);
  });

  it('a large upstream gap escalates once, on the upstream, and the run says what it waits for', async () => {
    const lost = dateRange(addDays(TODAY, -5), TODAY);
    const { store, guards } = shop({ orders_daily: lost });
    const first = await guards.weekly_revenue.run({ date: TODAY });
    expect(first).toMatchObject({ _tag: 'Held', upstream: [{ processor: 'orders_daily', escalated: lost, queued: [] }] });
    await guards.weekly_revenue.run({ date: TODAY, trigger: 'manual' });
    const alerts = await store.alertLog.list({ openOnly: true });
    expect(alerts.map((a) => a.processorName)).toEqual(['orders_daily']);
    expect(store.alerter.notices.filter((n) => n.kind === 'escalated')).toHaveLength(1);
    expect(store.requests()).toEqual([]);
    const runs = await store.runLog.runs({ processorName: 'weekly_revenue' });
    expect(runs.map((r) => r.skipReason)).toEqual(['gap_escalated', 'gap_escalated']);
    expect(runs[0]?.metadata['waits']).toBe(`waits for orders_daily ${lost.join(', ')} (escalated: a person must fill it)`);
  });

  it('an input that cannot be read fails the check; nothing runs', async () => {
    const { store, calls } = shop();
    const broken = { readWindow: () => Promise.reject(new Error('table gone')) };
    const g = withSmartBackfill(
      { name: 'orders_daily', run: async () => void calls.push({ processor: 'orders_daily', opts: { date: TODAY } }) },
      { ...store, upstream: [{ processor: 'pos_sales', lookbackDays: 0, window: broken, policy: DEFAULT_POLICY }] },
    );
    const o = await g.run({ date: TODAY });
    expect(o._tag).toBe('Failed');
    if (o._tag === 'Failed') expect(o.error.message).toMatch(/could not check orders_daily's input pos_sales for 2025-11-16 .*table gone/);
    expect(calls).toEqual([]);
  });
});

void DAY;
