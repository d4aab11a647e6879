import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeBigQuery } from '../../bigquery/test/fake-bigquery-server.js';
import { FakePubSubServer } from '../../pubsub/test/fake-pubsub-server.js';
import { P, PROCESSOR_MODULE, PROJECT, ROWS_PER_DATE, SCHEDULE, SUB, TARGET, TOPIC, scheduleDays } from './bigquery-cli-fixture.js';
import { cleanupAfterEach, cli } from './helpers.js';

// Issue 5's "done when": the BigQuery adapters plug into the guard and the worker through
// config (`store: bigquery`). Both Google clients are the real ones, pointed at loopback
// fakes: BigQuery through BIGQUERY_EMULATOR_HOST (the client's emulator mode, which sends
// no credentials), Pub/Sub through `queue.apiEndpoint`.

const netTrap = (): string[] => (globalThis as { __smartBackfillNetTrap?: string[] }).__smartBackfillNetTrap ?? [];

const DATASET = 'sb_cli';
const T = (table: string): string => `${PROJECT}.${DATASET}.${table}`;

let bq: FakeBigQuery;
let pubsub: FakePubSubServer;
let savedHost: string | undefined;
beforeAll(async () => {
  bq = await new FakeBigQuery().start();
  bq.allowNoAuth = true;
  pubsub = await FakePubSubServer.start({ pullWaitMs: 50 });
  savedHost = process.env['BIGQUERY_EMULATOR_HOST'];
  process.env['BIGQUERY_EMULATOR_HOST'] = bq.emulatorHost;
});
afterAll(async () => {
  if (savedHost === undefined) delete process.env['BIGQUERY_EMULATOR_HOST'];
  else process.env['BIGQUERY_EMULATOR_HOST'] = savedHost;
  await bq.stop();
  await pubsub.stop();
  // Every socket this file opened went to one of the two loopback fakes.
  expect(netTrap()).toEqual([]);
});

const { temp } = cleanupAfterEach();

/** Schedule Oct 10 – Nov 17 (Nov 10 postponed: not expected), target filled before Nov 16 except Nov 15. */
const seed = (): void => {
  bq.defineUserTable(SCHEDULE, { dateColumn: 'game_date', statusColumn: 'game_status' });
  bq.defineUserTable(TARGET, { dateColumn: 'game_date' });
  const days = scheduleDays();
  bq.addUserRows(
    SCHEDULE,
    days.flatMap((d) => [
      { game_date: d, game_status: d === '2025-11-10' ? 'Postponed' : d === '2025-11-17' ? 'Completed' : 'Final' },
      { game_date: d, game_status: d === '2025-11-10' ? 'Postponed' : 'Final' },
    ]),
  );
  bq.addUserRows(SCHEDULE, [{ game_date: '2025-11-18', game_status: 'Scheduled' }]);
  for (const d of days.filter((x) => x < '2025-11-16' && x !== '2025-11-15' && x !== '2025-11-10')) {
    bq.addUserRows(
      TARGET,
      Array.from({ length: ROWS_PER_DATE }, (_, i) => ({ game_date: d, player_id: i, run_trigger: 'seed' })),
    );
  }
};

const targetRows = (date: string): Record<string, unknown>[] =>
  (bq.userTables.get(TARGET)?.rows ?? []).filter((r) => r['game_date'] === date);

/** Latest event per key, as the tracking views compute it (highest version). */
const latest = (table: string, key: (r: Record<string, unknown>) => string): Map<string, Record<string, unknown>> => {
  const out = new Map<string, Record<string, unknown>>();
  for (const r of bq.rows(T(table))) {
    const k = key(r);
    const prev = out.get(k);
    if (prev === undefined || Number(r['version']) >= Number(prev['version'])) out.set(k, r);
  }
  return out;
};

type Line = Record<string, unknown>;
const jsonLines = (stdout: string): Line[] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
interface StatusJson {
  processors: { name: string; openRequests: unknown[]; heldRuns: unknown[]; openAlerts: unknown[] }[];
}

