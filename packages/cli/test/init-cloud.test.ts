import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePubSubServer } from '../../pubsub/test/fake-pubsub-server.js';
import { cleanupAfterEach, cli } from './helpers.js';

const netTrap = (): string[] => (globalThis as { __smartBackfillNetTrap?: string[] }).__smartBackfillNetTrap ?? [];

const { temp } = cleanupAfterEach();

const processor = {
  name: 'player_game_summary',
  schedule: { table: 'game_schedule', dateColumn: 'game_date' },
  target: { table: 'player_game_summary', dateColumn: 'game_date' },
  command: 'node build-summary.js --date {date}',
};

describe('init --bigquery', () => {
  it("every statement targets the tracking dataset only: the user's datasets are never created, altered or written", async () => {
    const t = temp();
    t.write('smart-backfill.config.json', {
      store: { type: 'bigquery', projectId: 'shop-prod', dataset: 'smart_backfill' },
      queue: { type: 'pubsub', topic: 'sb-requests', subscription: 'sb-worker' },
      processors: [
        {
          ...processor,
          schedule: { table: 'shop-prod.retail.calendar', dateColumn: 'day' },
          target: { table: 'shop-prod.retail.orders_daily', dateColumn: 'order_date' },
        },
      ],
    });
    const r = await cli(['init', '--bigquery'], { cwd: t.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/retail/);
    const targets = [...r.stdout.matchAll(/(?:CREATE|ALTER|INSERT|UPDATE|DELETE|MERGE|DROP|TRUNCATE)\b[^`]*`([^`]+)`/gi)].map((m) => m[1]!);
    expect(targets.length).toBeGreaterThan(0);
    for (const name of targets) expect(name).toMatch(/^shop-prod\.smart_backfill(\.|$)/);
  });

  it('prints the DDL for flag-given names without a config file, credentials or network, and writes nothing', async () => {
    const t = temp();
    const trapped = netTrap().length;
    const r = await cli(['init', '--bigquery', '--project', 'my-project', '--dataset', 'nba_processing', '--location', 'US'], {
      cwd: t.dir,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CREATE SCHEMA IF NOT EXISTS `my-project.nba_processing`');
    expect(r.stdout).toContain("OPTIONS (location = 'US')");
    expect(r.stdout).toContain('CREATE TABLE IF NOT EXISTS `my-project.nba_processing.backfill_request_events`');
    expect(r.stdout).toContain('CREATE OR REPLACE VIEW `my-project.nba_processing.backfill_requests`');
    expect(netTrap().length).toBe(trapped);
    expect(existsSync(join(t.dir, 'smart-backfill.config.json'))).toBe(false);
  });

  it('reads store from the config (projectId, dataset), and --json gives the statements', async () => {
    const t = temp();
    t.write('smart-backfill.config.json', {
      store: { type: 'bigquery', projectId: 'nba-prod', dataset: 'nba_processing' },
      queue: { type: 'pubsub', topic: 'sb-requests', subscription: 'sb-worker' },
      processors: [processor],
    });
    const r = await cli(['init', '--bigquery', '--json'], { cwd: t.dir });
    expect(r.code).toBe(0);
    const out = r.json<{ bigquery: { projectId: string; dataset: string; applied: boolean; statements: string[] } }>();
    expect(out.bigquery).toMatchObject({ projectId: 'nba-prod', dataset: 'nba_processing', applied: false });
    expect(out.bigquery.statements.filter((s) => s.startsWith('CREATE TABLE IF NOT EXISTS `nba-prod.nba_processing.'))).toHaveLength(5);
  });

  it('a bad name is exit 2 naming the flag or config field', async () => {
    const t = temp();
    const bad = await cli(['init', '--bigquery', '--project', 'my-project', '--dataset', 'nba-processing'], { cwd: t.dir });
    expect(bad.code).toBe(2);
    expect(bad.errors).toEqual([
      'error: --dataset: expected a BigQuery dataset id (letters, digits and "_", at most 1024 characters), got "nba-processing"',
    ]);
    expect(bad.stdout).toBe('');

    const project = await cli(['init', '--bigquery', '--project', 'My_Project'], { cwd: t.dir });
    expect(project.code).toBe(2);
    expect(project.errors[0]).toMatch(/^error: --project: .*got "My_Project"$/);

    const none = await cli(['init', '--bigquery'], { cwd: t.dir });
    expect(none.code).toBe(2);
    expect(none.errors[0]).toMatch(/^error: --project: /);

    t.write('smart-backfill.config.json', { store: { type: 'sqlite', path: './s.db' }, processors: [processor] });
    const sqlite = await cli(['init', '--bigquery'], { cwd: t.dir });
    expect(sqlite.code).toBe(2);
    expect(sqlite.errors[0]).toMatch(/^error: store\.type: .* has store\.type "sqlite"; init --bigquery/);
  });
});

describe('init --bigquery --apply', () => {
  // A loopback stand-in for BigQuery's REST jobs.query, reached through the client's
  // BIGQUERY_EMULATOR_HOST (which also skips credentials).
  let server: Server;
  let answer: 'ok' | 'denied' = 'ok';
  const queries: string[] = [];
  let saved: string | undefined;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        queries.push((JSON.parse(body) as { query: string }).query);
        if (answer === 'denied') {
          res.writeHead(403, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              error: {
                code: 403,
                message: 'Access Denied: User does not have bigquery.jobs.create permission',
                errors: [{ reason: 'accessDenied', message: 'Access Denied' }],
              },
            }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            kind: 'bigquery#queryResponse',
            jobComplete: true,
            jobReference: { projectId: 'my-project', jobId: `job-${queries.length}`, location: 'US' },
            totalRows: '0',
            schema: { fields: [] },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    saved = process.env['BIGQUERY_EMULATOR_HOST'];
    process.env['BIGQUERY_EMULATOR_HOST'] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env['BIGQUERY_EMULATOR_HOST'];
    else process.env['BIGQUERY_EMULATOR_HOST'] = saved;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('runs every statement in order and prints the statements it ran', async () => {
    answer = 'ok';
    queries.length = 0;
    const trapped = netTrap().length;
    const r = await cli(['init', '--bigquery', '--apply', '--project', 'my-project', '--dataset', 'nba_processing', '--location', 'US'], {
      cwd: temp().dir,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(queries).toHaveLength(13);
    expect(queries[0]).toContain('CREATE SCHEMA IF NOT EXISTS `my-project.nba_processing`');
    expect(r.stdout).toMatch(/^-- applied 13 statements to my-project\.nba_processing \(US\)$/m);
    for (const q of queries) expect(r.stdout).toContain(q.replace(/^-- smart-backfill:ddl\n/, ''));
    expect(netTrap().length).toBe(trapped);
  });

  it('a refusal is one error line and exit 1', async () => {
    answer = 'denied';
    queries.length = 0;
    const r = await cli(['init', '--bigquery', '--apply', '--project', 'my-project'], { cwd: temp().dir });
    expect(r.code).toBe(1);
    expect(queries).toHaveLength(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /^error: init --bigquery --apply: creating the tracking tables in my-project\.smart_backfill failed: applying DDL statement 1 of 13 \(CREATE SCHEMA IF NOT EXISTS `my-project\.smart_backfill`\) failed: .*\[accessDenied\]/,
    );
    expect(r.stdout).toBe('');
  });
});

describe('init --pubsub', () => {
  let fake: FakePubSubServer;
  beforeAll(async () => {
    fake = await FakePubSubServer.start({ pullWaitMs: 300 });
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('prints the gcloud commands (ack deadline 540, dead letters) from flags, with no network', async () => {
    const t = temp();
    const trapped = netTrap().length;
    const r = await cli(
      [
        'init',
        '--pubsub',
        '--project',
        'my-project',
        '--topic',
        'sb-requests',
        '--subscription',
        'sb-worker',
        '--max-delivery-attempts',
        '7',
      ],
      { cwd: t.dir },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('gcloud pubsub topics create sb-requests --project=my-project');
    expect(r.stdout).toContain('gcloud pubsub subscriptions create sb-worker');
    expect(r.stdout).toContain('--ack-deadline=540');
    expect(r.stdout).toContain('--dead-letter-topic=smart-backfill-dead-letters');
    expect(r.stdout).toContain('--max-delivery-attempts=7');
    expect(netTrap().length).toBe(trapped);
    expect(existsSync(join(t.dir, 'smart-backfill.config.json'))).toBe(false);
  });

  it('takes the widened queue config: ack deadline, retry policy, no dead letters, exactly-once', async () => {
    const t = temp();
    t.write('smart-backfill.config.json', {
      store: { type: 'sqlite', path: './s.db' },
      queue: {
        type: 'pubsub',
        topic: 'sb-requests',
        subscription: 'sb-worker',
        ackDeadlineSeconds: 300,
        retryPolicy: { minimumBackoffSeconds: 30 },
        deadLetter: false,
        exactlyOnce: true,
      },
      processors: [processor],
    });
    const r = await cli(['init', '--pubsub'], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--ack-deadline=300');
    expect(r.stdout).toContain('--min-retry-delay=30s');
    expect(r.stdout).toContain('--enable-exactly-once-delivery');
    expect(r.stdout).not.toContain('dead-letter');
  });

  it('bad queue settings are exit 2, each named by its config path or flag', async () => {
    const t = temp();
    t.write('smart-backfill.config.json', {
      store: { type: 'sqlite', path: './s.db' },
      queue: {
        type: 'pubsub',
        topic: 'sb-requests',
        subscription: 'sb-worker',
        ackDeadlineSeconds: 5,
        deadLetter: { topic: 'sb-requests', maxDeliveryAttempts: 200 },
      },
      processors: [processor],
    });
    const r = await cli(['status'], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.errors).toEqual([
      expect.stringMatching(/smart-backfill\.config\.json: 3 problems$/),
      '  queue.ackDeadlineSeconds: must be a whole number from 10 to 600, got 5',
      "  queue.deadLetter.maxDeliveryAttempts: must be a whole number from 5 to 100 (Pub/Sub's limits), got 200",
      '  queue.deadLetter.topic: must differ from topic ("sb-requests"): dead letters would be delivered again',
    ]);

    t.write('smart-backfill.config.json', {
      store: { type: 'sqlite', path: './s.db' },
      queue: { type: 'pubsub', topic: 'sb-requests', subscription: 'sb-worker', deadLetter: 'yes', exactlyOnce: 'no' },
      processors: [processor],
    });
    const shape = await cli(['init', '--pubsub'], { cwd: t.dir });
    expect(shape.code).toBe(2);
    expect(shape.errors.slice(1)).toEqual([
      '  queue.deadLetter: expected an object { topic?, maxDeliveryAttempts?, subscription? } or false, got "yes"',
      '  queue.exactlyOnce: expected true or false, got "no"',
    ]);

    const flags = await cli(['init', '--pubsub', '--topic', 'ab', '--max-delivery-attempts', '3'], { cwd: temp().dir });
    expect(flags.code).toBe(2);
    expect(flags.errors).toEqual([
      expect.stringMatching(/^error: --topic: must be 3–255 characters/),
      "error: --max-delivery-attempts: must be a whole number from 5 to 100 (Pub/Sub's limits), got 3",
    ]);
  });

  it('--apply creates topic, subscription and dead-letter topic on a (fake) Pub/Sub, and a second run finds them existing', async () => {
    const t = temp();
    const trapped = netTrap().length;
    t.write('smart-backfill.config.json', {
      store: { type: 'sqlite', path: './s.db' },
      queue: {
        type: 'pubsub',
        projectId: 'test-project',
        topic: 'cli-requests',
        subscription: 'cli-worker',
        apiEndpoint: fake.endpoint,
        deadLetter: { topic: 'cli-dead-letters', maxDeliveryAttempts: 6 },
      },
      processors: [processor],
    });
    const P = 'projects/test-project';
    const all = [
      `${P}/topics/cli-requests`,
      `${P}/topics/cli-dead-letters`,
      `${P}/subscriptions/cli-dead-letters-sub`,
      `${P}/subscriptions/cli-worker`,
    ].sort();

    const first = await cli(['init', '--pubsub', '--apply', '--json'], { cwd: t.dir });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const made = first.json<{ pubsub: { applied: boolean; created: string[]; existing: string[]; drift: string[]; notes: string[] } }>()
      .pubsub;
    expect(made.applied).toBe(true);
    expect([...made.created].sort()).toEqual(all);
    expect(made.existing).toEqual([]);
    expect(made.notes.join('\n')).toMatch(/roles\/pubsub\.publisher on topic cli-dead-letters/);
    expect(fake.subscription(`${P}/subscriptions/cli-worker`)).toMatchObject({
      topic: `${P}/topics/cli-requests`,
      ackDeadlineSeconds: 540,
      deadLetterPolicy: { deadLetterTopic: `${P}/topics/cli-dead-letters`, maxDeliveryAttempts: 6 },
    });

    const second = await cli(['init', '--pubsub', '--apply'], { cwd: t.dir });
    expect(second.code).toBe(0);
    for (const name of all) expect(second.stdout).toMatch(new RegExp(`existing\\s+${name.replace(/\//g, '\\/')}$`, 'm'));
    expect(second.stdout).not.toMatch(/created|drift/);

    // A flag overrides the config: a new subscription on the same topic is created, the rest exists.
    const third = await cli(['init', '--pubsub', '--apply', '--subscription', 'cli-worker-2', '--json'], { cwd: t.dir });
    expect(third.code).toBe(0);
    expect(third.json<{ pubsub: { created: string[] } }>().pubsub.created).toEqual([`${P}/subscriptions/cli-worker-2`]);
    expect(netTrap().length).toBe(trapped);
  });

  it('--apply refused by Pub/Sub: one error line, exit 1', async () => {
    const t = temp();
    fake.failNext('CreateTopic', 7 /* PERMISSION_DENIED */);
    const r = await cli(
      ['init', '--pubsub', '--apply', '--project', 'test-project', '--topic', 'denied-topic', '--api-endpoint', fake.endpoint],
      { cwd: t.dir },
    );
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /^error: init --pubsub --apply: creating the Pub\/Sub resources failed: creating topic projects\/test-project\/topics\/denied-topic failed: .*PERMISSION_DENIED/,
    );
  });

  it('--apply or a cloud flag without --bigquery/--pubsub is exit 2', async () => {
    const t = temp();
    expect((await cli(['init', '--apply'], { cwd: t.dir })).errors).toEqual([
      'error: --apply goes with --bigquery or --pubsub (init alone writes a starter SQLite config)',
    ]);
    expect((await cli(['init', '--max-delivery-attempts', '5'], { cwd: t.dir })).code).toBe(2);
    expect(existsSync(join(t.dir, 'smart-backfill.config.json'))).toBe(false);
  });
});
