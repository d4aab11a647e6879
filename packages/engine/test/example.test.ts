import { describe, expect, it } from 'vitest';
import { isoDate, type IsoDate } from '@smart-backfill/core';
import { createMemoryStore } from '@smart-backfill/memory';
import { createWorker, processorRegistry, withSmartBackfill } from '@smart-backfill/engine';
import { ManualClock } from '@smart-backfill/testkit';

describe('README example', () => {
  it('wraps a plain async function in three lines', async () => {
    const store = createMemoryStore({ clock: new ManualClock(Date.UTC(2025, 10, 16, 8)) });
    store.setSchedule('daily_revenue', [isoDate('2025-11-14'), isoDate('2025-11-15')]);
    store.setCount('daily_revenue', isoDate('2025-11-14'), 500);
    const built: string[] = [];
    // Stands in for the user's job: it fills the table for its date.
    const buildRevenue = async (date: IsoDate) => {
      built.push(date);
      store.setCount('daily_revenue', date, 500);
    };

    // --- the three lines ---
    const revenue = withSmartBackfill({ name: 'daily_revenue', run: ({ date }) => buildRevenue(date) }, store);
    const worker = createWorker({ ...store, registry: processorRegistry([revenue]) });
    const outcome = await revenue.run({ date: isoDate('2025-11-16') });
    // -----------------------

    expect(outcome).toMatchObject({ _tag: 'Held', decision: { toQueue: ['2025-11-15'] } });
    expect(built).toEqual([]);
    // The worker backfills Nov 15, then the held Nov 16 run resumes by itself.
    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'Completed', resumed: ['2025-11-16'] }]);
    expect(built).toEqual(['2025-11-15', '2025-11-16']);
  });
});
