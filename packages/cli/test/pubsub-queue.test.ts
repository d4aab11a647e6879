import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakePubSubServer } from '../../pubsub/test/fake-pubsub-server.js';
import { cli } from './helpers.js';
import { nbaFixture } from './nba-fixture.js';

// Issue 6's "done when": a config with `queue: pubsub` runs the demo's flow through
// the real @google-cloud/pubsub client and the loopback fake, from the CLI.

const netTrap = (): string[] => (globalThis as { __smartBackfillNetTrap?: string[] }).__smartBackfillNetTrap ?? [];

const P = 'projects/test-project';
const TOPIC = `${P}/topics/cli-requests`;
const SUB = `${P}/subscriptions/cli-worker`;
const DEAD = `${P}/topics/cli-dead-letters`;

let fake: FakePubSubServer;
// The fake's clock runs ahead of the real one by this much: a test "lets time pass" on
// Pub/Sub (lease and backoff deadlines) without waiting.
let skewMs = 0;
const advance = (ms: number): void => {
  skewMs += ms;
  fake.tick();
};
beforeAll(async () => {
  fake = await FakePubSubServer.start({ pullWaitMs: 50, now: () => Date.now() + skewMs });
});
afterAll(async () => {
  await fake.stop();
  // Every socket this file opened went to the loopback fake.
  expect(netTrap()).toEqual([]);
});

let fx: ReturnType<typeof nbaFixture> | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

/** The NBA example on SQLite (Nov 15 missing), its queue on the fake; each test its own topic. */
const fixture = (suffix: string, worker: Record<string, unknown> = {}) => {
  const names = { topic: `cli-requests${suffix}`, subscription: `cli-worker${suffix}`, dead: `cli-dead-letters${suffix}` };
  fx = nbaFixture({
    skip: ['2025-11-15'],
    configExtra: {
      queue: {
        type: 'pubsub',
        projectId: 'test-project',
        topic: names.topic,
        subscription: names.subscription,
        apiEndpoint: fake.endpoint,
        deadLetter: { topic: names.dead, maxDeliveryAttempts: 5 },
      },
      // The worker long-polls Pub/Sub this long when the subscription looks empty.
      worker: { pollIntervalMs: 50, ...worker },
    },
  });
  return { fx, topic: `${P}/topics/${names.topic}`, sub: `${P}/subscriptions/${names.subscription}`, dead: `${P}/topics/${names.dead}` };
};

interface StatusJson {
  processors: { name: string; openRequests: { date: string; status: string }[]; heldRuns: { runDate: string }[] }[];
}
interface RunRow {
  run_date: string;
  run_trigger: string;
  is_backfill: number;
  outcome: string;
}
type Line = Record<string, unknown>;
const jsonLines = (stdout: string): Line[] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

