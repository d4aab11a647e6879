import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import type { QueueMessage } from '@smart-backfill/core';
import { encodeBackfillMessage } from '../../engine/src/codec.js';
import { isoDate } from '@smart-backfill/core';
import { openPubSubQueue } from '../src/index.js';
import { ensure, startFakeEnv, type FakeEnv } from './helpers.js';

let env: FakeEnv;
beforeAll(async () => {
  env = await startFakeEnv();
});
afterAll(async () => {
  await env.stop();
});

const msg = (id: string, processor: string, date: string): QueueMessage =>
  encodeBackfillMessage({
    start_date: isoDate(date),
    end_date: isoDate(date),
    processor_name: processor,
    is_backfill: true,
    trigger_reason: 'auto_backfill',
    requested_at: '2025-11-16T08:00:00Z',
    request_id: id,
    attempt: 0,
  });

describe('publish (real client, fake server)', () => {
  it('sends the seed JSON body and the filtering attributes; batches many messages into few Publish calls', async () => {
    const client = env.client();
    const n = env.names('p');
    await ensure(client, { topic: n.topic, subscription: n.subscription, deadLetter: false });
    const queue = await openPubSubQueue({
      client,
      topic: n.topic,
      subscription: n.subscription,
      deadLetter: false,
      batching: { maxMessages: 100, maxMilliseconds: 50 },
    });
    const before = env.fake.stats.publishCalls;
    const msgs = Array.from({ length: 50 }, (_, i) =>
      msg(`b${i}`, 'player_game_summary', `2025-10-${String((i % 28) + 1).padStart(2, '0')}`),
    );
    const out = await queue.publish(msgs);
    expect(out.every((o) => o._tag === 'Published')).toBe(true);
    expect(out.map((o) => o.id)).toEqual(msgs.map((m) => m.id));
    expect(env.fake.stats.publishCalls - before).toBeLessThan(5);
    const stored = env.fake.published(`projects/test-project/topics/${n.topic}`)[0]!;
    expect(JSON.parse(stored.data.toString())).toEqual({
      start_date: '2025-10-01',
      end_date: '2025-10-01',
      processor_name: 'player_game_summary',
      is_backfill: true,
      trigger_reason: 'auto_backfill',
      requested_at: '2025-11-16T08:00:00Z',
      request_id: 'b0',
      attempt: 0,
    });
    expect(stored.attributes).toMatchObject({
      processor_name: 'player_game_summary',
      game_date: '2025-10-01',
      request_id: 'b0',
      attempt: '0',
    });
    await queue.close();
  });

  it('with ordering keys: one key per processor, oldest date first, and the subscription delivers them in that order', async () => {
    const client = env.client();
    const n = env.names('o');
    await ensure(client, { topic: n.topic, subscription: n.subscription, deadLetter: false, orderingKeys: true, retryPolicy: false });
    const queue = await openPubSubQueue({ client, topic: n.topic, subscription: n.subscription, deadLetter: false, orderingKeys: true });
    const input = [
      msg('a3', 'proc_a', '2025-11-03'),
      msg('b2', 'proc_b', '2025-11-02'),
      msg('a1', 'proc_a', '2025-11-01'),
      msg('a2', 'proc_a', '2025-11-02'),
      msg('b1', 'proc_b', '2025-11-01'),
    ];
    const out = await queue.publish(input);
    expect(out.map((o) => [o._tag, o.id])).toEqual(input.map((m) => ['Published', m.id]));
    const stored = env.fake.published(`projects/test-project/topics/${n.topic}`);
    const order = (key: string) => stored.filter((m) => m.orderingKey === key).map((m) => m.attributes['request_id']);
    expect(order('proc_a')).toEqual(['a1', 'a2', 'a3']);
    expect(order('proc_b')).toEqual(['b1', 'b2']);
    // The service hands out one message per key at a time, in order.
    const seen: string[] = [];
    for (let i = 0; i < 10 && seen.length < 5; i++) {
      const ds = await queue.receive({ max: 10, leaseMs: 30_000 });
      for (const d of ds) {
        seen.push(d.message.id);
        await d.ack();
      }
    }
    expect(seen.filter((id) => id.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(seen.filter((id) => id.startsWith('b'))).toEqual(['b1', 'b2']);
    await queue.close();
  });

  it('a failed publish is a PublishFailed outcome, not silence; with ordering keys the key is resumed so the relay can resend', async () => {
    const client = env.client();
    const n = env.names('f');
    await ensure(client, { topic: n.topic, subscription: n.subscription, deadLetter: false });
    const queue = await openPubSubQueue({ client, topic: n.topic, subscription: n.subscription, deadLetter: false, orderingKeys: true });
    env.fake.failNextPublishes = { count: 1, code: grpc.status.PERMISSION_DENIED };
    const failed = await queue.publish([msg('x1', 'proc_a', '2025-11-01')]);
    expect(failed[0]).toMatchObject({ _tag: 'PublishFailed', id: 'x1' });
    expect(failed[0]?._tag === 'PublishFailed' && failed[0].error).toMatch(
      /publish to projects\/test-project\/topics\/.* failed: .*PERMISSION_DENIED|injected publish failure/,
    );
    const again = await queue.publish([msg('x1', 'proc_a', '2025-11-01')]);
    expect(again[0]?._tag).toBe('Published');
    await queue.close();
  });

  it('publishing to a missing topic fails each message as an outcome', async () => {
    const client = env.client();
    const queue = await openPubSubQueue({ client, topic: 'no-such-topic', subscription: 'no-such-sub', deadLetter: false });
    const out = await queue.publish([msg('m1', 'p', '2025-11-01'), msg('m2', 'p', '2025-11-02')]);
    expect(out.map((o) => [o._tag, o.id])).toEqual([
      ['PublishFailed', 'm1'],
      ['PublishFailed', 'm2'],
    ]);
    await queue.close();
  });
});