// 5000: rows the CLI streams with insertAll stay invisible to queries for 5 s on a clock that never moves
// (each command is its own process: only what BigQuery shows crosses between them).
describe.each([0, 5_000])(
  'store: bigquery from the CLI (fake BigQuery, fake Pub/Sub, streamed rows visible after %i ms)',
  (visibilityMs) => {
    beforeEach(async () => {
      // A fresh Pub/Sub per case: init creates the topic and subscription again.
      await pubsub.stop();
      pubsub = await FakePubSubServer.start({ pullWaitMs: 50 });
      bq.tables.clear();
      bq.userTables.clear();
      bq.streamingVisibilityMs = visibilityMs;
      bq.now = () => 0;
    });
    it('init, run holds and records the request in BigQuery, worker --once fills and resumes, check proceeds, status is clear', async () => {
      seed();
      const t = temp('sb-cli-bq-');
      t.write('processor.mjs', PROCESSOR_MODULE);
      t.write('smart-backfill.config.json', {
        store: {
          type: 'bigquery',
          projectId: PROJECT,
          dataset: DATASET,
          location: 'US',
          maximumBytesBilled: '1000000000',
          labels: { app: 'smart-backfill' },
        },
        queue: {
          type: 'pubsub',
          projectId: PROJECT,
          topic: 'bq-requests',
          subscription: 'bq-worker',
          apiEndpoint: pubsub.endpoint,
          deadLetter: { topic: 'bq-dead-letters', maxDeliveryAttempts: 5 },
        },
        worker: { pollIntervalMs: 50 },
        processors: [
          {
            name: P,
            schedule: {
              table: 'nba_raw.game_schedule',
              dateColumn: 'game_date',
              statusColumn: 'game_status',
              statuses: ['Final', 'Completed'],
            },
            target: { table: 'nba_analytics.player_game_summary', dateColumn: 'game_date' },
            policy: { minRecordsPerDate: 30, lookbackDays: 30 },
            module: './processor.mjs',
          },
        ],
      });
      const cwd = t.dir;

      // 1. The tracking tables (DDL through jobs.query) and the Pub/Sub resources.
      const ddl = await cli(['init', '--bigquery', '--apply', '--json'], { cwd });
      expect(ddl.stderr).toBe('');
      expect(ddl.code).toBe(0);
      expect(ddl.json<{ bigquery: { projectId: string; dataset: string; applied: boolean } }>().bigquery).toMatchObject({
        projectId: PROJECT,
        dataset: DATASET,
        applied: true,
      });
      expect(bq.queries().some((q) => q.query.includes(`CREATE TABLE IF NOT EXISTS \`${T('backfill_request_events')}\``))).toBe(true);
      const init = await cli(['init', '--pubsub', '--apply', '--json'], { cwd });
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      expect(init.json<{ pubsub: { created: string[] } }>().pubsub.created).toEqual(expect.arrayContaining([TOPIC, SUB]));

      // 2. The run is held: the guard read the window from BigQuery, recorded the request as an event row there, and published it.
      const held = await cli(['run', P, '--date', '2025-11-16', '--json'], { cwd });
      expect(held.stderr).toBe('');
      expect(held.code).toBe(3);
      const outcome = held.json<{ outcome: { _tag: string; queued: { requestId: string; date: string }[] } }>().outcome;
      expect(outcome._tag).toBe('Held');
      // Nov 10 is postponed (not in the schedule's statuses): not a gap.
      expect(outcome.queued.map((r) => r.date)).toEqual(['2025-11-15']);
      const requestId = outcome.queued[0]?.requestId as string;
      // The guard's window read went to the schedule and target tables, with the statuses as a parameter.
      const check = bq.queries().find((q) => q.query.startsWith('-- smart-backfill:check'));
      expect(check?.query).toContain(`\`${SCHEDULE}\``);
      expect(check?.query).toContain(`\`${TARGET}\``);
      expect(JSON.stringify(check?.queryParameters)).toContain('Completed');
      // store.maximumBytesBilled and store.labels reach every job the store runs (and the DDL jobs of init --apply).
      expect(check).toMatchObject({ maximumBytesBilled: '1000000000', labels: { app: 'smart-backfill' } });
      expect(
        bq
          .queries()
          .filter((q) => q.query.startsWith('-- smart-backfill:ddl'))
          .every((q) => (q['labels'] as Record<string, string> | undefined)?.['app'] === 'smart-backfill'),
      ).toBe(true);

      const events = bq.rows(T('backfill_request_events')).filter((r) => r['request_id'] === requestId);
      expect(events[0]).toMatchObject({ processor_name: P, game_date: '2025-11-15', status: 'queued' });
      expect(latest('backfill_request_events', (r) => String(r['request_id'])).get(requestId)).toMatchObject({
        status: 'queued',
        published_at: expect.anything(),
      });
      const published = pubsub.published(TOPIC);
      expect(published).toHaveLength(1);
      expect(published[0]?.attributes).toMatchObject({ processor_name: P, game_date: '2025-11-15', request_id: requestId });
      expect(pubsub.backlog(SUB)).toBe(1);
      expect(
        latest('held_run_events', (r) => `${String(r['processor_name'])}|${String(r['game_date'])}`).get(`${P}|2025-11-16`),
      ).toMatchObject({ status: 'held' });
      expect(bq.rows(T('analytics_processor_runs'))).toEqual([
        expect.objectContaining({ processor_name: P, game_date: '2025-11-16', outcome: 'skipped', skip_reason: 'backfill_queued' }),
      ]);
      // Nothing ran yet.
      expect(targetRows('2025-11-15')).toEqual([]);

      // 3. The worker pulls the request from Pub/Sub, runs the backfill (which streams Nov 15's rows into
      //    BigQuery), completes the request there, and resumes the held Nov 16 run through its guard.
      const worker = await cli(['worker', '--once', '--json'], { cwd });
      expect(worker.stderr).toBe('');
      expect(worker.code).toBe(0);
      const lines = jsonLines(worker.stdout);
      // With streamed rows late, `run`'s MarkPublished is not visible to this process yet, so --once's relay
      // publishes the request again; that copy is found done (run once), never run twice.
      const republished = visibilityMs > 0 ? [expect.objectContaining({ _tag: 'AlreadyDone', requestId, status: 'completed' })] : [];
      expect(lines.filter((l) => l['_tag'] !== undefined)).toEqual([
        expect.objectContaining({ _tag: 'Completed', requestId, resumed: ['2025-11-16'] }),
        ...republished,
      ]);
      expect(lines.at(-1)).toEqual({ summary: { completed: 1, retrying: 0, failed: 0, resumed: 1, other: republished.length } });
      expect(targetRows('2025-11-15')).toHaveLength(ROWS_PER_DATE);
      expect(targetRows('2025-11-15').every((r) => r['run_trigger'] === 'backfill')).toBe(true);
      expect(targetRows('2025-11-16')).toHaveLength(ROWS_PER_DATE);
      expect(targetRows('2025-11-16').every((r) => r['run_trigger'] === 'resume')).toBe(true);
      expect(latest('backfill_request_events', (r) => String(r['request_id'])).get(requestId)).toMatchObject({
        status: 'completed',
        completed_at: expect.anything(),
      });
      expect(
        latest('held_run_events', (r) => `${String(r['processor_name'])}|${String(r['game_date'])}`).get(`${P}|2025-11-16`),
      ).toMatchObject({ status: 'resumed' });
      const runs = bq.rows(T('analytics_processor_runs')).map((r) => [r['game_date'], r['run_trigger'], r['is_backfill'], r['outcome']]);
      expect(runs).toEqual([
        ['2025-11-16', 'scheduled', false, 'skipped'],
        ['2025-11-15', 'backfill', true, 'succeeded'],
        ['2025-11-16', 'resume', false, 'succeeded'],
      ]);
      expect(pubsub.backlog(SUB)).toBe(0);
      expect(pubsub.acked(SUB)).toBe(1 + republished.length);

      // 4. The next day's check finds the window whole.
      const next = await cli(['check', P, '--date', '2025-11-17', '--json'], { cwd });
      expect(next.stderr).toBe('');
      expect(next.code).toBe(0);
      expect(next.json<{ decision: { _tag: string } }>().decision._tag).toBe('Proceed');

      // 5. Nothing open.
      const status = await cli(['status', P, '--json', '--today', '2025-11-17'], { cwd });
      expect(status.code).toBe(0);
      const s = status.json<StatusJson>().processors[0];
      expect(s).toMatchObject({ name: P, openRequests: [], heldRuns: [], openAlerts: [] });
      const human = await cli(['status', P, '--today', '2025-11-17'], { cwd });
      expect(human.code).toBe(0);
      expect(human.stdout).not.toMatch(/held run|open requests|alert open/);
      expect(human.stdout).toMatch(/2025-11-15\s+completed/);

      // Every BigQuery call went through the emulator route the client takes, none with credentials.
      expect(bq.requests.length).toBeGreaterThan(0);
      expect(bq.requests.every((r) => r.path.startsWith('/bigquery/v2/projects/') && r.headers.authorization === undefined)).toBe(true);
    });
  },
);
