import { afterAll, beforeAll } from 'vitest';
import { testBackfillQueue } from '@smart-backfill/testkit';
import { openPubSubQueue } from '../src/index.js';
import { ensure, startFakeEnv, type FakeEnv } from './helpers.js';

let env: FakeEnv;
beforeAll(async () => {
  env = await startFakeEnv();
});
afterAll(async () => {
  await env.stop();
});

// The real client against the in-process fake; the fake reads the suite's manual
// clock, so leases, nack delays and redelivery follow it. No retry policy: a
// retry backoff would add to the nack delays the contract pins.
for (const variant of [
  { name: 'pubsub (fake server, dead-letter policy: service-reported deliveryAttempt)', deadLetter: true },
  { name: 'pubsub (fake server, no dead-letter policy: locally counted deliveryAttempt)', deadLetter: false },
] as const) {
  testBackfillQueue({
    name: variant.name,
    numRuns: 15,
    create: async ({ clock }) => {
      env.useClock(() => clock.now());
      const client = env.client();
      const n = env.names();
      const resources = {
        topic: n.topic,
        subscription: n.subscription,
        retryPolicy: false as const,
        deadLetter: variant.deadLetter
          ? { topic: n.deadLetterTopic, subscription: n.deadLetterSubscription, maxDeliveryAttempts: 100 }
          : (false as const),
      };
      await ensure(client, resources);
      // Dead letters we forward need a topic even without a dead-letter policy.
      if (!variant.deadLetter) await client.createTopic(n.deadLetterTopic);
      const queue = await openPubSubQueue({
        client,
        ...resources,
        deadLetter: { topic: n.deadLetterTopic, subscription: n.deadLetterSubscription, maxDeliveryAttempts: 100 },
        // The fake's leases run on the suite's clock; so does the queue's reckoning of them.
        clock,
      });
      return {
        queue,
        backdoor: {
          deadLettered: async () =>
            env.fake.published(`projects/test-project/topics/${n.deadLetterTopic}`).map((m) => m.attributes['request_id'] ?? ''),
        },
        cleanup: () => queue.close(),
      };
    },
  });
}
