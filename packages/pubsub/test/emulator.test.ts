import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { createMemoryStore } from '@smart-backfill/memory';
import { createWorker, processorRegistry, systemClock, type DeliveryOutcome } from '@smart-backfill/engine';
import { testBackfillQueue } from '@smart-backfill/testkit';
import { ensurePubSubResources, openPubSubQueue, startPubSubWorker } from '../src/index.js';
import { emulatorOrSkip, type Emulator } from './emulator.js';
import { eventually } from './helpers.js';
// @ts-expect-error — the example is plain JavaScript without declarations
import { createApp } from '../../../examples/cloud-run-worker/app.mjs';
import { newRequest, RecordingProcessor, trackedMessages } from './worker-fixtures.js';

// Decided before the suites are declared, so a skip shows up as a skip with its reason.
const found = await emulatorOrSkip('emulator suites');
const skip = 'skip' in found ? found.skip : false;
const emulator = 'skip' in found ? null : (found as Emulator);

const clients: PubSub[] = [];
const client = (): PubSub => {
  const c = new PubSub({ projectId: 'emulator-project', apiEndpoint: emulator!.host });
  clients.push(c);
  return c;
};
const names = () => {
  const id = randomUUID().slice(0, 8);
  return { topic: `emu-topic-${id}`, subscription: `emu-sub-${id}` };
};

beforeAll(() => undefined);
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await emulator?.stop();
});

// Every case of the contract, in real time: leases of 2 s (ModifyAckDeadline takes
// 1 s and up on the emulator, as on Pub/Sub), waits that poll the emulator.
testBackfillQueue({
  name: 'pubsub (official emulator, real-time leases)',
  skip,
  numRuns: 5,
  create: async () => {
    const c = client();
    const n = names();
    const deadLetter = { topic: `${n.topic}-dlq`, subscription: `${n.subscription}-dlq`, maxDeliveryAttempts: 100 };
    await ensurePubSubResources({ client: c, ...n, deadLetter, retryPolicy: false, ackDeadlineSeconds: 10 });
    const queue = await openPubSubQueue({ client: c, ...n, deadLetter });
    const seen = new Set<string>();
    const dlq = new v1.SubscriberClient((await c.getClientConfig()) as ConstructorParameters<typeof v1.SubscriberClient>[0]);
    const dlqName = `projects/${c.projectId}/subscriptions/${deadLetter.subscription}`;
    return {
      queue,
      followsClock: false,
      realLeaseMs: 2000,
      backdoor: {
        // What reached the dead-letter topic, read from its subscription (pulled and acked, so kept here).
        deadLettered: async () => {
          for (;;) {
            const [res] = await dlq.pull({ subscription: dlqName, maxMessages: 100, returnImmediately: true });
            const got = res.receivedMessages ?? [];
            if (got.length === 0) return [...seen];
            for (const r of got) seen.add(r.message?.attributes?.['request_id'] ?? '');
            await dlq.acknowledge({ subscription: dlqName, ackIds: got.map((r) => r.ackId ?? '') });
          }
        },
      },
      cleanup: async () => {
        await queue.close();
        await dlq.close();
      },
    };
  },
});

describe.skipIf(skip !== false)('startPubSubWorker against the official emulator', () => {
  it('runs published backfills once each through the streaming pull and the engine worker', async () => {
    const c = client();
    const n = names();
    const ensured = await ensurePubSubResources({ client: c, ...n, deadLetter: false });
    expect(ensured.created).toHaveLength(2);
    const queue = await openPubSubQueue({ client: c, ...n, deadLetter: false });
    const store = createMemoryStore({ clock: systemClock });
    const processor = new RecordingProcessor();
    const worker = createWorker({
      queue,
      tracker: store.tracker,
      runLog: store.runLog,
      registry: processorRegistry([processor]),
      clock: systemClock,
    });
    const msgs = await trackedMessages(store.tracker, [newRequest('e1', '2025-11-10'), newRequest('e2', '2025-11-11')]);
    await queue.publish(msgs);
    await queue.publish([msgs[0]!]); // the same request again, under a new message id
    const outcomes: DeliveryOutcome[] = [];
    const pw = startPubSubWorker({ subscription: c.subscription(n.subscription), worker, onOutcome: (o) => outcomes.push(o) });
    await eventually(() => outcomes.length === 3, 'three outcomes', 30_000);
    await pw.stop();
    expect(outcomes.map((o) => o._tag).sort()).toEqual(['AlreadyDone', 'Completed', 'Completed']);
    expect(processor.runsFor('2025-11-10')).toBe(1);
    expect(processor.runsFor('2025-11-11')).toBe(1);
    await queue.close();
  });
});

describe.skipIf(skip !== false)('a push subscription on the emulator, delivering to the Cloud Run example', () => {
  it('pushes a backfill to the example server, which runs it once; a duplicate is acked without a second run', async () => {
    const sample = JSON.parse(readFileSync(new URL('../../../examples/cloud-run-worker/sample-push.json', import.meta.url), 'utf8')) as {
      message: { data: string; attributes: Record<string, string> };
    };
    const app = await createApp({ env: { LOG: 'silent' } });
    const answers: number[] = [];
    const server = http.createServer((req, res) => {
      res.on('finish', () => answers.push(res.statusCode));
      void app.push(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = client();
      const n = names();
      const [topic] = await c.createTopic(n.topic);
      await topic.createSubscription(n.subscription, {
        pushConfig: { pushEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` },
        ackDeadlineSeconds: 10,
      });
      const body = { data: Buffer.from(sample.message.data, 'base64'), attributes: sample.message.attributes };
      await topic.publishMessage(body);
      await eventually(
        async () => (await app.store.tracker.get('req-2025-11-15-1'))?.status === 'completed',
        'the pushed backfill',
        60_000,
      );
      await topic.publishMessage(body);
      await eventually(() => answers.length >= 2, 'the duplicate push', 60_000);
      expect(answers.slice(0, 2)).toEqual([200, 200]);
      expect(await app.store.tracker.get('req-2025-11-15-1')).toMatchObject({ status: 'completed', attempt: 1 });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
