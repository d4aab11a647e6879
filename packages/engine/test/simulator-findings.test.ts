import { describe, expect, it } from 'vitest';
import { dateRange, type IsoDate } from '@smart-backfill/core';
import type { MemoryStore } from '@smart-backfill/memory';
import {
  createResumer,
  createSweeper,
  createWorker,
  isPoison,
  PermanentError,
  processorRegistry,
  resumeHeldRuns,
  withSmartBackfill,
  type Processor,
} from '@smart-backfill/engine';
import type { ManualClock } from '@smart-backfill/testkit';
import { D, DAY, P, world } from './support/world.js';
import { advance } from './support/time.js';

/** The active request for a date (the guard queued it). */
const requestFor = (store: MemoryStore, d: IsoDate) => {
  const r = store.requests().find((x) => x.date === d && (x.status === 'queued' || x.status === 'processing'));
  if (r === undefined) throw new Error(`no active request for ${d}`);
  return r;
};

/** A request for `d` whose processor failed three times (as another tool would record it: plain errors). */
const failThrice = async (store: MemoryStore, d: IsoDate): Promise<void> => {
  let r = store.requests().find((x) => x.date === d && (x.status === 'queued' || x.status === 'processing'));
  if (r === undefined) {
    await store.tracker.create([
      {
        requestId: `fail-${d}`,
        processorName: P,
        date: d,
        requestType: 'manual',
        priority: 'high',
        requestedAt: store.clock.now(),
        requestedBy: 'test',
        triggerReason: 'manual_backfill',
        metadata: {},
      },
    ]);
    r = requestFor(store, d);
  }
  for (let i = 1; i <= 3; i++) {
    const at = store.clock.now();
    await store.tracker.apply(r.requestId, { _tag: 'Claim', at, owner: 'w', leaseMs: 60_000 });
    await store.tracker.apply(r.requestId, { _tag: 'Fail', at, attempt: i, error: `source down for ${d}` });
    if (i < 3) await store.tracker.apply(r.requestId, { _tag: 'Retry', at, notBefore: at });
  }
};

/** What a worker pass did, minus the redeliveries of the same request (the sweeper republishes what it requeues). */
const worked = async (worker: ReturnType<typeof createWorker>) =>
  (await worker.runOnce()).outcomes.filter((o) => o._tag !== 'Busy' && o._tag !== 'NotYetDue' && o._tag !== 'AlreadyDone');

/** A worker that died holding the request: claimed, never finished; the lease lapses and the sweeper requeues it. */
const claimAndDie = async (
  { store, clock }: { store: MemoryStore; clock: ManualClock },
  requestId: string,
  leaseMs = 60_000,
): Promise<void> => {
  await store.tracker.apply(requestId, { _tag: 'Claim', at: clock.now(), owner: 'doomed', leaseMs });
  await advance(clock, leaseMs);
  expect(await createSweeper(store).runOnce()).toMatchObject({ expired: 1 });
};

