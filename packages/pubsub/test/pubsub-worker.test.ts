import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '@smart-backfill/memory';
import { createWorker, processorRegistry, systemClock, type DeliveryOutcome } from '@smart-backfill/engine';
import { openPubSubQueue, startPubSubWorker, type PubSubBackfillQueue } from '../src/index.js';
import { ensure, eventually, full, startFakeEnv, type FakeEnv } from './helpers.js';
import { newRequest, RecordingProcessor, trackedMessages } from './worker-fixtures.js';

let env: FakeEnv;
beforeAll(async () => {
  env = await startFakeEnv();
});
afterAll(async () => {
  await env.stop();
});

/** Resources + queue + engine worker over a memory tracker, all on real time. */
const setup = async (o: { exactlyOnce?: boolean; maxDeliveryAttempts?: number; backoffMs?: number } = {}) => {
  const client = env.client();
  const n = env.names('w');
  await ensure(client, {
    topic: n.topic,
    subscription: n.subscription,
    retryPolicy: false,
    exactlyOnce: o.exactlyOnce ?? false,
    deadLetter: { topic: n.deadLetterTopic, subscription: n.deadLetterSubscription, maxDeliveryAttempts: o.maxDeliveryAttempts ?? 5 },
  });
  const queue: PubSubBackfillQueue = await openPubSubQueue({
    client,
    topic: n.topic,
    subscription: n.subscription,
    deadLetter: { topic: n.deadLetterTopic },
  });
  const store = createMemoryStore({ clock: systemClock });
  const processor = new RecordingProcessor();
  const worker = createWorker({
    queue,
    tracker: store.tracker,
    runLog: store.runLog,
    registry: processorRegistry([processor]),
    clock: systemClock,
    leaseMs: 60_000,
    backoff: { baseMs: o.backoffMs ?? 1_000, maxMs: o.backoffMs ?? 1_000 },
  });
  const outcomes: DeliveryOutcome[] = [];
  return { client, n, queue, store, processor, worker, outcomes };
};

