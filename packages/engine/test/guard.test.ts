import { describe, expect, it } from 'vitest';
import type { BackfillQueue, WindowQuery } from '@smart-backfill/core';
import { SmartBackfillError, withSmartBackfill, type Processor } from '@smart-backfill/engine';
import { D, P, world } from './support/world.js';

describe('withSmartBackfill', () => {
  it('runs the processor when the window is whole, with one window read and one tracker read', async () => {
    const { store, calls, filler } = world();
    let trackerReads = 0;
    const tracker = { ...store.tracker, forWindow: (q: WindowQuery) => (trackerReads++, store.tracker.forWindow(q)) };
    const guarded = withSmartBackfill(filler, { ...store, tracker });
    const out = await guarded.run({ date: D('2025-11-16') });
    expect(out).toMatchObject({ _tag: 'Ran', reason: 'no_gaps', result: { rows: 150 } });
    expect(store.window.reads()).toBe(1);
    expect(trackerReads).toBe(1);
    expect(calls.map((c) => c.date)).toEqual(['2025-11-16']);
    const [row] = await store.runLog.runs({});
    expect(row).toMatchObject({
      outcome: 'succeeded',
      skipReason: null,
      trigger: 'scheduled',
      isBackfill: false,
      metadata: { gap_size: 0, decision: 'Proceed:no_gaps' },
    });
  });

  it('skips the check for a backfill (the seed bypass) and records it', async () => {
    const { store, calls, filler } = world({ missing: [D('2025-11-15')] });
    const out = await withSmartBackfill(filler, store).run({ date: D('2025-11-15'), isBackfill: true });
    expect(out).toMatchObject({ _tag: 'Ran', reason: 'is_backfill' });
    // No gap check; only the backfilled date is re-counted, after the run.
    expect(store.window.reads()).toBe(1);
    expect(calls).toHaveLength(1);
    expect((await store.runLog.runs({}))[0]).toMatchObject({ trigger: 'backfill', isBackfill: true, outcome: 'succeeded' });
  });

  it('reads schedule and target in parallel when given both instead of a window reader', async () => {
    const { store, filler } = world({ missing: [D('2025-11-14')] });
    const guarded = withSmartBackfill(filler, { ...store, window: { schedule: store.schedule, target: store.target } });
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({ _tag: 'Held', decision: { toQueue: ['2025-11-14'] } });
    expect([store.schedule.reads(), store.target.reads()]).toEqual([1, 1]);
  });

  it('check() is a dry run: same analysis, decision and would-queue, nothing written', async () => {
    const { store, filler, calls } = world({ missing: [D('2025-11-13'), D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, store);
    // Another guard already queued Nov 13.
    await store.tracker.create([
      {
        requestId: 'x',
        processorName: P,
        date: D('2025-11-13'),
        requestType: 'manual',
        priority: 'normal',
        requestedAt: 0,
        requestedBy: 'me',
        triggerReason: 'manual_backfill',
        metadata: {},
      },
    ]);
    const report = await guarded.check(D('2025-11-16'));
    expect(report).toMatchObject({
      processorName: P,
      date: '2025-11-16',
      wouldQueue: ['2025-11-15'],
      inFlight: ['2025-11-13'],
      wouldHold: true,
      decision: { _tag: 'Backfill' },
      analysis: { windowStart: '2025-10-17', windowEnd: '2025-11-15', gapSize: 2 },
    });
    expect(store.requests()).toHaveLength(1);
    expect(await store.runLog.runs({})).toEqual([]);
    expect(await store.runLog.heldRuns({})).toEqual([]);
    expect(store.queueState().messages).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('32 guards racing on the same gap queue exactly one request and one message per date', async () => {
    const { store, filler } = world({ missing: [D('2025-11-13'), D('2025-11-15')] });
    const guards = Array.from({ length: 32 }, () => withSmartBackfill(filler, store));
    const outcomes = await Promise.all(guards.map((g) => g.run({ date: D('2025-11-16') })));
    expect(outcomes.every((o) => o._tag === 'Held')).toBe(true);
    const reqs = store.requests();
    expect(reqs.map((r) => r.date).sort()).toEqual(['2025-11-13', '2025-11-15']);
    const msgs = store.queueState().messages;
    expect(msgs.map((m) => m.message.attributes['game_date']).sort()).toEqual(['2025-11-13', '2025-11-15']);
    expect(new Set(msgs.map((m) => m.message.id))).toEqual(new Set(reqs.map((r) => r.requestId)));
    // Every racer reports every date as either queued by it or in flight.
    for (const o of outcomes)
      if (o._tag === 'Held') expect([...o.queued.map((r) => r.date), ...o.inFlight].sort()).toEqual(['2025-11-13', '2025-11-15']);
    const queuedBy = outcomes.flatMap((o) => (o._tag === 'Held' ? o.queued : []));
    expect(queuedBy).toHaveLength(2);
    expect(await store.runLog.heldRuns({ status: 'held' })).toHaveLength(1);
  });

  it('a failing window read fails the run at the check stage without running or guessing', async () => {
    const { store, filler, calls } = world();
    const broken = { readWindow: async () => Promise.reject(new Error('BigQuery: quota exceeded')) };
    const out = await withSmartBackfill(filler, { ...store, window: broken }).run({ date: D('2025-11-16') });
    expect(out._tag).toBe('Failed');
    if (out._tag !== 'Failed') return;
    expect(out.stage).toBe('check');
    expect(out.error).toBeInstanceOf(SmartBackfillError);
    expect(out.error.message).toBe(
      '[smart-backfill] [engine] could not check PlayerGameSummaryProcessor for 2025-11-16 (window 2025-10-17..2025-11-15): BigQuery: quota exceeded',
    );
    expect((out.error.cause as Error).message).toBe('BigQuery: quota exceeded');
    expect(calls).toEqual([]);
    expect((await store.runLog.runs({}))[0]).toMatchObject({ outcome: 'failed', errorMessage: out.error.message });
  });

  it("a failing window read keeps the store error's code, with the step as its detail", async () => {
    const { store, filler } = world();
    const damaged = new SmartBackfillError('corrupt', 'the file is not a database', { origin: 'sqlite' });
    const broken = { readWindow: async () => Promise.reject(damaged) };
    const out = await withSmartBackfill(filler, { ...store, window: broken }).run({ date: D('2025-11-16') });
    expect(out).toMatchObject({ _tag: 'Failed', stage: 'check', error: { code: 'corrupt', detail: 'read_failed', cause: damaged } });
    const plain = { readWindow: async () => Promise.reject(new Error('socket hang up')) };
    const out2 = await withSmartBackfill(filler, { ...store, window: plain }).run({ date: D('2025-11-16') });
    expect(out2).toMatchObject({ _tag: 'Failed', stage: 'check', error: { code: 'unavailable', detail: 'read_failed' } });
  });

  it('a throwing processor is a Failed outcome at the run stage, recorded', async () => {
    const { store } = world();
    const boom: Processor = { name: P, run: async () => Promise.reject(new Error('division by zero')) };
    const out = await withSmartBackfill(boom, store).run({ date: D('2025-11-16') });
    expect(out).toMatchObject({ _tag: 'Failed', stage: 'run', error: { message: 'division by zero' } });
    expect((await store.runLog.runs({}))[0]).toMatchObject({ outcome: 'failed', errorMessage: 'division by zero' });
  });

  it('a publish that throws leaves the request tracked and unpublished (outbox), run still held', async () => {
    const { store, filler } = world({ missing: [D('2025-11-15')] });
    const down: BackfillQueue = { publish: async () => Promise.reject(new Error('unavailable')), receive: async () => [] };
    const out = await withSmartBackfill(filler, { ...store, queue: down }).run({ date: D('2025-11-16') });
    expect(out).toMatchObject({ _tag: 'Held' });
    expect(store.requests()).toMatchObject([{ date: '2025-11-15', status: 'queued', publishedAt: null }]);
  });

  it("blockOn 'critical': old gaps are queued and the run goes ahead", async () => {
    const { store, filler, calls } = world({ missing: [D('2025-10-20')] });
    const out = await withSmartBackfill(filler, { ...store, policy: { blockOn: 'critical' } }).run({ date: D('2025-11-16') });
    expect(out).toMatchObject({ _tag: 'BackfillQueuedNotHeld', decision: { toQueue: ['2025-10-20'], holdRun: false } });
    expect(calls.map((c) => c.date)).toEqual(['2025-11-16']);
    expect(store.requests()).toMatchObject([{ date: '2025-10-20', priority: 'normal' }]);
    expect((await store.runLog.runs({}))[0]).toMatchObject({ outcome: 'succeeded', metadata: { queued: ['2025-10-20'] } });
    expect(await store.runLog.heldRuns({})).toEqual([]);
  });

  it('an incomplete date (rows below the minimum) is missing too', async () => {
    const { store, filler } = world();
    store.setCount(P, D('2025-11-14'), 40);
    const out = await withSmartBackfill(filler, store).check(D('2025-11-16'));
    expect(out.analysis.incompleteDates).toEqual([{ date: '2025-11-14', count: 40 }]);
    expect(out.wouldQueue).toEqual(['2025-11-14']);
  });

  it('refuses an invalid policy when built, naming the field', () => {
    const { store, filler } = world();
    expect(() => withSmartBackfill(filler, { ...store, policy: { lookbackDays: -2 } })).toThrow(
      '[smart-backfill] [engine] invalid policy: lookbackDays must be a whole number >= 1, got -2',
    );
  });
});

describe('withSmartBackfill when the tracker is down', () => {
  it('fails the run, queues nothing and leaves no held run behind', async () => {
    const { store, filler, calls } = world({ missing: [D('2025-11-15')] });
    const tracker = { ...store.tracker, create: async () => Promise.reject(new Error('database is locked')) };
    const out = await withSmartBackfill(filler, { ...store, tracker }).run({ date: D('2025-11-16') });
    expect(out).toMatchObject({ _tag: 'Failed', stage: 'check' });
    expect(out._tag === 'Failed' && out.error.message).toBe(
      '[smart-backfill] [engine] could not record backfill requests for PlayerGameSummaryProcessor (2025-11-15): database is locked',
    );
    expect(calls).toEqual([]);
    expect(store.queueState().messages).toEqual([]);
    expect(await store.runLog.heldRuns({ status: 'held' })).toEqual([]);
  });
});
