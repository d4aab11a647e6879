import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoDate, transition, newRequest, type BackfillRequest, type RequestEvent } from '@smart-backfill/core';
import {
  createMemoryStore,
  memoryAlertLog,
  memoryBackfillQueue,
  memoryRequestTracker,
  memoryRunLog,
  memoryScheduleSource,
  memoryTargetTable,
  memoryWindowReader,
} from '@smart-backfill/memory';
import { ManualClock, aNewRequest } from '@smart-backfill/testkit';

const D = isoDate;
const msg = (id: string) => ({ id, data: `{"n":"${id}"}`, attributes: { request_id: id } });
const req = (requestId: string, date = '2025-11-15', processorName = 'P') =>
  aNewRequest(requestId, processorName, D(date), 1000, { requestedBy: 'test', metadata: {} });

describe('memoryBackfillQueue', () => {
  it('leases deliveries; a lapsed lease redelivers with a higher deliveryAttempt; ack ends it', async () => {
    const clock = new ManualClock(0);
    const q = memoryBackfillQueue({ clock });
    expect(await q.publish([msg('a'), msg('b')])).toEqual([
      { _tag: 'Published', id: 'a', messageId: 'm-1' },
      { _tag: 'Published', id: 'b', messageId: 'm-2' },
    ]);
    const first = await q.receive({ max: 1, leaseMs: 1000 });
    expect(first.map((d) => [d.message.id, d.deliveryAttempt])).toEqual([['a', 1]]);
    expect((await q.receive({ max: 10, leaseMs: 1000 })).map((d) => d.message.id)).toEqual(['b']);
    expect(await q.receive({ max: 10, leaseMs: 1000 })).toEqual([]);
    clock.advance(1000);
    const again = await q.receive({ max: 10, leaseMs: 1000 });
    expect(again.map((d) => [d.message.id, d.deliveryAttempt])).toEqual([
      ['a', 2],
      ['b', 2],
    ]);
    // The first delivery of "a" is stale now: its ack changes nothing.
    await first[0]!.ack();
    expect(q.state()).toMatchObject({ acked: 0, leased: 2, staleCalls: 1 });
    await again[0]!.ack();
    await again[1]!.deadLetter!('poison');
    expect(q.state()).toMatchObject({ acked: 1, leased: 0, ready: 0, deadLettered: [{ id: 'b', reason: 'poison' }] });
  });

  it('nack delays redelivery; extendLease keeps a delivery', async () => {
    const clock = new ManualClock(0);
    const q = memoryBackfillQueue({ clock });
    await q.publish([msg('a')]);
    const [d] = await q.receive({ max: 1, leaseMs: 1000 });
    await d!.nack(5000);
    expect(q.state()).toMatchObject({ delayed: 1, ready: 0 });
    clock.advance(4999);
    expect(await q.receive({ max: 1, leaseMs: 1000 })).toEqual([]);
    clock.advance(1);
    const [d2] = await q.receive({ max: 1, leaseMs: 1000 });
    clock.advance(900);
    await d2!.extendLease(1000);
    clock.advance(900);
    expect(await q.receive({ max: 1, leaseMs: 1000 })).toEqual([]);
    clock.advance(200);
    expect((await q.receive({ max: 1, leaseMs: 1000 }))[0]?.deliveryAttempt).toBe(3);
  });

  it('dead-letters after maxDeliveryAttempts, and a waiting receive wakes on publish', async () => {
    const clock = new ManualClock(0);
    const q = memoryBackfillQueue({ clock, maxDeliveryAttempts: 2 });
    const waiting = q.receive({ max: 1, leaseMs: 10, waitMs: 60_000 });
    await q.publish([msg('a')]);
    expect((await waiting).map((d) => d.message.id)).toEqual(['a']);
    clock.advance(10);
    expect((await q.receive({ max: 1, leaseMs: 10 })).length).toBe(1);
    clock.advance(10);
    expect(await q.receive({ max: 1, leaseMs: 10 })).toEqual([]);
    expect(q.state().deadLettered).toEqual([{ id: 'a', reason: 'delivered 2 times without an ack' }]);
    // An empty wait ends when the clock passes waitMs.
    const empty = q.receive({ max: 1, leaseMs: 10, waitMs: 500 });
    clock.advance(500);
    expect(await empty).toEqual([]);
  });
});

