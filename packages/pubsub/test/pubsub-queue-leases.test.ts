import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@smart-backfill/testkit';
import { openPubSubQueue } from '../src/index.js';
import { ensure, full, startFakeEnv, type FakeEnv } from './helpers.js';

let env: FakeEnv;
beforeAll(async () => {
  env = await startFakeEnv();
});
afterAll(async () => {
  await env.stop();
});

const message = (id: string) => ({ id, data: JSON.stringify({ request_id: id }), attributes: { request_id: id } });

describe('pull queue lease extensions (a ModifyAckDeadline per backfill was most of the CLI worker’s gRPC)', () => {
  it('an extension the pull’s own lease already covers is not sent; extensions issued together share one call', async () => {
    const clock = new ManualClock(Date.UTC(2025, 10, 16, 8));
    env.useClock(() => clock.now());
    const client = env.client();
    const n = env.names('lease');
    await ensure(client, { topic: n.topic, subscription: n.subscription, retryPolicy: false, deadLetter: false });
    const queue = await openPubSubQueue({ client, topic: n.topic, subscription: n.subscription, deadLetter: false, clock });
    try {
      await queue.publish([message('a'), message('b'), message('c')]);
      const got = await queue.receive({ max: 3, leaseMs: 60_000, waitMs: 5_000 });
      expect(got.map((d) => d.message.id).sort()).toEqual(['a', 'b', 'c']);

      // A call now would fail: the extensions asked for right after the pull resolve without one.
      env.fake.failNext('ModifyAckDeadline', grpc.status.PERMISSION_DENIED);
      await Promise.all(got.map((d) => d.extendLease(60_000)));

      // Half the lease later they are sent — as one call: the one injected failure fails all three.
      clock.advance(30_000);
      const together = await Promise.allSettled(got.map((d) => d.extendLease(60_000)));
      expect(together.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);

      // And with the service answering, the leases move out on the server.
      await Promise.all(got.map((d) => d.extendLease(60_000)));
      expect(env.fake.leaseDeadlines(full('subscriptions', n.subscription))).toEqual([
        clock.now() + 60_000,
        clock.now() + 60_000,
        clock.now() + 60_000,
      ]);
      for (const d of got) await d.ack();
    } finally {
      await queue.close();
      env.useClock(null);
    }
  });
});
