import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { nbaFixture } from './nba-fixture.js';

// With Pub/Sub unreachable, `run` and `backfill` wait once, for `queue.publishTimeoutMs`,
// and leave the request in the outbox for the relay: the run is held all the same.

/** A loopback port with nothing listening: every connection is refused. */
const refusedPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });

let fx: ReturnType<typeof nbaFixture> | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

const fixture = async () => {
  const port = await refusedPort();
  fx = nbaFixture({
    skip: ['2025-11-15'],
    configExtra: {
      queue: {
        type: 'pubsub',
        projectId: 'test-project',
        topic: 'unreachable-requests',
        subscription: 'unreachable-worker',
        apiEndpoint: `127.0.0.1:${port}`,
        publishTimeoutMs: 1500,
      },
    },
  });
  return fx;
};

describe('queue: pubsub unreachable', () => {
  it('run: held, the request left for the relay, and the warning names the publish timeout', async () => {
    const fx = await fixture();
    const r = await cli(['run', 'player_game_summary', '--date', '2025-11-16', '--json'], { cwd: fx.dir });
    expect(r.code).toBe(3);
    expect(r.json<{ outcome: { _tag: string } }>().outcome._tag).toBe('Held');
    expect(fx.query<{ status: string; published_at: number | null }[]>('SELECT status, published_at FROM backfill_requests')).toEqual([
      { status: 'queued', published_at: null },
    ]);
    // The guard's own structured warning (stderr carries JSON lines under --json), then the one-line summary.
    expect(r.errors.at(-1)).toMatch(
      /^warning: Pub\/Sub did not confirm a publish within 1500 ms \(queue\.publishTimeoutMs\): .*; the request stays in the outbox and the worker's relay publishes it$/,
    );
    for (const l of r.errors.slice(0, -1))
      expect(JSON.parse(l)).toMatchObject({ level: 'warn', msg: expect.stringMatching(/publish failed/) });
  });

  it('backfill: the request is recorded and left for the relay, with the same one-line reason', async () => {
    const fx = await fixture();
    const r = await cli(['backfill', 'player_game_summary', '--from', '2025-11-15', '--to', '2025-11-15'], { cwd: fx.dir });
    expect(fx.query<{ status: string; published_at: number | null }[]>('SELECT status, published_at FROM backfill_requests')).toEqual([
      { status: 'queued', published_at: null },
    ]);
    expect(r.errors).toEqual([
      expect.stringMatching(
        /^warning: Pub\/Sub did not confirm a publish within 1500 ms \(queue\.publishTimeoutMs\): .*; the request stays in the outbox and the worker's relay publishes it$/,
      ),
    ]);
  });
});