describe('memoryRequestTracker', () => {
  it('keeps one active request per (processor, date), even for racing creates', async () => {
    const t = memoryRequestTracker();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.create([req(`r${i}`), req(`s${i}`, '2025-11-14')])));
    expect(results.flatMap((r) => r.created).map((r) => r.requestId)).toEqual(['r0', 's0']);
    expect(results.slice(1).every((r) => r.existing.map((e) => e.requestId).join() === 'r0,s0')).toBe(true);
    // Same id again is idempotent; other processors are separate.
    expect((await t.create([req('r0')])).existing.map((r) => r.requestId)).toEqual(['r0']);
    expect((await t.create([req('q', '2025-11-15', 'Q')])).created).toHaveLength(1);
  });

  it('allows a new request once the active one is done', async () => {
    const t = memoryRequestTracker();
    await t.create([req('a')]);
    await t.apply('a', { _tag: 'Claim', at: 2000, owner: 'w', leaseMs: 100 });
    await t.apply('a', { _tag: 'Fail', at: 2001, attempt: 1, error: 'x' });
    expect((await t.create([req('b')])).created.map((r) => r.requestId)).toEqual(['b']);
  });

  it('apply is transition + compare-and-set; errors change nothing', async () => {
    const t = memoryRequestTracker();
    await t.create([req('a')]);
    expect(await t.apply('nope', { _tag: 'MarkPublished', at: 1 })).toMatchObject({ _tag: 'Err', error: { _tag: 'NotFound' } });
    expect(await t.apply('a', { _tag: 'Complete', at: 1, attempt: 1 })).toMatchObject({
      _tag: 'Err',
      error: { _tag: 'IllegalTransition' },
    });
    const before = await t.get('a');
    expect((await t.apply('a', { _tag: 'Claim', at: 2000, owner: 'w', leaseMs: 100 }))._tag).toBe('Ok');
    expect((await t.apply('a', { _tag: 'Claim', at: 2000, owner: 'v', leaseMs: 100 }))._tag).toBe('Err');
    expect((await t.get('a'))?.leaseOwner).toBe('w');
    expect(before?.status).toBe('queued');
  });

  it('matches a plain model over random event sequences', async () => {
    const event = fc.oneof(
      fc.record({
        _tag: fc.constant('Claim' as const),
        at: fc.nat(10_000),
        owner: fc.constantFrom('a', 'b'),
        leaseMs: fc.integer({ min: 1, max: 500 }),
      }),
      fc.record({
        _tag: fc.constant('Heartbeat' as const),
        at: fc.nat(10_000),
        attempt: fc.nat(4),
        leaseMs: fc.integer({ min: 1, max: 500 }),
      }),
      fc.record({ _tag: fc.constant('Complete' as const), at: fc.nat(10_000), attempt: fc.nat(4) }),
      fc.record({ _tag: fc.constant('Fail' as const), at: fc.nat(10_000), attempt: fc.nat(4), error: fc.constant('e') }),
      fc.record({ _tag: fc.constant('Retry' as const), at: fc.nat(10_000), notBefore: fc.nat(10_000) }),
      fc.record({ _tag: fc.constant('LeaseExpired' as const), at: fc.nat(10_000) }),
      fc.record({ _tag: fc.constant('MarkPublished' as const), at: fc.nat(10_000) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 30 }), async (events: RequestEvent[]) => {
        const t = memoryRequestTracker();
        await t.create([req('a')]);
        let model: BackfillRequest = newRequest(req('a'));
        let n = 0;
        for (const e of events) {
          const expected = transition(model, e);
          const got = await t.apply('a', e);
          expect(got._tag).toBe(expected._tag);
          if (expected._tag === 'Ok') model = expected.value;
          expect(await t.get('a')).toEqual(model);
          const active = model.status === 'queued' || model.status === 'processing';
          // The one-active rule: a second request for the date is refused exactly while this one is active.
          const probe = await t.create([req(`probe-${n++}`)]);
          expect(probe.created.length).toBe(active ? 0 : 1);
          if (!active) return; // the probe is now the active one; the model no longer covers the store
        }
      }),
      { numRuns: 60 },
    );
  });

  it('lists the outbox and expired leases, oldest first', async () => {
    const t = memoryRequestTracker();
    await t.create([
      { ...req('old'), requestedAt: 100 },
      { ...req('new', '2025-11-14'), requestedAt: 900 },
      { ...req('pub', '2025-11-13'), requestedAt: 50 },
    ]);
    await t.apply('pub', { _tag: 'MarkPublished', at: 60 });
    expect((await t.unpublished({ olderThan: 1000, limit: 10 })).map((r) => r.requestId)).toEqual(['old', 'new']);
    expect((await t.unpublished({ olderThan: 500, limit: 10 })).map((r) => r.requestId)).toEqual(['old']);
    await t.apply('old', { _tag: 'Claim', at: 1000, owner: 'w', leaseMs: 100 });
    await t.apply('new', { _tag: 'Claim', at: 1000, owner: 'w', leaseMs: 50 });
    expect((await t.expiredLeases({ now: 1099, limit: 10 })).map((r) => r.requestId)).toEqual(['new']);
    expect((await t.expiredLeases({ now: 1100, limit: 10 })).map((r) => r.requestId)).toEqual(['new', 'old']);
    expect((await t.list({ processorName: 'P' })).map((r) => r.requestId)).toEqual(['new', 'old', 'pub']);
    expect((await t.list({ statuses: ['queued'] })).map((r) => r.requestId)).toEqual(['pub']);
    expect(
      (await t.forWindow({ processorName: 'P', start: D('2025-11-14'), end: D('2025-11-15') })).map((r) => r.requestId).sort(),
    ).toEqual(['new', 'old']);
  });
});

