import { describe, expect, it } from 'vitest';
import type { RequestEvent, RequestTracker } from '@smart-backfill/core';
import {
  PermanentError,
  createSweeper,
  createWorker,
  processorRegistry,
  queueMessageForRequest,
  withSmartBackfill,
  type Processor,
} from '@smart-backfill/engine';
import { backoffDelay } from '../src/backfill-result.js';
import { encodeBackfillMessage } from '../src/codec.js';
import { D, DAY, P, world } from './support/world.js';
import { advance, settle } from './support/time.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('worker', () => {
  it('dead-letters undecodable messages with the reason, runs none of them, and keeps going', async () => {
    const { store, calls, filler } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, store);
    const bad = [
      '{"start_date": "2025-11-15", ',
      JSON.stringify({
        start_date: '2025-02-30',
        end_date: '2025-02-30',
        processor_name: P,
        is_backfill: true,
        trigger_reason: 'x',
        requested_at: '2025-11-16T08:00:00Z',
      }),
      JSON.stringify({
        start_date: '2025-11-15',
        end_date: '2025-11-15',
        processor_name: 42,
        is_backfill: true,
        trigger_reason: 'x',
        requested_at: '2025-11-16T08:00:00Z',
      }),
      JSON.stringify({ pad: 'x'.repeat(70_000) }),
      '"just a string"',
    ];
    await store.queue.publish(bad.map((data, i) => ({ id: `bad-${i}`, data, attributes: {} })));
    await guarded.run({ date: D('2025-11-16') }); // queues a good one after the bad ones
    const worker = createWorker({ ...store, registry: processorRegistry([guarded]) });
    const tick = await worker.runOnce({ max: 10 });
    expect(tick.outcomes.map((o) => o._tag)).toEqual([
      'DeadLettered',
      'DeadLettered',
      'DeadLettered',
      'DeadLettered',
      'DeadLettered',
      'Completed',
    ]);
    const dead = store.queueState().deadLettered;
    expect(dead.map((d) => d.id)).toEqual(['bad-0', 'bad-1', 'bad-2', 'bad-3', 'bad-4']);
    expect(dead[0]?.reason).toMatch(/^undecodable backfill message "bad-0": \(message\): message is not valid JSON/);
    expect(dead[1]?.reason).toContain('start_date: expected a YYYY-MM-DD date, got "2025-02-30"');
    expect(dead[2]?.reason).toContain('processor_name: expected a non-empty string, got 42');
    expect(dead[3]?.reason).toContain('the limit is 65536');
    expect(calls.map((c) => c.date)).toEqual(['2025-11-15', '2025-11-16']);
  });

  it('fails requests for unknown processors with a clear reason and does not retry them', async () => {
    const { store, filler } = world();
    await store.tracker.create([
      {
        requestId: 'evil',
        processorName: 'os.system',
        date: D('2025-11-15'),
        requestType: 'manual',
        priority: 'normal',
        requestedAt: 0,
        requestedBy: 'x',
        triggerReason: 'manual_backfill',
        metadata: {},
      },
    ]);
    const r = await store.tracker.get('evil');
    await store.queue.publish([
      encodeBackfillMessage({
        start_date: D('2025-11-15'),
        end_date: D('2025-11-15'),
        processor_name: 'os.system',
        is_backfill: true,
        trigger_reason: 'manual_backfill',
        requested_at: new Date(r!.requestedAt).toISOString(),
        request_id: 'evil',
        attempt: 0,
      }),
    ]);
    const worker = createWorker({ ...store, registry: processorRegistry([filler]) });
    const [o] = (await worker.runOnce()).outcomes;
    expect(o).toEqual({
      _tag: 'Rejected',
      requestId: 'evil',
      reason: `unknown processor "os.system": it is not in this worker's registry (known: ${P}); not retried`,
    });
    expect(await store.tracker.get('evil')).toMatchObject({ status: 'failed', errorMessage: o?._tag === 'Rejected' ? o.reason : '' });
    expect(store.queueState().deadLettered).toHaveLength(1);
    expect((await worker.runOnce()).received).toBe(0);
  });

  it('tracks a hand-published seed message (no request_id) before running it, once', async () => {
    const { store, calls, filler } = world({ missing: [D('2025-11-15')] });
    const seedBody = JSON.stringify({
      start_date: '2025-11-15',
      end_date: '2025-11-15',
      processor_name: P,
      is_backfill: true,
      trigger_reason: 'manual',
      requested_at: '2025-11-16T07:00:00.123456',
    });
    await store.queue.publish([
      { id: '', data: seedBody, attributes: {} },
      { id: '', data: seedBody, attributes: {} },
    ]);
    const worker = createWorker({ ...store, registry: processorRegistry([filler]) });
    expect((await worker.runOnce({ max: 1 })).outcomes.map((o) => o._tag)).toEqual(['Completed']);
    // The second copy derives the same request id, so it is recognised as done.
    expect((await worker.runOnce({ max: 1 })).outcomes.map((o) => o._tag)).toEqual(['AlreadyDone']);
    expect(calls).toHaveLength(1);
    const [req] = store.requests();
    expect(req).toMatchObject({
      date: '2025-11-15',
      requestType: 'manual',
      requestedAt: Date.UTC(2025, 10, 16, 7, 0, 0, 123),
      status: 'completed',
      requestedBy: 'backfill_worker',
    });
    expect(req?.requestId).toMatch(/^msg-/);
  });

  it('acks an already-completed request without running it again (redelivery is normal)', async () => {
    const { store, calls, filler } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, store);
    await guarded.run({ date: D('2025-11-16') });
    const worker = createWorker({ ...store, registry: processorRegistry([guarded]) });
    await worker.runOnce();
    await store.queue.publish([encodeBackfillMessage({ ...JSON.parse(store.queueState().messages[0]!.message.data) })]);
    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'AlreadyDone', status: 'completed' }]);
    expect(calls.filter((c) => c.isBackfill === true)).toHaveLength(1);
  });

  it('stale worker fence: lease lapses, the sweeper requeues, a second worker claims; the first one’s Complete is refused', async () => {
    const { clock, store, filler } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, store);
    await guarded.run({ date: D('2025-11-16') });

    // Worker A is cut off from the tracker for heartbeats (a partition), and its processor hangs.
    const gate = deferred();
    let partitioned = true;
    const cutOff: RequestTracker = {
      ...store.tracker,
      apply: (id: string, e: RequestEvent) =>
        partitioned && e._tag === 'Heartbeat' ? Promise.reject(new Error('ETIMEDOUT')) : store.tracker.apply(id, e),
    };
    const gateB = deferred();
    let runs = 0;
    const slowOnce: Processor = {
      name: P,
      run: async (o) => {
        runs++;
        await (runs === 1 ? gate.promise : gateB.promise);
        return filler.run(o);
      },
    };
    const leaseMs = 60_000;
    const a = createWorker({
      ...store,
      tracker: cutOff,
      registry: processorRegistry([slowOnce]),
      leaseMs,
      heartbeatMs: 20_000,
      workerId: 'A',
      resume: false,
    });
    const b = createWorker({
      ...store,
      registry: processorRegistry([slowOnce]),
      leaseMs,
      heartbeatMs: 20_000,
      workerId: 'B',
      resume: false,
    });
    const aTick = a.runOnce();
    await settle();
    expect(store.requests()[0]).toMatchObject({ status: 'processing', attempt: 1, leaseOwner: 'A' });

    await advance(clock, leaseMs + 1);
    const sweeper = createSweeper(store);
    const sweeper2 = createSweeper(store);
    const [s1, s2] = await Promise.all([sweeper.runOnce(), sweeper2.runOnce()]);
    expect(s1.expired + s2.expired).toBe(1); // the second sweeper's LeaseExpired lost the CAS
    expect(store.requests()[0]).toMatchObject({ status: 'queued', leaseOwner: null });

    const bTick = b.runOnce();
    await settle();
    expect(store.requests()[0]).toMatchObject({ status: 'processing', attempt: 2, leaseOwner: 'B' });

    // A wakes up while B works: its Complete for attempt 1 is refused (fencing).
    partitioned = false;
    gate.resolve();
    const [aOutcome] = (await aTick).outcomes;
    expect(aOutcome).toMatchObject({ _tag: 'Stale', attempt: 1 });
    expect(aOutcome?._tag === 'Stale' && aOutcome.reason).toBe(
      `request ${store.requests()[0]?.requestId} is on attempt 2; attempt 1 lost its lease and may not change it`,
    );
    expect(store.requests()[0]).toMatchObject({ status: 'processing', attempt: 2, leaseOwner: 'B' });

    gateB.resolve();
    // B got the message twice (the redelivery and the sweeper's republish). The request's claim
    // lapsed once, so B runs it alone: the second delivery waits at the solo gate, then finds it done.
    expect((await bTick).outcomes.map((o) => o._tag).sort()).toEqual(['AlreadyDone', 'Completed']);
    expect(store.requests()).toHaveLength(1);
    expect(store.requests()[0]).toMatchObject({ status: 'completed', attempt: 2, errorMessage: null });
    // A late Complete from A after B finished is refused as well.
    const late = await store.tracker.apply(store.requests()[0]!.requestId, { _tag: 'Complete', at: clock.now(), attempt: 1 });
    expect(late._tag).toBe('Err');
  });

  it('heartbeats keep a long backfill leased', async () => {
    const { clock, store, filler } = world({ missing: [D('2025-11-15')] });
    await withSmartBackfill(filler, store).run({ date: D('2025-11-16') });
    const gate = deferred();
    const slow: Processor = { name: P, run: async (o) => (await gate.promise, filler.run(o)) };
    const w = createWorker({ ...store, registry: processorRegistry([slow]), leaseMs: 60_000, heartbeatMs: 20_000 });
    const tick = w.runOnce();
    await settle();
    await advance(clock, 5 * 60_000); // five lease lengths
    expect(await createSweeper(store).runOnce()).toEqual({ expired: 0, republished: 0 });
    const r = store.requests()[0];
    expect(r?.status).toBe('processing');
    expect(r?.leaseExpiresAt).toBeGreaterThan(clock.now());
    expect(store.queueState().leased).toBe(1);
    gate.resolve();
    expect((await tick).outcomes).toMatchObject([{ _tag: 'Completed' }]);
  });

  it('retries with exponential backoff up to maxAttempts, then fails for good; the next check escalates once', async () => {
    const { clock, store, calls } = world({ missing: [D('2025-11-15')] });
    const flaky: Processor = { name: P, run: async (o) => (calls.push(o), Promise.reject(new Error(`source returned 503 on ${o.date}`))) };
    const guarded = withSmartBackfill(flaky, store);
    expect(backoffDelay(1, { baseMs: 1000, maxMs: 3000 })).toBe(1000);
    expect(backoffDelay(3, { baseMs: 1000, maxMs: 3000 })).toBe(3000);
    await guarded.run({ date: D('2025-11-16') });
    const worker = createWorker({
      ...store,
      registry: processorRegistry([guarded]),
      backoff: { baseMs: 1000, maxMs: 60_000 },
      policy: { maxAttempts: 3 },
    });

    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'Retrying', attempt: 1, delayMs: 1000 }]);
    expect(store.requests()[0]).toMatchObject({ status: 'queued', notBefore: clock.now() + 1000 });
    expect((await worker.runOnce()).received).toBe(0); // the nack delay holds it back
    await advance(clock, 1000);
    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'Retrying', attempt: 2, delayMs: 2000 }]);
    await advance(clock, 1999);
    expect((await worker.runOnce()).received).toBe(0);
    await advance(clock, 1);
    expect((await worker.runOnce()).outcomes).toMatchObject([
      { _tag: 'FailedPermanently', attempt: 3, error: 'source returned 503 on 2025-11-15' },
    ]);
    // The request counts real failures apart from claims (claims that lapse are not failures); the error is just the error.
    expect(store.requests()).toMatchObject([
      { status: 'failed', attempt: 3, failures: 3, gaveUp: false, errorMessage: 'source returned 503 on 2025-11-15' },
    ]);
    expect(store.queueState()).toMatchObject({ ready: 0, delayed: 0, leased: 0 });

    // Next day's check: the circuit opens instead of re-queueing forever.
    const alerting = withSmartBackfill(flaky, { ...store, alerter: store.alerter });
    for (const day of ['2025-11-17', '2025-11-18'] as const) {
      await advance(clock, DAY);
      expect(await alerting.run({ date: D(day) })).toMatchObject({
        _tag: 'Escalated',
        decision: { reason: 'backfill_keeps_failing', dates: ['2025-11-15'] },
      });
    }
    expect(store.alerter.notices).toHaveLength(1);
    expect(store.alerter.notices[0]).toMatchObject({
      kind: 'escalated',
      reason: 'backfill_keeps_failing',
      lastError: 'source returned 503 on 2025-11-15',
      missingDates: ['2025-11-15'],
    });
    expect(store.requests()).toHaveLength(1);
  });

  it('a non-retryable error fails the request at once', async () => {
    const { store, filler } = world({ missing: [D('2025-11-15')] });
    await withSmartBackfill(filler, store).run({ date: D('2025-11-16') });
    const bad: Processor = { name: P, run: async () => Promise.reject(new PermanentError('no such game')) };
    const worker = createWorker({ ...store, registry: processorRegistry([bad]) });
    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'FailedPermanently', attempt: 1, error: 'no such game' }]);
    // A plain (unguarded) processor still leaves a run-log row for its backfill.
    expect((await store.runLog.runs({})).at(-1)).toMatchObject({
      runDate: '2025-11-15',
      trigger: 'backfill',
      isBackfill: true,
      outcome: 'failed',
      errorMessage: 'no such game',
      metadata: { attempt: 1 },
    });
  });

  it("a plain processor's result shaped like a failed guard outcome is its result, not a failure", async () => {
    const { store, filler } = world({ missing: [D('2025-11-15')] });
    await withSmartBackfill(filler, store).run({ date: D('2025-11-16') });
    const lookalike = { _tag: 'Failed', runId: 'its-own-id', stage: 'run', error: new Error('a value, not a failure') };
    const plain: Processor = { name: P, run: async () => lookalike };
    const worker = createWorker({ ...store, registry: processorRegistry([plain]) });
    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'Completed' }]);
    expect((await store.runLog.runs({})).at(-1)).toMatchObject({ runDate: '2025-11-15', outcome: 'succeeded' });
  });

  it('nacks with a delay a request another worker holds under a live lease', async () => {
    const { store, filler } = world({ missing: [D('2025-11-15')] });
    await withSmartBackfill(filler, store).run({ date: D('2025-11-16') });
    const [r] = store.requests();
    await store.tracker.apply(r!.requestId, { _tag: 'Claim', at: store.clock.now(), owner: 'other', leaseMs: 90_000 });
    const worker = createWorker({ ...store, registry: processorRegistry([filler]) });
    expect((await worker.runOnce()).outcomes).toEqual([{ _tag: 'Busy', requestId: r!.requestId, delayMs: 90_000 }]);
    expect(store.queueState()).toMatchObject({ delayed: 1, ready: 0 });
  });

  it('start/stop: the loop drains work, and stop waits for the running backfill', async () => {
    const { clock, store, filler } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, store);
    const gate = deferred();
    const slow: Processor = { name: P, run: async (o) => (await gate.promise, filler.run(o)) };
    const worker = createWorker({ ...store, registry: processorRegistry([slow]), idleMs: 1000, guardFor: () => guarded });
    worker.start();
    await guarded.run({ date: D('2025-11-16') });
    await advance(clock, 1000);
    expect(store.requests()[0]?.status).toBe('processing');
    const stopped = worker.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    gate.resolve();
    await stopped;
    expect(store.requests()[0]?.status).toBe('completed');
    expect((await store.runLog.heldRuns({}))[0]?.status).toBe('resumed');
  });

  it('stop({ drain: false }) aborts the run and releases the delivery', async () => {
    const { clock, store, filler } = world({ missing: [D('2025-11-15')] });
    await withSmartBackfill(filler, store).run({ date: D('2025-11-16') });
    const cooperative: Processor = {
      name: P,
      run: (o) => new Promise((_, reject) => o.signal?.addEventListener('abort', () => reject(o.signal?.reason))),
    };
    const worker = createWorker({ ...store, registry: processorRegistry([cooperative]), idleMs: 1000 });
    worker.start();
    await advance(clock, 1);
    await settle();
    expect(store.requests()[0]?.status).toBe('processing');
    await worker.stop({ drain: false });
    expect(store.queueState()).toMatchObject({ ready: 1, leased: 0 });
    // The request stays processing until its lease lapses; then the sweeper requeues it.
    expect(store.requests()[0]?.status).toBe('processing');
  });

  it('runs a request whose claim lapsed alone, so a crash it causes cannot lapse a batch-mate; fresh ones still run side by side', async () => {
    const dates = [D('2025-11-10'), D('2025-11-11'), D('2025-11-12'), D('2025-11-13'), D('2025-11-14')];
    const { clock, store, filler } = world({ missing: dates });
    const { created } = await store.tracker.create(
      dates.map((d, i) => ({
        requestId: `r-${i}`,
        processorName: P,
        date: d,
        requestType: 'auto' as const,
        priority: 'normal' as const,
        requestedAt: clock.now(),
        requestedBy: 't',
        triggerReason: 'auto_backfill',
        metadata: {},
      })),
    );
    // r-2's last claim lapsed (its worker died holding it): it is a suspect now.
    await store.tracker.apply('r-2', { _tag: 'Claim', at: clock.now(), owner: 'dead', leaseMs: 1_000 });
    await advance(clock, 1_001);
    await store.queue.publish(created.map(queueMessageForRequest));

    let inFlight = 0;
    const alongside = new Map<string, number>(); // the most runs in flight while each date ran
    const watched: Processor = {
      name: P,
      run: async (o) => {
        inFlight++;
        alongside.set(o.date, Math.max(alongside.get(o.date) ?? 0, inFlight));
        for (let i = 0; i < 3; i++) {
          await settle(1);
          alongside.set(o.date, Math.max(alongside.get(o.date) ?? 0, inFlight));
        }
        inFlight--;
        return filler.run(o);
      },
    };
    const worker = createWorker({ ...store, registry: processorRegistry([watched]), resume: false });
    const tick = await worker.runOnce({ max: 10 });
    expect(tick.outcomes.map((o) => o._tag)).toEqual(['Completed', 'Completed', 'Completed', 'Completed', 'Completed']);
    expect(alongside.get(D('2025-11-12'))).toBe(1); // the suspect ran with nothing else in flight
    expect(Math.max(...dates.filter((d) => d !== D('2025-11-12')).map((d) => alongside.get(d) ?? 0))).toBeGreaterThan(1);
    expect(store.requests().find((r) => r.requestId === 'r-2')).toMatchObject({ status: 'completed', attempt: 2, failures: 0 });
  });

  it('stop({ drain: false }) releases a delivery still waiting to run alone, without claiming it', async () => {
    const dates = [D('2025-11-13'), D('2025-11-14')];
    const { clock, store } = world({ missing: dates });
    const { created } = await store.tracker.create(
      dates.map((d, i) => ({
        requestId: `r-${i}`,
        processorName: P,
        date: d,
        requestType: 'auto' as const,
        priority: 'normal' as const,
        requestedAt: clock.now(),
        requestedBy: 't',
        triggerReason: 'auto_backfill',
        metadata: {},
      })),
    );
    await store.tracker.apply('r-1', { _tag: 'Claim', at: clock.now(), owner: 'dead', leaseMs: 1_000 });
    await advance(clock, 1_001);
    await store.queue.publish(created.map(queueMessageForRequest));
    const cooperative: Processor = {
      name: P,
      run: (o) => new Promise((_, reject) => o.signal?.addEventListener('abort', () => reject(o.signal?.reason))),
    };
    const worker = createWorker({ ...store, registry: processorRegistry([cooperative]), resume: false });
    const tick = worker.runOnce({ max: 10 });
    await settle();
    expect(store.requests().find((r) => r.requestId === 'r-0')).toMatchObject({ status: 'processing', attempt: 1 }); // running
    expect(store.requests().find((r) => r.requestId === 'r-1')).toMatchObject({ status: 'processing', attempt: 1, leaseOwner: 'dead' }); // waiting at the gate
    await worker.stop({ drain: false });
    expect((await tick).outcomes.map((o) => o._tag)).toEqual(['Released', 'Released']);
    expect(store.requests().find((r) => r.requestId === 'r-1')).toMatchObject({ attempt: 1, leaseOwner: 'dead' }); // never claimed by this worker
  });
});