describe('simulator finding 1: a person is told once per date', () => {
  it('a reason switch keeps every date in the open alert; it heals only when all have data; no second notice', async () => {
    const GAP = dateRange(D('2025-11-08'), D('2025-11-12'));
    const { clock, store, filler } = world({ today: D('2025-11-16'), missing: GAP });
    const guarded = withSmartBackfill(filler, { ...store, alerter: store.alerter, alertLog: store.alertLog });
    const today = D('2025-11-16');

    expect(await guarded.run({ date: today })).toMatchObject({ _tag: 'Escalated', decision: { reason: 'gap_exceeds_threshold' } });

    // A person fills three dates; 11-10 keeps failing: the reason switches.
    for (const d of ['2025-11-08', '2025-11-09', '2025-11-11'] as const) store.setCount(P, D(d), 150);
    await failThrice(store, D('2025-11-10'));
    await advance(clock, DAY);
    expect(await guarded.run({ date: today })).toMatchObject({
      _tag: 'Escalated',
      decision: { reason: 'backfill_keeps_failing', dates: ['2025-11-10'] },
    });
    const [open] = await store.alertLog.list({ openOnly: true });
    expect(open).toMatchObject({ reason: 'backfill_keeps_failing', lastError: 'source down for 2025-11-10', missingDates: GAP });

    // 11-10 is filled; 11-12 is still missing: the alert stays open (it used to heal here).
    store.setCount(P, D('2025-11-10'), 150);
    await advance(clock, DAY);
    expect(await guarded.run({ date: today })).toMatchObject({ _tag: 'Held', queued: [{ date: '2025-11-12' }] });
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated']);

    // 11-12's backfill keeps failing: the same alert, not a second escalation naming 11-12 again.
    await failThrice(store, D('2025-11-12'));
    await advance(clock, DAY);
    expect(await guarded.run({ date: today })).toMatchObject({ _tag: 'Escalated', alerted: false, alertKey: `${P}:2025-11-08` });
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated']);
    expect(await store.alertLog.list({})).toHaveLength(1);

    store.setCount(P, D('2025-11-12'), 150);
    await advance(clock, DAY);
    expect(await guarded.run({ date: today })).toMatchObject({ _tag: 'Ran' });
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated', 'healed']);
    expect(store.alerter.notices[1]).toMatchObject({ missingDates: GAP, timeToRecoveryMs: 4 * DAY });
  });

  it('dates that slid out of the lookback window are read again before the alert is called healed', async () => {
    const GAP = dateRange(D('2025-11-05'), D('2025-11-09'));
    const { clock, store, filler } = world({ today: D('2025-11-10'), missing: GAP });
    const guarded = withSmartBackfill(filler, {
      ...store,
      alerter: store.alerter,
      alertLog: store.alertLog,
      policy: { lookbackDays: 10, criticalLookbackDays: 5 },
    });
    expect(await guarded.run({ date: D('2025-11-10') })).toMatchObject({ _tag: 'Escalated' });
    // Later: the window (11-09..11-18) sees only 11-09 of the gap; a person fills it and the days since.
    for (const d of dateRange(D('2025-11-09'), D('2025-11-18'))) store.setCount(P, d, 150);
    await advance(clock, 9 * DAY);
    expect(await guarded.run({ date: D('2025-11-19') })).toMatchObject({ _tag: 'Ran' });
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated']); // 11-05..11-08 still missing
    for (const d of GAP) store.setCount(P, d, 150);
    await advance(clock, DAY);
    expect(await guarded.run({ date: D('2025-11-19') })).toMatchObject({ _tag: 'Ran' });
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated', 'healed']);
  });
});

