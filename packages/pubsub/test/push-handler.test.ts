import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '@smart-backfill/memory';
import { createWorker, processorRegistry, systemClock } from '@smart-backfill/engine';
import type { BackfillQueue } from '@smart-backfill/core';
import { createCloudEventHandler, createPushHandler, type PushHandler, type PushResult } from '../src/index.js';
import { newRequest, PROCESSOR, RecordingProcessor, trackedMessages } from './worker-fixtures.js';

const SUBSCRIPTION = 'projects/test-project/subscriptions/smart-backfill-worker';

// A push worker never receives from a queue: it only handles what is pushed.
const noQueue: BackfillQueue = {
  publish: async () => {
    throw new Error('not used');
  },
  receive: async () => [],
};

const setup = () => {
  const store = createMemoryStore({ clock: systemClock });
  const processor = new RecordingProcessor();
  const worker = createWorker({
    queue: noQueue,
    tracker: store.tracker,
    runLog: store.runLog,
    registry: processorRegistry([processor]),
    clock: systemClock,
    backoff: { baseMs: 1_000, maxMs: 1_000 },
  });
  return { store, processor, worker };
};

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const serve = async (handler: PushHandler): Promise<string> => {
  // Not awaited on purpose: the handler answers every request itself, its own failures included (a 500).
  const server = http.createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
};

const envelope = (data: string, attributes: Record<string, string> = {}, messageId = '1001', deliveryAttempt?: number) => ({
  message: { data, attributes, messageId, message_id: messageId, publishTime: '2025-11-16T08:00:00.000Z' },
  subscription: SUBSCRIPTION,
  ...(deliveryAttempt === undefined ? {} : { deliveryAttempt }),
});

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

const post = async (url: string, body: unknown, method = 'POST') => {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return {
    status: res.status,
    body: (await res.json()) as { verdict: string; reason: string; requestId: string | null; outcome?: { _tag: string } },
  };
};