describe('memoryRunLog', () => {
  it('appends idempotently, holds, refreshes and releases once', async () => {
    const log = memoryRunLog();
    const run = {
      runId: 'r1',
      processorName: 'P',
      runDate: D('2025-11-16'),
      trigger: 'scheduled' as const,
      isBackfill: false,
      outcome: 'skipped' as const,
      skipReason: 'backfill_queued' as const,
      errorMessage: null,
      startedAt: 5,
      finishedAt: 6,
      durationMs: 1,
      metadata: { gap_size: 1 },
    };
    await log.append(run);
    await log.append({ ...run, outcome: 'failed' });
    expect(await log.runs({})).toEqual([run]);
    await log.hold({ processorName: 'P', runDate: D('2025-11-16'), heldAt: 10, reason: 'backfill_queued', waitingFor: [D('2025-11-15')] });
    await log.hold({
      processorName: 'P',
      runDate: D('2025-11-16'),
      heldAt: 20,
      reason: 'waiting_for_backfill',
      waitingFor: [D('2025-11-14')],
    });
    await log.hold({ processorName: 'P', runDate: D('2025-11-12'), heldAt: 30, reason: 'gap_escalated', waitingFor: [] });
    expect(await log.heldRuns({ processorName: 'P' })).toMatchObject([
      { runDate: '2025-11-12' },
      { runDate: '2025-11-16', heldAt: 10, reason: 'waiting_for_backfill', waitingFor: ['2025-11-14'], status: 'held' },
    ]);
    const wins = await Promise.all([1, 2, 3].map(() => log.release('P', D('2025-11-16'), 'resumed', 40)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await log.heldRuns({ status: 'held' })).toHaveLength(1);
    await log.hold({ processorName: 'P', runDate: D('2025-11-16'), heldAt: 50, reason: 'backfill_queued', waitingFor: [] });
    expect((await log.heldRuns({ status: 'held' })).map((h) => h.runDate)).toEqual(['2025-11-12', '2025-11-16']);
  });
});

describe('memoryAlertLog', () => {
  it('opens once, marks sends, resolves once, reopens as a new alert', async () => {
    const log = memoryAlertLog();
    const a = {
      alertKey: 'P:2025-11-08',
      processorName: 'P',
      reason: 'gap_exceeds_threshold' as const,
      runDate: D('2025-11-16'),
      missingDates: [D('2025-11-08')],
      lastError: null,
      openedAt: 1,
      at: 1,
    };
    const opened = await Promise.all([log.upsertOpen(a), log.upsertOpen({ ...a, at: 2 })]);
    expect(opened.map((o) => o.created)).toEqual([true, false]);
    await log.markSent(a.alertKey, 3);
    expect((await log.list({ openOnly: true }))[0]).toMatchObject({ sendCount: 1, lastSentAt: 3, openedAt: 1 });
    expect(await log.resolve(a.alertKey, 4)).toMatchObject({ resolvedAt: 4 });
    expect(await log.resolve(a.alertKey, 5)).toBeUndefined();
    expect((await log.upsertOpen({ ...a, openedAt: 6, at: 6 })).created).toBe(true);
    expect((await log.list({})).map((r) => [r.openedAt, r.resolvedAt])).toEqual([
      [6, null],
      [1, 4],
    ]);
  });
});

describe('schedule, target and window in memory', () => {
  it('filter to the window, fall back to the * schedule, and count round trips', async () => {
    const s = memoryScheduleSource({ '*': [D('2025-11-01'), D('2025-11-02'), D('2025-12-01')] });
    s.set('Q', [D('2025-11-05')]);
    const t = memoryTargetTable();
    t.setCount('P', D('2025-11-01'), 3);
    expect(t.addRows('P', D('2025-11-01'), 2)).toBe(5);
    expect(() => t.setCount('P', D('2025-11-01'), -1)).toThrow('row count: expected a whole number >= 0, got -1');
    const w = memoryWindowReader(s, t);
    const q = { processorName: 'P', start: D('2025-11-01'), end: D('2025-11-30') };
    expect(await w.readWindow(q)).toEqual({ expectedDates: ['2025-11-01', '2025-11-02'], recordCounts: new Map([['2025-11-01', 5]]) });
    expect(await s.expectedDates({ ...q, processorName: 'Q' })).toEqual(['2025-11-05']);
    expect([w.reads(), s.reads(), t.reads()]).toEqual([1, 2, 1]);
  });

  it('createMemoryStore bundles every port with a backdoor', async () => {
    const store = createMemoryStore({ clock: new ManualClock(0) });
    store.setSchedule('P', [D('2025-11-01')]);
    store.setCount('P', D('2025-11-01'), 7);
    store.addRows('P', D('2025-11-01'), 1);
    expect(store.target.count('P', D('2025-11-01'))).toBe(8);
    await store.tracker.create([req('a')]);
    await store.queue.publish([msg('a')]);
    expect(store.requests().map((r) => r.requestId)).toEqual(['a']);
    expect(store.queueState()).toMatchObject({ ready: 1, messages: [{ message: { id: 'a' } }] });
  });
});