describe('simulator finding 2: a lost resume is picked up by the periodic pass', () => {
  it('a worker that died between Complete and resuming: the next worker pass resumes the held run', async () => {
    const { clock, store, filler, calls } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, store);
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({ _tag: 'Held' });
    // The dying worker: ran the backfill, completed it, never resumed.
    const r = requestFor(store, D('2025-11-15'));
    await store.tracker.apply(r.requestId, { _tag: 'Claim', at: clock.now(), owner: 'dies', leaseMs: 60_000 });
    await filler.run({ date: D('2025-11-15'), isBackfill: true });
    await store.tracker.apply(r.requestId, { _tag: 'Complete', at: clock.now(), attempt: 1 });
    await advance(clock, 60_000);

    // No other completion for this processor will come. A worker pass (its message is a redelivery) still resumes it.
    const worker = createWorker({ ...store, registry: processorRegistry([guarded]) });
    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'AlreadyDone' }]);
    expect(await store.runLog.heldRuns({ status: 'held' })).toEqual([]);
    expect(calls.filter((c) => c.trigger === 'resume').map((c) => c.date)).toEqual(['2025-11-16']);
    expect((await store.runLog.runs({})).at(-1)).toMatchObject({ runDate: '2025-11-16', trigger: 'resume', outcome: 'succeeded' });
  });

  it('a held run waiting for a date that its own resumed run filled (no completed request) is resumed too', async () => {
    const { clock, store, filler, calls } = world({ today: D('2025-11-15'), missing: [D('2025-11-14')] });
    const guarded = withSmartBackfill(filler, store);
    expect(await guarded.run({ date: D('2025-11-15') })).toMatchObject({ _tag: 'Held' });
    await advance(clock, DAY);
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({
      _tag: 'Held',
      queued: [{ date: '2025-11-15' }],
      inFlight: ['2025-11-14'],
    });
    // 11-15's backfill fails for good; 11-14's completes, and 11-15's own held run resumes and fills 11-15.
    await failThrice(store, D('2025-11-15'));
    const r14 = requestFor(store, D('2025-11-14'));
    await store.tracker.apply(r14.requestId, { _tag: 'Claim', at: clock.now(), owner: 'x', leaseMs: 60_000 });
    await filler.run({ date: D('2025-11-14'), isBackfill: true });
    await store.tracker.apply(r14.requestId, { _tag: 'Complete', at: clock.now(), attempt: 1 });
    await advance(clock, 1);
    expect((await resumeHeldRuns({ ...store, guardFor: () => guarded }, P)).resumed).toEqual(['2025-11-15']);
    expect(await store.runLog.heldRuns({ status: 'held' })).toMatchObject([
      { runDate: '2025-11-16', waitingFor: ['2025-11-14', '2025-11-15'] },
    ]);

    await advance(clock, 1);
    expect((await createResumer({ ...store, guardFor: () => guarded }).runOnce()).resumed).toEqual([
      { processorName: P, runDate: '2025-11-16' },
    ]);
    expect(await store.runLog.heldRuns({ status: 'held' })).toEqual([]);
    expect(calls.filter((c) => c.trigger === 'resume').map((c) => c.date)).toEqual(['2025-11-15', '2025-11-16']);
  });

  it('a held run waiting for a date whose backfill ran but never completed (the worker died; the request later failed) is resumed', async () => {
    const { clock, store, filler, calls } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, store);
    await guarded.run({ date: D('2025-11-16') });
    const r = requestFor(store, D('2025-11-15'));
    // The backfill ran and wrote its rows (the guard logs the run); the worker died before `Complete`;
    // later claims failed. The date has its data, but no completed request will ever say so.
    await advance(clock, 60_000);
    await guarded.run({ date: D('2025-11-15'), isBackfill: true, requestId: r.requestId });
    await failThrice(store, D('2025-11-15'));
    await advance(clock, 1);
    expect((await createResumer({ ...store, guardFor: () => guarded }).runOnce()).resumed).toEqual([
      { processorName: P, runDate: '2025-11-16' },
    ]);
    expect(calls.filter((c) => c.trigger === 'resume').map((c) => c.date)).toEqual(['2025-11-16']);
    expect(await store.runLog.heldRuns({ status: 'held' })).toEqual([]);
  });

  it('a held run that a re-check held again is not re-run on every pass, only after a new completion', async () => {
    const { clock, store, calls } = world({ missing: [D('2025-11-15')] });
    // A backfill "completes" (marked so by hand) without writing anything. A completion means
    // the date was verified filled, so the re-check sees a new gap, queues it and holds again.
    const hollow: Processor = { name: P, run: async (o) => void calls.push(o) };
    const guarded = withSmartBackfill(hollow, { ...store, policy: { maxAttempts: 1 } });
    await guarded.run({ date: D('2025-11-16') });
    const r = requestFor(store, D('2025-11-15'));
    await store.tracker.apply(r.requestId, { _tag: 'Claim', at: clock.now(), owner: 'x', leaseMs: 60_000 });
    await store.tracker.apply(r.requestId, { _tag: 'Complete', at: clock.now(), attempt: 1 });
    await advance(clock, 1);

    const resumer = createResumer({ ...store, guardFor: () => guarded });
    const first = await resumer.runOnce();
    expect(first.resumed).toEqual([{ processorName: P, runDate: '2025-11-16' }]);
    expect(first.outcomes).toMatchObject([{ _tag: 'Held', decision: { toQueue: ['2025-11-15'] } }]);
    expect(await store.runLog.heldRuns({ status: 'held' })).toMatchObject([{ runDate: '2025-11-16', reason: 'backfill_queued' }]);
    const runsAfterFirst = (await store.runLog.runs({})).length;
    for (let i = 0; i < 3; i++) {
      await advance(clock, 300_000);
      expect(await resumer.runOnce()).toEqual({ resumed: [], cancelled: [], outcomes: [] });
    }
    expect(await store.runLog.runs({})).toHaveLength(runsAfterFirst);
  });
});