describe('createPushHandler (Pub/Sub push → Cloud Run)', () => {
  it('a valid envelope runs the backfill once and answers 200; the same push again is acked without running', async () => {
    const s = setup();
    const [m] = await trackedMessages(s.store.tracker, [newRequest('p1', '2025-11-10')]);
    const url = await serve(createPushHandler({ worker: s.worker, subscription: SUBSCRIPTION }));
    const first = await post(url, envelope(b64(m!.data), m!.attributes));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ verdict: 'acked', requestId: 'p1', outcome: { _tag: 'Completed' } });
    const again = await post(url, envelope(b64(m!.data), m!.attributes, '1002'));
    expect(again.status).toBe(200);
    expect(again.body.outcome?._tag).toBe('AlreadyDone');
    expect(s.processor.runsFor('2025-11-10')).toBe(1);
    expect((await s.store.tracker.get('p1'))?.status).toBe('completed');
  });

  it('two concurrent pushes of one request run it once', async () => {
    const s = setup();
    let open!: () => void;
    s.processor.gate = new Promise<void>((r) => (open = r));
    const [m] = await trackedMessages(s.store.tracker, [newRequest('p2', '2025-11-11')]);
    const url = await serve(createPushHandler({ worker: s.worker }));
    const both = Promise.all([
      post(url, envelope(b64(m!.data), m!.attributes, '1')),
      post(url, envelope(b64(m!.data), m!.attributes, '2')),
    ]);
    while (s.processor.running === 0) await new Promise((r) => setTimeout(r, 5));
    open();
    const [a, b] = await both;
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.body.outcome?._tag, b.body.outcome?._tag].sort()).toEqual(['AlreadyDone', 'Completed']);
    expect(s.processor.runsFor('2025-11-11')).toBe(1);
  });

  it('a hand-published seed message (no request_id, Python isoformat timestamp) is tracked and run', async () => {
    const s = setup();
    const seedBody = JSON.stringify({
      start_date: '2025-11-12',
      end_date: '2025-11-12',
      processor_name: PROCESSOR,
      is_backfill: true,
      trigger_reason: 'auto_backfill',
      requested_at: '2025-11-16T08:14:03.123456',
    });
    const url = await serve(createPushHandler({ worker: s.worker }));
    const r = await post(url, envelope(b64(seedBody)));
    expect(r.status).toBe(200);
    expect(r.body.requestId).toMatch(/^msg-/);
    expect(s.processor.runsFor('2025-11-12')).toBe(1);
  });

  it('bad base64, bad JSON and a wrong schema get 400 and nothing runs', async () => {
    const s = setup();
    const url = await serve(createPushHandler({ worker: s.worker }));
    const badB64 = await post(url, envelope('not base64!!'));
    expect(badB64.status).toBe(400);
    expect(badB64.body.reason).toMatch(/message\.data is not valid base64/);
    const badJson = await post(url, envelope(b64('{"start_date": ')));
    expect(badJson.status).toBe(400);
    expect(badJson.body.reason).toMatch(/not valid JSON/);
    const wrong = await post(
      url,
      envelope(
        b64(
          JSON.stringify({
            start_date: '2025-02-30',
            end_date: '2025-02-30',
            processor_name: 42,
            is_backfill: true,
            trigger_reason: 'x',
            requested_at: '2025-11-16T08:00:00Z',
          }),
        ),
      ),
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.reason).toMatch(/processor_name: expected a non-empty string, got 42/);
    expect(wrong.body.reason).toMatch(/start_date/);
    const notEnvelope = await post(url, '{"hello": "world"}');
    expect(notEnvelope.status).toBe(400);
    expect(notEnvelope.body.reason).toMatch(/message must be an object/);
    const notJson = await post(url, 'hello');
    expect(notJson.status).toBe(400);
    expect(s.processor.runs).toHaveLength(0);
    expect(s.store.requests()).toHaveLength(0);
  });

  it('an unknown processor gets 422 (a dead letter), the tracker shows it failed, and it never runs', async () => {
    const s = setup();
    const [m] = await trackedMessages(s.store.tracker, [newRequest('u1', '2025-11-10', 'no_such_processor')]);
    const results: PushResult[] = [];
    const url = await serve(createPushHandler({ worker: s.worker, onResult: (r) => results.push(r) }));
    const r = await post(url, envelope(b64(m!.data), m!.attributes));
    expect(r.status).toBe(422);
    expect(r.body.reason).toMatch(/unknown processor "no_such_processor"/);
    expect((await s.store.tracker.get('u1'))?.status).toBe('failed');
    expect(s.processor.runs).toHaveLength(0);
    expect(results.map((x) => x.verdict)).toEqual(['rejected']);
  });

  it('a transient failure answers 503 so Pub/Sub redelivers; the redelivery completes', async () => {
    const s = setup();
    s.processor.failTimes.set('2025-11-10', 1);
    const [m] = await trackedMessages(s.store.tracker, [newRequest('t1', '2025-11-10')]);
    const url = await serve(createPushHandler({ worker: s.worker }));
    const first = await post(url, envelope(b64(m!.data), m!.attributes, '1', 1));
    expect(first.status).toBe(503);
    expect(first.body.outcome?._tag).toBe('Retrying');
    // Pub/Sub's retry policy waits at least as long as the worker's backoff (1 s here).
    await new Promise((r) => setTimeout(r, 1_050));
    const second = await post(url, envelope(b64(m!.data), m!.attributes, '1', 2));
    expect(second.status).toBe(200);
    expect(s.processor.runsFor('2025-11-10')).toBe(2);
  });

  it('refuses other methods (405), other subscriptions (403) and failed verification (401)', async () => {
    const s = setup();
    const url = await serve(
      createPushHandler({ worker: s.worker, subscription: SUBSCRIPTION, verify: (req) => req.headers['x-test-ok'] !== 'no' }),
    );
    expect((await post(url, null, 'GET')).status).toBe(405);
    const other = await post(url, { ...envelope(b64('{}')), subscription: 'projects/x/subscriptions/other' });
    expect(other.status).toBe(403);
    const res = await fetch(url, { method: 'POST', headers: { 'x-test-ok': 'no' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(s.processor.runs).toHaveLength(0);
  });
});

describe('createCloudEventHandler (Cloud Functions 2nd gen, the seed handle_backfill_request)', () => {
  const event = (data: string, attributes: Record<string, string> = {}, id = 'evt-1') => ({
    id,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    data: { message: { data, attributes, messageId: id }, subscription: SUBSCRIPTION },
  });

  it('resolves (acks) on success and on a duplicate; throws (retry) on a transient failure', async () => {
    const s = setup();
    s.processor.failTimes.set('2025-11-11', 1);
    const [ok, flaky] = await trackedMessages(s.store.tracker, [newRequest('c1', '2025-11-10'), newRequest('c2', '2025-11-11')]);
    const handle = createCloudEventHandler({ worker: s.worker });
    expect((await handle(event(b64(ok!.data), ok!.attributes))).verdict).toBe('acked');
    expect(((await handle(event(b64(ok!.data), ok!.attributes, 'evt-2'))).outcome as { _tag: string })._tag).toBe('AlreadyDone');
    await expect(handle(event(b64(flaky!.data), flaky!.attributes, 'evt-3'))).rejects.toThrow(
      /\[smart-backfill\] \[pubsub\] event evt-3: .*status 503/,
    );
    expect(s.processor.runsFor('2025-11-10')).toBe(1);
  });

  it('a malformed event is acked and logged by default, or thrown with onPoison "retry"', async () => {
    const s = setup();
    const ack = createCloudEventHandler({ worker: s.worker });
    const errors: string[] = [];
    const origError = console.error;
    console.error = (msg: string) => errors.push(msg);
    try {
      expect((await ack(event(b64('{"nope": 1}')))).status).toBe(400);
    } finally {
      console.error = origError;
    }
    expect(errors.join('\n')).toMatch(/dropped: message evt-1: .*start_date/);
    const retry = createCloudEventHandler({ worker: s.worker, onPoison: 'retry' });
    await expect(retry(event('%%%'))).rejects.toThrow(/not valid base64/);
    expect(s.processor.runs).toHaveLength(0);
  });
});
