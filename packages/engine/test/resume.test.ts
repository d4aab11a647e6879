import { describe, expect, it } from 'vitest';
import { createWorker, processorRegistry, resumeHeldRuns, withSmartBackfill } from '@smart-backfill/engine';
import { D, DAY, P, world } from './support/world.js';
import { advance } from './support/time.js';

describe('resume', () => {
  it('resumes held runs oldest first once the last open backfill completes', async () => {
    const { clock, store, filler, calls } = world({ missing: [D('2025-11-13'), D('2025-11-14')] });
    const guarded = withSmartBackfill(filler, store);
    await guarded.run({ date: D('2025-11-16') });
    await advance(clock, DAY);
    await guarded.run({ date: D('2025-11-15'), trigger: 'manual' }); // a second held run, older date
    expect((await store.runLog.heldRuns({ status: 'held' })).map((h) => h.runDate)).toEqual(['2025-11-15', '2025-11-16']);

    const worker = createWorker({ ...store, registry: processorRegistry([guarded]) });
    const [first] = (await worker.runOnce({ max: 1 })).outcomes;
    expect(first).toMatchObject({ _tag: 'Completed', resumed: [] }); // one date still open
    const [second] = (await worker.runOnce({ max: 1 })).outcomes;
    expect(second).toMatchObject({ _tag: 'Completed', resumed: ['2025-11-15', '2025-11-16'] });
    expect(calls.filter((c) => c.trigger === 'resume').map((c) => c.date)).toEqual(['2025-11-15', '2025-11-16']);
  });

  it('only one of two racing resumers re-runs a held run', async () => {
    const { store, filler, calls } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, store);
    await guarded.run({ date: D('2025-11-16') });
    store.setCount(P, D('2025-11-15'), 150);
    const [r] = store.requests();
    await store.tracker.apply(r!.requestId, { _tag: 'Claim', at: store.clock.now(), owner: 'x', leaseMs: 1000 });
    await store.tracker.apply(r!.requestId, { _tag: 'Complete', at: store.clock.now(), attempt: 1 });
    const deps = { ...store, guardFor: () => guarded };
    const results = await Promise.all([resumeHeldRuns(deps, P), resumeHeldRuns(deps, P), resumeHeldRuns(deps, P)]);
    expect(results.flatMap((x) => x.resumed)).toEqual(['2025-11-16']);
    expect(calls.map((c) => c.date)).toEqual(['2025-11-16']);
  });

  it('a resumed run that finds a new gap is held again', async () => {
    const { store, filler } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, store);
    await guarded.run({ date: D('2025-11-16') });
    // A new hole appears while the backfill runs.
    const dropping = {
      name: P,
      run: async (o: Parameters<typeof filler.run>[0]) => (store.setCount(P, D('2025-11-10'), 0), filler.run(o)),
    };
    const worker = createWorker({ ...store, registry: processorRegistry([dropping]), guardFor: () => guarded });
    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'Completed', resumed: ['2025-11-16'] }]);
    expect(await store.runLog.heldRuns({ status: 'held' })).toMatchObject([{ runDate: '2025-11-16', waitingFor: ['2025-11-10'] }]);
    const runs = await store.runLog.runs({});
    expect(runs[runs.length - 1]).toMatchObject({
      trigger: 'resume',
      outcome: 'skipped',
      skipReason: 'backfill_queued',
      metadata: { queued: ['2025-11-10'] },
    });
  });

  it('cascade (opt-in) re-runs later dates that ran while the gap was open', async () => {
    // blockOn critical lets runs go ahead over an old gap; those runs used incomplete history.
    const { clock, store, filler, calls } = world({ missing: [D('2025-10-20')] });
    const policy = { blockOn: 'critical' as const };
    const guarded = withSmartBackfill(filler, { ...store, policy });
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({ _tag: 'BackfillQueuedNotHeld' });
    await advance(clock, DAY);
    expect(await guarded.run({ date: D('2025-11-17') })).toMatchObject({ _tag: 'Ran', reason: 'gaps_outside_critical_window' });
    await advance(clock, DAY);
    const worker = createWorker({ ...store, policy, registry: processorRegistry([guarded]), resume: { cascade: true } });
    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'Completed' }]);
    expect(calls.map((c) => [c.date, c.trigger])).toEqual([
      ['2025-11-16', 'scheduled'],
      ['2025-11-17', 'scheduled'],
      ['2025-10-20', 'backfill'],
      ['2025-11-16', 'cascade'],
      ['2025-11-17', 'cascade'],
    ]);
    // Off by default.
    const quiet = world({ missing: [D('2025-10-20')] });
    const g2 = withSmartBackfill(quiet.filler, { ...quiet.store, policy });
    await g2.run({ date: D('2025-11-16') });
    await createWorker({ ...quiet.store, policy, registry: processorRegistry([g2]) }).runOnce();
    expect(quiet.calls.map((c) => c.trigger)).toEqual(['scheduled', 'backfill']);
  });
});

