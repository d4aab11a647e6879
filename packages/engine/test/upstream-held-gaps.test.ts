import { describe, expect, it } from 'vitest';
import { dateRange, DEFAULT_POLICY, heldRunUpstreamGaps, isoDate, type WindowReader } from '@smart-backfill/core';
import { createMemoryStore } from '@smart-backfill/memory';
import { withSmartBackfill } from '@smart-backfill/engine';
import { ManualClock } from '@smart-backfill/testkit';

const D = isoDate;
const TODAY = D('2025-11-16');

describe('a run held for its inputs, as status reads it back', () => {
  it('is held as of its check’s start, so the record naming its upstream gap is among the runs since heldAt', async () => {
    const clock = new ManualClock(Date.parse(`${TODAY}T08:00:00Z`));
    const store = createMemoryStore({ clock });
    for (const n of ['raw_orders', 'order_lines']) {
      store.setSchedule(n, dateRange(D('2025-10-01'), D('2025-12-31')));
      for (const d of dateRange(D('2025-10-01'), TODAY)) if (!(n === 'raw_orders' && d === TODAY)) store.setCount(n, d, 150);
    }
    // A slow upstream read: the check takes five seconds, as a warehouse query may.
    const slow: WindowReader = {
      readWindow: async (q) => {
        clock.advance(5_000);
        return store.window.readWindow(q);
      },
    };
    const guard = withSmartBackfill(
      { name: 'order_lines', run: async () => undefined },
      { ...store, upstream: [{ processor: 'raw_orders', lookbackDays: 0, window: slow, policy: DEFAULT_POLICY }] },
    );
    expect(await guard.run({ date: TODAY })).toMatchObject({ _tag: 'Held' });
    const [held] = await store.runLog.heldRuns({ processorName: 'order_lines', status: 'held' });
    const [rec] = await store.runLog.runs({ processorName: 'order_lines' });
    expect(held?.heldAt).toBe(rec?.startedAt);
    const since = await store.runLog.runs({ processorName: 'order_lines', since: held!.heldAt });
    expect(heldRunUpstreamGaps(held!, since)).toEqual([
      { processor: 'raw_orders', missing: [TODAY], queued: [TODAY], inFlight: [], escalated: [] },
    ]);
  });
});