describe('queue: pubsub from the CLI (SQLite store, fake Pub/Sub)', () => {
  it('init --apply, run holds and publishes, worker --once fills, dedupes a republish, and the held run resumes', async () => {
    const { fx, topic, sub, dead } = fixture('');
    expect([topic, sub, dead]).toEqual([TOPIC, SUB, DEAD]);
    const cwd = fx.dir;

    // 1. The resources, created on the fake.
    const init = await cli(['init', '--pubsub', '--apply', '--json'], { cwd });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.json<{ pubsub: { created: string[] } }>().pubsub.created).toEqual(expect.arrayContaining([TOPIC, SUB, DEAD]));
    expect(fake.subscription(SUB)).toMatchObject({ topic: TOPIC, deadLetterPolicy: { deadLetterTopic: DEAD, maxDeliveryAttempts: 5 } });

    // 2. The run is held; its backfill went to the topic through the real client.
    const held = await cli(['run', 'player_game_summary', '--date', '2025-11-16', '--json'], { cwd });
    expect(held.stderr).not.toMatch(/error/i);
    expect(held.code).toBe(3);
    const outcome = held.json<{ outcome: { _tag: string; queued: { requestId: string; date: string }[] } }>().outcome;
    expect(outcome._tag).toBe('Held');
    expect(outcome.queued.map((r) => r.date)).toEqual(['2025-11-15']);
    const requestId = outcome.queued[0]?.requestId as string;
    const published = fake.published(TOPIC);
    expect(published).toHaveLength(1);
    const msg = published[0]!;
    expect(msg.attributes).toMatchObject({ processor_name: 'player_game_summary', game_date: '2025-11-15', request_id: requestId });
    expect(JSON.parse(msg.data.toString('utf8'))).toMatchObject({
      processor_name: 'player_game_summary',
      start_date: '2025-11-15',
      end_date: '2025-11-15',
    });
    // The tracker knows it was published: the worker's relay has nothing to send again.
    expect(
      fx.query<{ published_at: number | null }[]>('SELECT published_at FROM backfill_requests WHERE request_id = ?', requestId)[0]
        ?.published_at,
    ).not.toBeNull();
    expect(fake.backlog(SUB)).toBe(1);

    // 4 (set up). The same request published again, as a relay that lost its MarkPublished would.
    const client = fake.client();
    await client.topic('cli-requests').publishMessage({ data: msg.data, attributes: { ...msg.attributes } });
    await client.close();
    expect(fake.published(TOPIC)).toHaveLength(2);

    // 3. The worker pulls both copies through the client, runs the backfill once, acks, resumes Nov 16.
    const worker = await cli(['worker', '--once', '--json'], { cwd });
    expect(worker.code).toBe(0);
    const lines = jsonLines(worker.stdout);
    const completed = lines.filter((l) => l['_tag'] === 'Completed');
    expect(completed).toEqual([expect.objectContaining({ requestId, resumed: ['2025-11-16'] })]);
    // The copy never ran: it was a duplicate of a request in hand or already done.
    const others = lines.filter((l) => l['_tag'] !== undefined && l['_tag'] !== 'Completed');
    expect(others.map((l) => l['_tag'])).toEqual([expect.stringMatching(/^(AlreadyDone|Busy)$/)]);
    expect(fx.rows('2025-11-15')).toBeGreaterThanOrEqual(30);
    expect(fx.rows('2025-11-16')).toBeGreaterThanOrEqual(30);

    const runs = fx.query<RunRow[]>(
      `SELECT run_date, run_trigger, is_backfill, outcome FROM analytics_processor_runs WHERE processor_name = 'player_game_summary' ORDER BY started_at`,
    );
    const backfillRuns = runs.filter((r) => r.run_date === '2025-11-15');
    expect(backfillRuns).toEqual([{ run_date: '2025-11-15', run_trigger: 'backfill', is_backfill: 1, outcome: 'succeeded' }]);
    expect(runs.filter((r) => r.run_date === '2025-11-16').map((r) => [r.run_trigger, r.outcome])).toEqual([
      ['scheduled', 'skipped'],
      ['resume', 'succeeded'],
    ]);

    const status = (await cli(['status', 'player_game_summary', '--json', '--today', '2025-11-16'], { cwd })).json<StatusJson>();
    expect(status.processors[0]?.openRequests).toEqual([]);
    expect(status.processors[0]?.heldRuns).toEqual([]);

    // A copy that met the first mid-run (Busy) was handed back with a delay (a modAck);
    // once that delay (and the subscription's retry backoff) has passed on the fake's
    // clock, it comes back and is acked as done, never run.
    if (others[0]?.['_tag'] === 'Busy') {
      expect(fake.backlog(SUB)).toBe(1);
      advance(Number(others[0]['delayMs']) + 1000);
      advance(600_000);
      const again = await cli(['worker', '--once', '--json'], { cwd });
      expect(again.code).toBe(0);
      expect(jsonLines(again.stdout).filter((l) => l['_tag'] !== undefined)).toEqual([
        { _tag: 'AlreadyDone', requestId, status: 'completed', at: expect.any(String) },
      ]);
    }
    expect(fake.backlog(SUB)).toBe(0);
    expect(fake.acked(SUB)).toBe(2);
    expect(fx.query<{ n: number }[]>(`SELECT count(*) AS n FROM analytics_processor_runs WHERE run_date = '2025-11-15'`)[0]?.n).toBe(1);
  });

  it('a poison message is dead-lettered and acked, and the worker goes on to the next one', async () => {
    const { fx, topic, sub, dead } = fixture('-poison');
    const cwd = fx.dir;
    expect((await cli(['init', '--pubsub', '--apply'], { cwd })).code).toBe(0);

    const client = fake.client();
    await client
      .topic(topic.split('/').at(-1) as string)
      .publishMessage({ data: Buffer.from('{"processor_name": "player_game_summary", "start_date": '), attributes: { source: 'test' } });
    await client.close();
    // A real request behind it: Nov 15's backfill, from the held run.
    expect((await cli(['run', 'player_game_summary', '--date', '2025-11-16'], { cwd })).code).toBe(3);
    expect(fake.published(topic)).toHaveLength(2);

    const worker = await cli(['worker', '--once', '--json'], { cwd });
    const lines = jsonLines(worker.stdout);
    const deadLettered = lines.filter((l) => l['_tag'] === 'DeadLettered');
    expect(deadLettered).toHaveLength(1);
    expect(String(deadLettered[0]?.['reason'])).toMatch(/json/i);
    expect(lines.filter((l) => l['_tag'] === 'Completed')).toEqual([expect.objectContaining({ resumed: ['2025-11-16'] })]);
    expect(lines.at(-1)).toEqual({ summary: { completed: 1, retrying: 0, failed: 1, resumed: 1, other: 0 } });
    // --once reports that something failed.
    expect(worker.code).toBe(1);
    expect(fx.rows('2025-11-16')).toBeGreaterThanOrEqual(30);

    // The poison copy sits on the dead-letter topic with its reason; nothing is left on the subscription.
    const letters = fake.published(dead);
    expect(letters).toHaveLength(1);
    expect(letters[0]?.data.toString('utf8')).toBe('{"processor_name": "player_game_summary", "start_date": ');
    expect(letters[0]?.attributes).toMatchObject({ source: 'test', dead_letter_source_subscription: sub });
    expect(letters[0]?.attributes['dead_letter_reason']).toMatch(/json/i);
    expect(fake.backlog(sub)).toBe(0);
    expect(fake.acked(sub)).toBe(2);

    const status = (await cli(['status', 'player_game_summary', '--json', '--today', '2025-11-16'], { cwd })).json<
      StatusJson & { queue: Record<string, unknown> }
    >();
    expect(status.processors[0]?.heldRuns).toEqual([]);
    // The poison message named no request: the dead-letter subscription is its record, and status shows it.
    expect(status.queue).toMatchObject({
      type: 'pubsub',
      fromTracker: { published: 0, unpublished: 0, processing: 0, oldestWaitingSince: null },
      deadLetters: {
        subscription: `${dead.split('/').at(-1)}-sub`,
        messages: [{ by: 'worker', requestId: null, reason: expect.stringMatching(/json/i) }],
      },
      unknown: expect.arrayContaining([expect.stringMatching(/Cloud Monitoring/)]),
    });
    // Peeking does not consume: the dead letter is still there for the next reader.
    const again = (await cli(['status', '--json', '--today', '2025-11-16'], { cwd })).json<{
      queue: { deadLetters: { messages: unknown[] } };
    }>();
    expect(again.queue.deadLetters.messages).toHaveLength(1);
  });

  it('the long-running worker relays an unpublished request, sweeps, and resumes held runs over Pub/Sub', async () => {
    const { fx, topic, sub } = fixture('-long');
    const cwd = fx.dir;
    expect((await cli(['init', '--pubsub', '--apply'], { cwd })).code).toBe(0);

    // The publish is refused: the run is held all the same, and the request waits in the outbox.
    fake.failNext('Publish', 7 /* PERMISSION_DENIED: not retried by the client */);
    const held = await cli(['run', 'player_game_summary', '--date', '2025-11-16', '--json'], { cwd });
    expect(held.code).toBe(3);
    expect(fake.published(topic)).toHaveLength(0);
    const pending = fx.query<{ request_id: string; published_at: number | null }[]>(
      'SELECT request_id, published_at FROM backfill_requests',
    );
    expect(pending).toEqual([{ request_id: expect.any(String), published_at: null }]);
    // Age it past the relay's grace period (the guard that made it is long gone).
    fx.exec('UPDATE backfill_requests SET requested_at = requested_at - 3600000');

    // A second held run whose backfill completed but which was never resumed (its worker died
    // between Complete and resume): only the periodic resume pass can release it.
    fx.exec(
      `INSERT INTO held_runs (processor_name, run_date, held_at, reason, waiting_for, status) VALUES ('summary_cmd', '2025-11-16', 0, 'backfill queued', '["2025-11-14"]', 'held')`,
    );
    fx.exec(
      `INSERT INTO backfill_requests (request_id, processor_name, game_date, request_type, priority, requested_at, requested_by, trigger_reason, status, attempt, completed_at, published_at, updated_at)
       VALUES ('done-before', 'summary_cmd', '2025-11-14', 'auto', 'normal', 0, 'test', 'gap', 'completed', 1, 1, 1, 1)`,
    );

    // And a backfill whose worker died mid-run: its lease lapsed long ago; only the sweeper requeues it.
    fx.exec(
      `INSERT INTO backfill_requests (request_id, processor_name, game_date, request_type, priority, requested_at, requested_by, trigger_reason, status, attempt, started_at, lease_owner, lease_expires_at, published_at, updated_at)
       VALUES ('lapsed', 'player_game_summary', '2025-11-12', 'manual', 'normal', 0, 'test', 'rebuild', 'processing', 1, 1, 'dead-worker', 1, 1, 1)`,
    );
    fx.exec(`DELETE FROM player_game_summary WHERE game_date = '2025-11-12'`);

    const stop = new AbortController();
    const running = cli(['worker', '--json'], { cwd, signal: stop.signal });
    const status = (id: string): string | undefined =>
      fx.query<{ status: string }[]>('SELECT status FROM backfill_requests WHERE request_id = ?', id)[0]?.status;
    const done = (): boolean =>
      fx.query<{ n: number }[]>(`SELECT count(*) AS n FROM held_runs WHERE status = 'held'`)[0]?.n === 0 &&
      status('lapsed') === 'completed' &&
      fake.backlog(sub) === 0 &&
      fake.published(topic).length >= 2;
    for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
    stop.abort('SIGTERM');
    const r = await running;
    expect(r.code).toBe(0);
    expect(done()).toBe(true);
    expect(r.errors.filter((l) => l.startsWith('warning'))).toEqual([]);

    // The sweeper republished the lapsed request, the relay the unpublished one (once each);
    // the worker pulled both, filled Nov 12 and Nov 15, and the held run resumed. summary_cmd
    // reads the same table: when its resume pass runs before Nov 15 is filled, its guard sees
    // Nov 15 missing and queues its own backfill of it — the only other message allowed.
    const published = fake.published(topic).map((m) => [m.attributes['request_id'], m.attributes['game_date']] as const);
    expect(published.filter(([id]) => id === 'lapsed' || id === pending[0]?.request_id).sort()).toEqual(
      [
        ['lapsed', '2025-11-12'],
        [pending[0]?.request_id, '2025-11-15'],
      ].sort(),
    );
    const extra = published.filter(([id]) => id !== 'lapsed' && id !== pending[0]?.request_id);
    for (const [id, date] of extra) {
      expect(date).toBe('2025-11-15');
      expect(fx.query('SELECT processor_name, request_type FROM backfill_requests WHERE request_id = ?', id)).toEqual([
        { processor_name: 'summary_cmd', request_type: 'auto' },
      ]);
    }
    expect(extra.length).toBeLessThanOrEqual(1);
    expect(fx.rows('2025-11-12')).toBeGreaterThanOrEqual(30);
    expect(fx.query<{ attempt: number }[]>(`SELECT attempt FROM backfill_requests WHERE request_id = 'lapsed'`)).toEqual([{ attempt: 2 }]);
    expect(
      fx.query<{ published_at: number | null; status: string }[]>(
        'SELECT published_at, status FROM backfill_requests WHERE request_id = ?',
        pending[0]?.request_id,
      )[0],
    ).toMatchObject({
      status: 'completed',
      published_at: expect.any(Number),
    });
    const lines = jsonLines(r.stdout);
    expect(lines.filter((l) => l['_tag'] === 'Completed')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ requestId: pending[0]?.request_id, resumed: ['2025-11-16'] }),
        expect.objectContaining({ requestId: 'lapsed' }),
      ]),
    );
    expect(lines.at(-1)).toMatchObject({ summary: { completed: 2 + extra.length, retrying: 0, failed: 0, other: 0 } });
    // The resume pass re-ran summary_cmd's held Nov 16 through its guard (held once more first when
    // it found Nov 15 still missing), and it ended with one successful resume run.
    const resumed = fx.query<RunRow[]>(
      `SELECT run_date, run_trigger, is_backfill, outcome FROM analytics_processor_runs WHERE processor_name = 'summary_cmd' AND outcome = 'succeeded' AND is_backfill = 0`,
    );
    expect(resumed).toEqual([{ run_date: '2025-11-16', run_trigger: 'resume', is_backfill: 0, outcome: 'succeeded' }]);
    expect(fx.query<{ status: string }[]>(`SELECT status FROM held_runs WHERE processor_name = 'summary_cmd'`)).toEqual([
      { status: 'resumed' },
    ]);
  });

  it('a long-running worker started before its subscription exists warns, keeps polling, and serves it once created', async () => {
    const { fx, sub } = fixture('-early');
    const cwd = fx.dir;
    // `--once` has no later to try again in: it fails with the reason.
    const once = await cli(['worker', '--once'], { cwd });
    expect(once.code).toBe(1);
    expect(once.errors[0]).toEqual(
      expect.stringMatching(/^error: .*pull from projects\/test-project\/subscriptions\/cli-worker-early failed: .*NOT_FOUND/),
    );
    const pullsBefore = fake.stats.pullCalls;
    const stop = new AbortController();
    const running = cli(['worker'], { cwd, signal: stop.signal });
    // Wait until the worker has failed to pull twice (so it has warned once); nothing is created behind its back.
    for (let i = 0; i < 500 && fake.stats.pullCalls < pullsBefore + 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(fake.subscription(sub)).toBeUndefined();

    expect((await cli(['init', '--pubsub', '--apply'], { cwd })).code).toBe(0);
    expect((await cli(['run', 'player_game_summary', '--date', '2025-11-16'], { cwd })).code).toBe(3);
    const held = (): number => fx.query<{ n: number }[]>(`SELECT count(*) AS n FROM held_runs WHERE status = 'held'`)[0]?.n ?? -1;
    for (let i = 0; i < 1000 && (held() !== 0 || fake.backlog(sub) !== 0); i++) await new Promise((r) => setTimeout(r, 20));
    stop.abort('SIGTERM');
    const r = await running;
    expect(r.code).toBe(0);
    expect(held()).toBe(0);
    expect(fx.rows('2025-11-16')).toBeGreaterThanOrEqual(30);
    expect(r.stdout).toMatch(/filled player_game_summary 2025-11-15 \(attempt 1\); resumed held run 2025-11-16/);
    expect(r.stdout).toMatch(/stopped: 1 filled, 1 held run\(s\) resumed/);
    const warnings = r.errors.filter((l) => l.startsWith('warning'));
    expect(warnings.length).toBeGreaterThan(0);
    for (const w of warnings)
      expect(w).toMatch(/^warning: taking backfills from the queue failed: .*cli-worker-early.*NOT_FOUND.*; trying again$/);
  });

  it('the long-running worker long-polls Pub/Sub: a backfill published while it waits is taken at once, not after a poll interval', async () => {
    // A minute between polls: were the worker sleeping between zero-wait pulls, nothing would run before the test gives up.
    const { fx, sub } = fixture('-longpoll', { pollIntervalMs: 60_000 });
    const cwd = fx.dir;
    expect((await cli(['init', '--pubsub', '--apply'], { cwd })).code).toBe(0);
    const pullsBefore = fake.stats.pullCalls;
    const stop = new AbortController();
    const running = cli(['worker'], { cwd, signal: stop.signal });
    // Its first pull found the subscription empty and is waiting (the fake answers a waiting pull empty every 50 ms; the adapter asks again).
    for (let i = 0; i < 500 && fake.stats.pullCalls < pullsBefore + 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(fake.stats.pullCalls).toBeGreaterThanOrEqual(pullsBefore + 2);

    expect((await cli(['run', 'player_game_summary', '--date', '2025-11-16'], { cwd })).code).toBe(3);
    const held = (): number => fx.query<{ n: number }[]>(`SELECT count(*) AS n FROM held_runs WHERE status = 'held'`)[0]?.n ?? -1;
    for (let i = 0; i < 500 && (held() !== 0 || fake.backlog(sub) !== 0); i++) await new Promise((r) => setTimeout(r, 20));
    // Stopping cancels the pull in progress rather than waiting out its minute.
    stop.abort('SIGTERM');
    const r = await running;
    expect(r.code).toBe(0);
    expect(held()).toBe(0);
    expect(fake.backlog(sub)).toBe(0);
    expect(r.stdout).toMatch(/stopped: 1 filled, 1 held run\(s\) resumed/);
  });
});
