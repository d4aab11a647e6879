import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
// @ts-expect-error — the example is plain JavaScript without declarations
import { createApp } from '../../../examples/cloud-run-worker/app.mjs';

const sample = readFileSync(new URL('../../../examples/cloud-run-worker/sample-push.json', import.meta.url), 'utf8');

describe('examples/cloud-run-worker', () => {
  it('answers the README sample push with 200, runs it once, and acks the redelivery', async () => {
    const app = await createApp({ env: { LOG: 'silent' } });
    const server = http.createServer((req, res) => void app.push(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const first = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sample });
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ verdict: 'acked', requestId: 'req-2025-11-15-1', outcome: { _tag: 'Completed' } });
      const again = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sample });
      expect(((await again.json()) as { outcome: { _tag: string } }).outcome._tag).toBe('AlreadyDone');
      const request = await app.store.tracker.get('req-2025-11-15-1');
      expect(request).toMatchObject({ status: 'completed', processorName: 'player_game_summary', date: '2025-11-15', attempt: 1 });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('the Cloud Functions entry handles the same message as a CloudEvent', async () => {
    const app = await createApp({ env: { LOG: 'silent' } });
    const envelope = JSON.parse(sample) as { message: unknown; subscription: string };
    const result = await app.cloudEvent({ id: 'evt-1', type: 'google.cloud.pubsub.topic.v1.messagePublished', data: envelope });
    expect(result).toMatchObject({ verdict: 'acked', requestId: 'req-2025-11-15-1' });
  });
});