describe('simulator finding 3: maxAttempts counts real failures; lapsed claims are bounded apart', () => {
  it('two lapsed claims do not use up the attempts: a first real failure is retried and then succeeds', async () => {
    const { clock, store, filler } = world({ missing: [D('2025-11-15')] });
    let throws = 1;
    const flakyOnce: Processor = { name: P, run: async (o) => (throws-- > 0 ? Promise.reject(new Error('503')) : filler.run(o)) };
    const guarded = withSmartBackfill(flakyOnce, { ...store, alerter: store.alerter, alertLog: store.alertLog });
    await guarded.run({ date: D('2025-11-16') });
    const r = requestFor(store, D('2025-11-15'));
    await claimAndDie({ store, clock }, r.requestId);
    await claimAndDie({ store, clock }, r.requestId);

    const worker = createWorker({
      ...store,
      registry: processorRegistry([guarded]),
      policy: { maxAttempts: 3 },
      backoff: { baseMs: 1000, maxMs: 60_000 },
    });
    expect(await worked(worker)).toMatchObject([{ _tag: 'Retrying', attempt: 3, failures: 1, delayMs: 1000 }]);
    expect(store.requests()[0]).toMatchObject({ status: 'queued', attempt: 3, failures: 1, errorMessage: '503' });
    await advance(clock, 1000);
    expect(await worked(worker)).toMatchObject([{ _tag: 'Completed', attempt: 4, resumed: ['2025-11-16'] }]);
    expect(store.alerter.notices).toEqual([]);
  });

  it('the guard counts real failures: a request claimed four times that failed once (for good) is queued again, not escalated', async () => {
    const { clock, store, filler } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, { ...store, alerter: store.alerter, alertLog: store.alertLog });
    await guarded.run({ date: D('2025-11-16') });
    const r = requestFor(store, D('2025-11-15'));
    for (let i = 0; i < 3; i++) await claimAndDie({ store, clock }, r.requestId);
    const refusing: Processor = { name: P, run: async () => Promise.reject(new PermanentError('credentials expired')) };
    const worker = createWorker({ ...store, registry: processorRegistry([refusing]) });
    expect(await worked(worker)).toMatchObject([{ _tag: 'FailedPermanently', attempt: 4, failures: 1 }]);
    expect(store.requests()[0]).toMatchObject({
      status: 'failed',
      attempt: 4,
      failures: 1,
      gaveUp: false,
      errorMessage: 'credentials expired',
    });

    await advance(clock, DAY);
    expect(await guarded.check(D('2025-11-17'))).toMatchObject({
      wouldQueue: ['2025-11-15', '2025-11-16'],
      failedAttempts: new Map([[D('2025-11-15'), 1]]),
    });
    expect(await guarded.run({ date: D('2025-11-17') })).toMatchObject({ _tag: 'Held' });
    expect(store.alerter.notices).toEqual([]);
  });

  it('the counts live in the request, not in the error text: an error that reads like a count or a give-up is just text', async () => {
    const { clock, store } = world({ missing: [D('2025-11-15')] });
    const misleading: Processor = {
      name: P,
      run: async () => Promise.reject(new PermanentError('failure 0 of 9: gave up after 99 claims')),
    };
    const guarded = withSmartBackfill(misleading, { ...store, alerter: store.alerter, alertLog: store.alertLog });
    await guarded.run({ date: D('2025-11-16') });
    const worker = createWorker({ ...store, registry: processorRegistry([guarded]), maxLeaseLapses: 1 });
    expect(await worked(worker)).toMatchObject([{ _tag: 'FailedPermanently', attempt: 1, failures: 1 }]);
    const failed = store.requests()[0]!;
    expect(failed).toMatchObject({ status: 'failed', failures: 1, gaveUp: false, errorMessage: 'failure 0 of 9: gave up after 99 claims' });
    expect(isPoison(failed)).toBe(false);

    await advance(clock, DAY);
    // One real failure of three: the date is queued again, not escalated as poison.
    expect(await guarded.check(D('2025-11-17'))).toMatchObject({ failedAttempts: new Map([[D('2025-11-15'), 1]]) });
    expect(await guarded.run({ date: D('2025-11-17') })).toMatchObject({ _tag: 'Held' });
    expect(store.alerter.notices).toEqual([]);
  });

  it('a poison job whose every claim lapses ends failed after maxLeaseLapses, unrun, dead-lettered, and its date escalates', async () => {
    const { clock, store, filler, calls } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, { ...store, alerter: store.alerter, alertLog: store.alertLog });
    await guarded.run({ date: D('2025-11-16') });
    const r = requestFor(store, D('2025-11-15'));
    for (let i = 0; i < 4; i++) await claimAndDie({ store, clock }, r.requestId);

    const worker = createWorker({ ...store, registry: processorRegistry([guarded]), maxLeaseLapses: 4 });
    const outcomes = await worked(worker);
    // The give-up is the request's one Fail; it is final, which is what the guard reads.
    expect(outcomes).toMatchObject([{ _tag: 'FailedPermanently', attempt: 5, failures: 1, poison: true }]);
    expect(calls.filter((c) => c.isBackfill === true)).toEqual([]);
    expect(store.requests()[0]).toMatchObject({
      status: 'failed',
      attempt: 5,
      failures: 1,
      gaveUp: true,
      errorMessage: expect.stringMatching(/^gave up after 4 claims: 4 ended without a result/),
    });
    expect(isPoison(store.requests()[0]!)).toBe(true);
    expect(store.queueState()).toMatchObject({ ready: 0, delayed: 0, leased: 0 });

    await advance(clock, DAY);
    expect(await guarded.run({ date: D('2025-11-17') })).toMatchObject({
      _tag: 'Escalated',
      decision: { reason: 'backfill_keeps_failing', dates: ['2025-11-15'] },
    });
    expect(store.alerter.notices).toMatchObject([
      { kind: 'escalated', reason: 'backfill_keeps_failing', lastError: expect.stringMatching(/^gave up after 4 claims/) },
    ]);
    expect(store.requests()).toHaveLength(1);
  });
});
