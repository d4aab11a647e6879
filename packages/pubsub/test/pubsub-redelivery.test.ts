import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '@smart-backfill/memory';
import { createWorker, processorRegistry } from '@smart-backfill/engine';
import { ManualClock } from '@smart-backfill/testkit';
import { openPubSubQueue } from '../src/index.js';
import { ensure, full, startFakeEnv, type FakeEnv } from './helpers.js';
import { newRequest, RecordingProcessor, trackedMessages } from './worker-fixtures.js';

let env: FakeEnv;
beforeAll(async () => {
  env = await startFakeEnv();
});
afterAll(async () => {
  await env.stop();
});

const setup = async (clock: ManualClock, maxDeliveryAttempts = 5) => {
  env.useClock(() => clock.now());
  const client = env.client();
  const n = env.names('r');
  await ensure(client, {
    topic: n.topic,
    subscription: n.subscription,
    retryPolicy: false,
    deadLetter: { topic: n.deadLetterTopic, subscription: n.deadLetterSubscription, maxDeliveryAttempts },
  });
  // The fake's leases run on the manual clock; so does the queue's reckoning of them.
  const queue = await openPubSubQueue({
    client,
    topic: n.topic,
    subscription: n.subscription,
    deadLetter: { topic: n.deadLetterTopic },
    clock,
  });
  return { client, n, queue };
};

describe('redelivery and crashes through the real client and the fake (engine worker, synchronous pull, manual clock)', () => {
  it('a worker that dies mid-backfill: the lease lapses, another worker takes the request over and completes it once; the dead one is fenced', async () => {
    const clock = new ManualClock(Date.UTC(2025, 10, 16, 8));
    const { queue } = await setup(clock);
    const store = createMemoryStore({ clock });
    const processor = new RecordingProcessor();
    await queue.publish(await trackedMessages(store.tracker, [newRequest('c1', '2025-11-10')]));

    // Worker A leases the message and claims the request, then dies: no heartbeat, no ack.
    const [lost] = await queue.receive({ max: 1, leaseMs: 60_000 });
    expect(lost?.deliveryAttempt).toBe(1);
    const claimed = await store.tracker.apply('c1', { _tag: 'Claim', at: clock.now(), owner: 'worker-a', leaseMs: 60_000 });
    expect(claimed._tag).toBe('Ok');

    const b = createWorker({
      queue,
      tracker: store.tracker,
      runLog: store.runLog,
      registry: processorRegistry([processor]),
      clock,
      leaseMs: 60_000,
      workerId: 'worker-b',
    });
    expect((await b.runOnce()).received).toBe(0); // still leased to A

    clock.advance(60_000);
    const tick = await b.runOnce();
    expect(tick.received).toBe(1);
    expect(tick.outcomes[0]).toMatchObject({ _tag: 'Completed', requestId: 'c1', attempt: 2 });
    expect(processor.runsFor('2025-11-10')).toBe(1);
    const done = await store.tracker.get('c1');
    expect(done).toMatchObject({ status: 'completed', attempt: 2 });

    // A comes back from the dead with attempt 1: its result is refused.
    const late = await store.tracker.apply('c1', { _tag: 'Complete', at: clock.now(), attempt: 1 });
    expect(late._tag).toBe('Err');
    clock.advance(600_000);
    expect((await b.runOnce()).received).toBe(0);
    await queue.close();
  });

  it('a message redelivered after completion (lost ack) is acked without running again', async () => {
    const clock = new ManualClock(Date.UTC(2025, 10, 16, 8));
    const { queue, n } = await setup(clock);
    const store = createMemoryStore({ clock });
    const processor = new RecordingProcessor();
    const worker = createWorker({
      queue,
      tracker: store.tracker,
      runLog: store.runLog,
      registry: processorRegistry([processor]),
      clock,
      leaseMs: 60_000,
    });
    await queue.publish(await trackedMessages(store.tracker, [newRequest('l1', '2025-11-10')]));
    // The ack is lost on the way: wrap the delivery so it never reaches the server.
    const [d] = await queue.receive({ max: 1, leaseMs: 60_000 });
    const outcome = await worker.handleDelivery({ ...d!, ack: async () => undefined });
    expect(outcome._tag).toBe('Completed');
    expect(env.fake.backlog(full('subscriptions', n.subscription))).toBe(1);
    clock.advance(60_000);
    const tick = await worker.runOnce();
    expect(tick.outcomes.map((o) => o._tag)).toEqual(['AlreadyDone']);
    expect(processor.runsFor('2025-11-10')).toBe(1);
    // Acks travel in batches; close() sends what waits.
    await queue.close();
    expect(env.fake.backlog(full('subscriptions', n.subscription))).toBe(0);
  });

  it('after maxDeliveryAttempts deliveries the service forwards the message to the dead-letter topic; deliveryAttempt counts up', async () => {
    const clock = new ManualClock(Date.UTC(2025, 10, 16, 8));
    const { queue, n } = await setup(clock, 5);
    const store = createMemoryStore({ clock });
    await queue.publish(await trackedMessages(store.tracker, [newRequest('p1', '2025-11-10')]));
    const attempts: number[] = [];
    for (let i = 0; i < 7; i++) {
      const ds = await queue.receive({ max: 1, leaseMs: 10_000 });
      for (const d of ds) {
        attempts.push(d.deliveryAttempt);
        // A crash loop: the process dies before settling; the lease lapses.
      }
      clock.advance(10_000);
    }
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    const dead = env.fake.published(full('topics', n.deadLetterTopic));
    expect(dead).toHaveLength(1);
    expect(dead[0]?.attributes).toMatchObject({ request_id: 'p1', CloudPubSubDeadLetterSourceDeliveryCount: '5' });
    // And the dead-letter subscription keeps it for a person to look at.
    const dlq = await openPubSubQueue({
      client: queue.pubsub,
      topic: n.deadLetterTopic,
      subscription: n.deadLetterSubscription,
      deadLetter: false,
    });
    const kept = await dlq.receive({ max: 10, leaseMs: 10_000 });
    expect(kept.map((d) => d.message.id)).toEqual(['p1']);
    await dlq.close();
    await queue.close();
  });
});
