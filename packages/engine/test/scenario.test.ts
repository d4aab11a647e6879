import { describe, expect, it } from 'vitest';
import { createRelay, createWorker, processorRegistry, withSmartBackfill } from '@smart-backfill/engine';
import { D, P, world } from './support/world.js';
import { advance } from './support/time.js';

describe("the seed's scenario, end to end in memory", () => {
  it('Nov 15 missing: Nov 16 is held, the backfill fills Nov 15, and Nov 16 resumes by itself', async () => {
    const { clock, store, calls, filler } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, store);
    const worker = createWorker({ ...store, registry: processorRegistry([guarded]), workerId: 'w1' });

    // Nov 16, 08:00: the daily run finds Nov 15 missing.
    const outcome = await guarded.run({ date: D('2025-11-16') });
    expect(outcome._tag).toBe('Held');
    if (outcome._tag !== 'Held') return;
    expect(outcome.decision.toQueue).toEqual(['2025-11-15']);
    expect(outcome.queued.map((r) => r.date)).toEqual(['2025-11-15']);
    expect(calls).toEqual([]); // skipped: nothing ran

    const [heldRow] = await store.runLog.runs({ processorName: P });
    expect(heldRow).toMatchObject({
      runDate: '2025-11-16',
      trigger: 'scheduled',
      outcome: 'skipped',
      skipReason: 'backfill_queued',
      metadata: {
        gap_size: 1,
        missing_dates: ['2025-11-15'],
        critical_missing: ['2025-11-15'],
        queued: ['2025-11-15'],
        in_flight: [],
        decision: 'Backfill',
      },
    });
    expect(await store.runLog.heldRuns({ processorName: P, status: 'held' })).toMatchObject([
      { runDate: '2025-11-16', reason: 'backfill_queued', waitingFor: ['2025-11-15'] },
    ]);
    const [req] = store.requests();
    expect(req).toMatchObject({
      status: 'queued',
      date: '2025-11-15',
      requestType: 'auto',
      requestedBy: 'smart_backfill_detection',
      triggerReason: 'auto_backfill',
    });
    expect(req?.publishedAt).not.toBeNull();
    expect(store.queueState().ready).toBe(1);

    // A second scheduled run meanwhile does not queue Nov 15 again (the seed did).
    const again = await guarded.run({ date: D('2025-11-16') });
    expect(again).toMatchObject({ _tag: 'Held', queued: [], inFlight: ['2025-11-15'] });
    expect(store.requests()).toHaveLength(1);

    // Five minutes later the worker picks the backfill up.
    await advance(clock, 5 * 60_000);
    const tick = await worker.runOnce();
    expect(tick.outcomes).toEqual([{ _tag: 'Completed', requestId: req?.requestId, attempt: 1, resumed: ['2025-11-16'] }]);

    expect(calls.map((c) => [c.date, c.isBackfill === true, c.trigger])).toEqual([
      ['2025-11-15', true, 'backfill'],
      ['2025-11-16', false, 'resume'],
    ]);
    expect(store.target.count(P, D('2025-11-15'))).toBe(150);
    expect(store.target.count(P, D('2025-11-16'))).toBe(150);
    expect(store.requests()[0]).toMatchObject({ status: 'completed', attempt: 1 });
    expect(await store.runLog.heldRuns({ processorName: P, status: 'held' })).toEqual([]);
    expect((await store.runLog.heldRuns({ processorName: P }))[0]).toMatchObject({ status: 'resumed' });

    const runs = await store.runLog.runs({ processorName: P });
    expect(runs.map((r) => [r.runDate, r.trigger, r.outcome, r.skipReason])).toEqual([
      ['2025-11-16', 'scheduled', 'skipped', 'backfill_queued'],
      ['2025-11-16', 'scheduled', 'skipped', 'waiting_for_backfill'],
      ['2025-11-15', 'backfill', 'succeeded', null],
      ['2025-11-16', 'resume', 'succeeded', null],
    ]);
    expect(runs[2]?.metadata['request_id']).toBe(req?.requestId);
    expect(store.queueState()).toMatchObject({ ready: 0, leased: 0, acked: 1, deadLettered: [] });

    // Nothing left for the relay; the next day's run proceeds.
    expect(await createRelay({ ...store, olderThanMs: 0 }).runOnce()).toEqual({ republished: 0, failed: 0 });
    await advance(clock, 24 * 3600_000);
    expect(await guarded.run({ date: D('2025-11-17') })).toMatchObject({ _tag: 'Ran', reason: 'no_gaps' });
  });
});