describe('startPubSubWorker (real client, streaming pull, fake server)', () => {
  it('runs each published date once, acks it, and the tracker shows it completed', async () => {
    const s = await setup();
    const msgs = await trackedMessages(s.store.tracker, [
      newRequest('r1', '2025-11-10'),
      newRequest('r2', '2025-11-11'),
      newRequest('r3', '2025-11-12'),
    ]);
    const published = await s.queue.publish(msgs);
    expect(published.map((p) => p._tag)).toEqual(['Published', 'Published', 'Published']);
    const pw = startPubSubWorker({
      subscription: s.client.subscription(s.n.subscription),
      worker: s.worker,
      onOutcome: (o) => s.outcomes.push(o),
    });
    await eventually(() => s.outcomes.length === 3, 'three outcomes');
    await pw.stop();
    expect(s.outcomes.map((o) => o._tag)).toEqual(['Completed', 'Completed', 'Completed']);
    expect(s.processor.runs.map((r) => r.date).sort()).toEqual(['2025-11-10', '2025-11-11', '2025-11-12']);
    expect(s.processor.runs.every((r) => r.isBackfill === true)).toBe(true);
    for (const id of ['r1', 'r2', 'r3']) expect((await s.store.tracker.get(id))?.status).toBe('completed');
    await eventually(() => env.fake.acked(full('subscriptions', s.n.subscription)) === 3, 'three acks on the server');
    expect(env.fake.backlog(full('subscriptions', s.n.subscription))).toBe(0);
    await s.queue.close();
  });

  it('defaults: more than 10 messages in hand at once, and stop() resolves only once every ack reached the server', async () => {
    const s = await setup();
    const ids = Array.from({ length: 60 }, (_, i) => `d${i}`);
    const msgs = await trackedMessages(
      s.store.tracker,
      ids.map((id, i) => newRequest(id, new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10))),
    );
    let started = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const worker = createWorker({
      queue: s.queue,
      tracker: s.store.tracker,
      runLog: s.store.runLog,
      registry: processorRegistry([{ name: 'player_game_summary', run: async () => void (started++, await held) }]),
      clock: systemClock,
    });
    await s.queue.publish(msgs);
    // No flowControl given: the default must not cap a worker at 10 backfills in hand (92/s on the emulator).
    const pw = startPubSubWorker({ subscription: s.client.subscription(s.n.subscription), worker, onOutcome: (o) => s.outcomes.push(o) });
    await eventually(() => started === 60, 'all 60 backfills running at once under the default flow control');
    release();
    await eventually(() => s.outcomes.length === 60, 'sixty outcomes');
    await pw.stop();
    // No waiting: stop() has already sent every ack.
    expect(env.fake.acked(full('subscriptions', s.n.subscription))).toBe(60);
    expect(env.fake.backlog(full('subscriptions', s.n.subscription))).toBe(0);
    await s.queue.close();
  });

  it("the engine worker's default lease is short (60 s, kept alive by heartbeats): a killed worker's message comes back within a minute", async () => {
    const s = await setup();
    const leases: number[] = [];
    const worker = createWorker({
      queue: { publish: (m) => s.queue.publish(m), receive: (o) => (leases.push(o.leaseMs), s.queue.receive(o)) },
      tracker: s.store.tracker,
      runLog: s.store.runLog,
      registry: processorRegistry([s.processor]),
      clock: systemClock,
    });
    await worker.runOnce();
    expect(leases).toEqual([60_000]);
    await s.queue.close();
  });

  it('a request published twice (two message ids) runs once; dedupe is on request_id', async () => {
    const s = await setup();
    const [m] = await trackedMessages(s.store.tracker, [newRequest('dup', '2025-11-10')]);
    const a = await s.queue.publish([m!]);
    const b = await s.queue.publish([m!]);
    expect(a[0]?._tag === 'Published' && b[0]?._tag === 'Published' && a[0].messageId !== b[0].messageId).toBe(true);
    const pw = startPubSubWorker({
      subscription: s.client.subscription(s.n.subscription),
      worker: s.worker,
      onOutcome: (o) => s.outcomes.push(o),
    });
    await eventually(() => s.outcomes.length === 2, 'two outcomes');
    await pw.stop();
    expect(s.processor.runsFor('2025-11-10')).toBe(1);
    expect(s.outcomes.map((o) => o._tag).sort()).toEqual(['AlreadyDone', 'Completed']);
    await s.queue.close();
  });

  it('caps leased messages with flow control', async () => {
    const s = await setup();
    let open!: () => void;
    s.processor.gate = new Promise<void>((r) => (open = r));
    const dates = Array.from({ length: 8 }, (_, i) => `2025-11-${String(i + 1).padStart(2, '0')}`);
    await s.queue.publish(
      await trackedMessages(
        s.store.tracker,
        dates.map((d, i) => newRequest(`f${i}`, d)),
      ),
    );
    const pw = startPubSubWorker({
      subscription: s.client.subscription(s.n.subscription),
      worker: s.worker,
      flowControl: { maxMessages: 2 },
      onOutcome: (o) => s.outcomes.push(o),
    });
    await eventually(() => s.processor.running === 2, 'two running');
    // Give the stream every chance to over-deliver before checking.
    await new Promise((r) => setTimeout(r, 200));
    expect(s.processor.running).toBe(2);
    expect(pw.inFlight).toBe(2);
    open();
    await eventually(() => s.outcomes.length === 8, 'all eight handled');
    await pw.stop();
    expect(s.processor.maxConcurrent).toBe(2);
    expect(s.outcomes.every((o) => o._tag === 'Completed')).toBe(true);
    await s.queue.close();
  });

  it('a transient failure is nacked with a delay, redelivered with deliveryAttempt 2, then completes', async () => {
    const s = await setup({ backoffMs: 1_000 });
    s.processor.failTimes.set('2025-11-10', 1);
    await s.queue.publish(await trackedMessages(s.store.tracker, [newRequest('t1', '2025-11-10')]));
    const seen: number[] = [];
    const pw = startPubSubWorker({
      subscription: s.client.subscription(s.n.subscription),
      worker: { handleDelivery: (d) => (seen.push(d.deliveryAttempt), s.worker.handleDelivery(d)) },
      onOutcome: (o) => s.outcomes.push(o),
    });
    await eventually(() => s.outcomes.some((o) => o._tag === 'Completed'), 'completion after retry');
    await pw.stop();
    expect(s.outcomes[0]).toMatchObject({ _tag: 'Retrying', delayMs: 1_000 });
    expect(seen.slice(0, 2)).toEqual([1, 2]);
    expect(s.processor.runsFor('2025-11-10')).toBe(2);
    expect((await s.store.tracker.get('t1'))?.status).toBe('completed');
    await s.queue.close();
  });

  it('poison messages go to the dead-letter topic with the reason; an unknown processor also shows failed in the tracker', async () => {
    const s = await setup();
    const [unknown] = await trackedMessages(s.store.tracker, [newRequest('u1', '2025-11-10', 'no_such_processor')]);
    await s.queue.publish([unknown!, { id: 'junk', data: '{"start_date": 42}', attributes: { request_id: 'junk' } }]);
    const pw = startPubSubWorker({
      subscription: s.client.subscription(s.n.subscription),
      worker: s.worker,
      deadLetterTopic: s.n.deadLetterTopic,
      onOutcome: (o) => s.outcomes.push(o),
    });
    await eventually(() => s.outcomes.length === 2, 'two outcomes');
    await pw.stop();
    expect(s.outcomes.map((o) => o._tag).sort()).toEqual(['DeadLettered', 'Rejected']);
    const dead = env.fake.published(full('topics', s.n.deadLetterTopic));
    expect(dead.map((m) => m.attributes['request_id']).sort()).toEqual(['junk', 'u1']);
    const byId = new Map(dead.map((m) => [m.attributes['request_id'], m]));
    expect(byId.get('u1')?.attributes['dead_letter_reason']).toMatch(/unknown processor "no_such_processor"/);
    expect(byId.get('junk')?.attributes['dead_letter_reason']).toMatch(/start_date/);
    expect(byId.get('junk')?.data.toString()).toBe('{"start_date": 42}');
    const u1 = await s.store.tracker.get('u1');
    expect(u1?.status).toBe('failed');
    expect(u1?.errorMessage).toMatch(/unknown processor/);
    await eventually(() => env.fake.backlog(full('subscriptions', s.n.subscription)) === 0, 'source subscription drained');
    await s.queue.close();
  });

  it('exactly-once subscription: an ack on a lost lease is reported, and the redelivery does not run the backfill again', async () => {
    const s = await setup({ exactlyOnce: true });
    let open!: () => void;
    s.processor.gate = new Promise<void>((r) => (open = r));
    await s.queue.publish(await trackedMessages(s.store.tracker, [newRequest('e1', '2025-11-10')]));
    const ackErrors: string[] = [];
    const pw = startPubSubWorker({
      subscription: s.client.subscription(s.n.subscription),
      // See what the engine's worker sees when it acks (it logs and moves on).
      worker: {
        handleDelivery: (d) =>
          s.worker.handleDelivery({
            ...d,
            ack: () =>
              d.ack().catch((e: unknown) => {
                ackErrors.push((e as Error).message);
                throw e;
              }),
          }),
      },
      onOutcome: (o) => s.outcomes.push(o),
    });
    await eventually(() => s.processor.running === 1, 'backfill running');
    // The service takes the lease away (the holder looked dead); the redelivery waits behind the running one.
    expect(env.fake.expireLeases(full('subscriptions', s.n.subscription))).toBe(1);
    open();
    await eventually(() => s.outcomes.length >= 2, 'first run and redelivery handled');
    await pw.stop();
    expect(s.processor.runsFor('2025-11-10')).toBe(1);
    expect(s.outcomes.map((o) => o._tag)).toEqual(['Completed', 'AlreadyDone']);
    expect(ackErrors).toHaveLength(1);
    expect(ackErrors[0]).toMatch(/\[smart-backfill\] \[pubsub\] ack of message .* \(request e1\) failed/);
    expect((await s.store.tracker.get('e1'))?.status).toBe('completed');
    await eventually(() => env.fake.backlog(full('subscriptions', s.n.subscription)) === 0, 'acked for good');
    await s.queue.close();
  });

  it('extendLease moves the lease on the server while a backfill runs; stop() lets running backfills finish first', async () => {
    const s = await setup();
    let open!: () => void;
    s.processor.gate = new Promise<void>((r) => (open = r));
    await s.queue.publish(await trackedMessages(s.store.tracker, [newRequest('x1', '2025-11-10')]));
    const sub = full('subscriptions', s.n.subscription);
    let extended!: () => void;
    const extendedP = new Promise<void>((r) => (extended = r));
    const pw = startPubSubWorker({
      subscription: s.client.subscription(s.n.subscription),
      worker: {
        handleDelivery: async (d) => {
          const asked = Date.now();
          await d.extendLease(300_000);
          // The client batches lease changes: wait until the server holds the new deadline.
          await eventually(() => env.fake.leaseDeadlines(sub).some((t) => t >= asked + 250_000), 'lease moved ~300 s out');
          extended();
          return s.worker.handleDelivery(d);
        },
      },
      onOutcome: (o) => s.outcomes.push(o),
    });
    await extendedP;
    const stopping = pw.stop();
    let stopped = false;
    void stopping.then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false); // the backfill is still running
    open();
    await stopping;
    expect(s.outcomes.map((o) => o._tag)).toEqual(['Completed']);
    expect(pw.stats.failedToHandle).toBe(0);
    expect((await s.store.tracker.get('x1'))?.status).toBe('completed');
    await s.queue.close();
  });
});