describe('a backfill that succeeds without producing data', () => {
  it('fails each attempt at once with the numbers, and after maxAttempts the gap escalates (no loop)', async () => {
    const { clock, store } = world({ missing: [D('2025-11-15')] });
    const hollow = { name: P, run: async () => ({ rows: 0 }) }; // "succeeds", writes nothing
    const guarded = withSmartBackfill(hollow, { ...store, alerter: store.alerter, policy: { maxAttempts: 3 } });
    const worker = createWorker({ ...store, registry: processorRegistry([guarded]), backoff: { baseMs: 1000, maxMs: 1000 } });
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({ _tag: 'Held' });
    const outcomes = [];
    for (let i = 0; i < 10 && store.requests().some((r) => r.status !== 'failed'); i++) {
      outcomes.push(...(await worker.runOnce()).outcomes);
      await advance(clock, 2000);
    }
    const why = 'the processor succeeded but 2025-11-15 has 0 rows; need ≥ 100';
    expect(outcomes.map((o) => o._tag)).toEqual(['Retrying', 'Retrying', 'FailedPermanently']);
    expect(store.requests()).toMatchObject([{ status: 'failed', failures: 3 }]);
    expect(store.requests()[0]?.errorMessage).toContain(why);
    const backfills = (await store.runLog.runs({})).filter((r) => r.trigger === 'backfill');
    expect(backfills.map((r) => r.outcome)).toEqual(['failed', 'failed', 'failed']);
    expect(backfills[0]?.errorMessage).toContain(why);
    await advance(clock, DAY);
    expect(await guarded.run({ date: D('2025-11-17') })).toMatchObject({
      _tag: 'Escalated',
      decision: { reason: 'backfill_keeps_failing' },
    });
    expect(store.alerter.notices[0]?.lastError).toContain(why);
  });
});

describe('a held run whose own date gets backfilled', () => {
  it('is cancelled as superseded, and the run held behind it resumes', async () => {
    // Nov 16 is held behind a 5-day gap; a person fills the gap by hand (no requests).
    const GAP = ['2025-11-08', '2025-11-09', '2025-11-10', '2025-11-11', '2025-11-12'].map(D);
    const { clock, store, filler, calls } = world({ missing: GAP });
    const guarded = withSmartBackfill(filler, store);
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({ _tag: 'Escalated' });
    for (const d of GAP) store.setCount(P, d, 150);
    await advance(clock, DAY);
    // Nov 17 sees only Nov 16 missing (it never ran): queue it and hold.
    expect(await guarded.run({ date: D('2025-11-17') })).toMatchObject({ _tag: 'Held', decision: { toQueue: ['2025-11-16'] } });
    const worker = createWorker({ ...store, registry: processorRegistry([guarded]) });
    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'Completed', resumed: ['2025-11-17'] }]);
    expect((await store.runLog.heldRuns({})).map((h) => [h.runDate, h.status])).toEqual([
      ['2025-11-16', 'cancelled'],
      ['2025-11-17', 'resumed'],
    ]);
    expect(calls.map((c) => [c.date, c.trigger])).toEqual([
      ['2025-11-16', 'backfill'],
      ['2025-11-17', 'resume'],
    ]);
  });
});
