import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZetaSqlBigQuery } from '../../bigquery/test/zetasql/zetasql-bigquery.js';
import { startZetaSqlFake, zetasqlSkip } from '../../bigquery/test/zetasql/harness.js';
import { FakePubSubServer } from '../../pubsub/test/fake-pubsub-server.js';
import { P, PROCESSOR_MODULE, PROJECT, ROWS_PER_DATE, SCHEDULE, SUB, TARGET, TOPIC, scheduleDays } from './bigquery-cli-fixture.js';
import { cleanupAfterEach, cli } from './helpers.js';

// The CLI flow of bigquery-store.test.ts (`store: bigquery` + `queue: pubsub`: held →
// backfilled → resumed), with BigQuery's SQL executed by ZetaSQL instead of recognised
// by hand: `init --bigquery --apply` creates the tables the guard, the worker and
// `status` then query. Needs the ZetaSQL server (scripts/zetasql-install.sh); without
// it: a visible SKIP.

const DATASET = 'sb_cli_z';

const skip = zetasqlSkip('cli bigquery zetasql');
const bq: ZetaSqlBigQuery | undefined = skip === false ? await startZetaSqlFake() : undefined;
let pubsub: FakePubSubServer;
let savedHost: string | undefined;
beforeAll(async () => {
  if (bq === undefined) return;
  bq.allowNoAuth = true;
  pubsub = await FakePubSubServer.start({ pullWaitMs: 50 });
  savedHost = process.env['BIGQUERY_EMULATOR_HOST'];
  process.env['BIGQUERY_EMULATOR_HOST'] = bq.emulatorHost;
});
afterAll(async () => {
  if (bq === undefined) return;
  if (savedHost === undefined) delete process.env['BIGQUERY_EMULATOR_HOST'];
  else process.env['BIGQUERY_EMULATOR_HOST'] = savedHost;
  await pubsub.stop();
});

const { temp } = cleanupAfterEach();

/** Schedule Oct 10 – Nov 17 (Nov 10 postponed), target filled before Nov 16 except Nov 15. */
const seed = async (fake: ZetaSqlBigQuery): Promise<void> => {
  await fake.createTable(SCHEDULE, '(game_date DATE, game_status STRING)');
  await fake.createTable(TARGET, '(game_date DATE, player_id INT64, run_trigger STRING)');
  const days = scheduleDays();
  fake.addUserRows(
    SCHEDULE,
    days.map((d) => ({ game_date: d, game_status: d === '2025-11-10' ? 'Postponed' : 'Final' })),
  );
  for (const d of days.filter((x) => x < '2025-11-16' && x !== '2025-11-15' && x !== '2025-11-10'))
    fake.addUserRows(
      TARGET,
      Array.from({ length: ROWS_PER_DATE }, (_, i) => ({ game_date: d, player_id: i, run_trigger: 'seed' })),
    );
};

describe.skipIf(skip !== false)('store: bigquery from the CLI, SQL evaluated by ZetaSQL (fake Pub/Sub)', () => {
  it('init --apply creates the tables; run holds; worker --once fills and resumes; check proceeds; status is clear', async () => {
    const fake = bq!;
    await seed(fake);
    const t = temp('sb-cli-bqz-');
    t.write('processor.mjs', PROCESSOR_MODULE);
    t.write('smart-backfill.config.json', {
      store: { type: 'bigquery', projectId: PROJECT, dataset: DATASET, location: 'US' },
      queue: {
        type: 'pubsub',
        projectId: PROJECT,
        topic: 'bq-requests',
        subscription: 'bq-worker',
        apiEndpoint: pubsub.endpoint,
      },
      worker: { pollIntervalMs: 50 },
      processors: [
        {
          name: P,
          schedule: { table: 'nba_raw.game_schedule', dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final'] },
          target: { table: 'nba_analytics.player_game_summary', dateColumn: 'game_date' },
          policy: { minRecordsPerDate: 30, lookbackDays: 30 },
          module: './processor.mjs',
        },
      ],
    });
    const cwd = t.dir;

    const ddl = await cli(['init', '--bigquery', '--apply', '--json'], { cwd });
    expect(ddl.stderr).toBe('');
    expect(ddl.code).toBe(0);
    const init = await cli(['init', '--pubsub', '--apply', '--json'], { cwd });
    expect(init.code).toBe(0);

    const held = await cli(['run', P, '--date', '2025-11-16', '--json'], { cwd });
    expect(held.stderr).toBe('');
    expect(held.code).toBe(3);
    const outcome = held.json<{ outcome: { _tag: string; queued: { requestId: string; date: string }[] } }>().outcome;
    expect(outcome._tag).toBe('Held');
    expect(outcome.queued.map((r) => r.date)).toEqual(['2025-11-15']);
    const requestId = outcome.queued[0]!.requestId;
    expect(pubsub.published(TOPIC)).toHaveLength(1);

    const worker = await cli(['worker', '--once', '--json'], { cwd });
    expect(worker.stderr).toBe('');
    expect(worker.code).toBe(0);
    const lines = worker.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l['_tag'] !== undefined)).toEqual([
      expect.objectContaining({ _tag: 'Completed', requestId, resumed: ['2025-11-16'] }),
    ]);
    const target = fake.rows(TARGET);
    expect(target.filter((r) => r['game_date'] === '2025-11-15' && r['run_trigger'] === 'backfill')).toHaveLength(ROWS_PER_DATE);
    expect(target.filter((r) => r['game_date'] === '2025-11-16' && r['run_trigger'] === 'resume')).toHaveLength(ROWS_PER_DATE);
    expect(pubsub.backlog(SUB)).toBe(0);

    const next = await cli(['check', P, '--date', '2025-11-17', '--json'], { cwd });
    expect(next.stderr).toBe('');
    expect(next.json<{ decision: { _tag: string } }>().decision._tag).toBe('Proceed');

    const status = await cli(['status', P, '--json', '--today', '2025-11-17'], { cwd });
    expect(status.code).toBe(0);
    expect(
      status.json<{ processors: { name: string; openRequests: unknown[]; heldRuns: unknown[]; openAlerts: unknown[] }[] }>().processors[0],
    ).toMatchObject({ name: P, openRequests: [], heldRuns: [], openAlerts: [] });
    const human = await cli(['status', P, '--today', '2025-11-17'], { cwd });
    expect(human.stdout).toMatch(/2025-11-15\s+completed/);
    expect(fake.jobErrors).toEqual([]);
  });
});
