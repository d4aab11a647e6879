import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load-config.js';
import { DEFAULT_POLICY } from '@smart-backfill/core';
import { cleanupAfterEach, cli } from './helpers.js';
import { EXAMPLE_PROCESSOR, nbaFixture } from './nba-fixture.js';
import { createRequire } from 'node:module';

const { temp, track } = cleanupAfterEach();

const processor = {
  name: 'player_game_summary',
  schedule: { table: 'game_schedule', dateColumn: 'game_date' },
  target: { table: 'player_game_summary', dateColumn: 'game_date' },
  command: 'node build-summary.js --date {date}',
};

describe('config', () => {
  it('bad config: exit 2, every problem on its own line with its path', async () => {
    const t = temp();
    t.write('smart-backfill.config.json', {
      store: { type: 'sqlite' },
      processors: [
        { ...processor, policy: { lookbackDays: '30', criticalLookbackDays: 40 }, command: 'run {dat}' },
        {
          ...processor,
          schedule: { table: 'x; DROP TABLE y', dateColumn: 'game_date', statuses: ['Final'] },
          module: './m.mjs',
          command: 'x',
        },
      ],
      worker: { concurrency: 0 },
      alerts: [{ type: 'pager' }],
      extra: 1,
    });
    const r = await cli(['check', 'player_game_summary', '--date', '2025-11-16'], { cwd: t.dir });
    expect(r.code).toBe(2);
    const lines = r.errors;
    expect(lines[0]).toMatch(/^error: .*smart-backfill\.config\.json: \d+ problems$/);
    expect(lines).toEqual(
      expect.arrayContaining([
        '  store.path: is required (a file path)',
        '  processors[0].policy.lookbackDays: expected a whole number >= 1, got "30"',
        '  processors[1].schedule.table: expected a table name (letters, digits, "_", optionally qualified with "."), got "x; DROP TABLE y"',
        '  worker.concurrency: expected a whole number >= 1 and <= 64, got 0',
        expect.stringMatching(/^ {2}alerts\[0\]\.type: /),
        '  extra: unknown field (known: store, processors, queue, worker, alerts, alertDeadlineMs, timeZone)',
      ]),
    );
    expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('cross-field rules: statuses need statusColumn, one way to run, unique names, known placeholders', () => {
    const attempt = (raw: unknown): string[] => {
      try {
        resolveConfig(raw, { baseDir: '/tmp' });
        return [];
      } catch (e) {
        return [...(e as { lines: string[] }).lines].slice(1).map((l) => l.trim());
      }
    };
    expect(
      attempt({
        store: { type: 'sqlite', path: 'a.db' },
        processors: [{ ...processor, schedule: { ...processor.schedule, statuses: ['Final'] } }],
      }),
    ).toEqual(['processors[0].schedule.statuses: needs statusColumn (the column the statuses are read from)']);
    expect(attempt({ store: { type: 'sqlite', path: 'a.db' }, processors: [{ ...processor, module: 'm.mjs', command: 'x' }] })).toEqual([
      'processors[0].module: give one of command, module or run, not command and module',
    ]);
    expect(attempt({ store: { type: 'sqlite', path: 'a.db' }, processors: [processor, processor] })).toEqual([
      'processors[1].name: duplicate processor name (also processors[0])',
    ]);
    expect(attempt({ store: { type: 'sqlite', path: 'a.db' }, processors: [{ ...processor, command: 'build --day {day}' }] })).toEqual([
      'processors[0].command: unknown placeholder {day} (known: {date}, {processor})',
    ]);
    expect(attempt({ store: { type: 'sqlite', path: 'a.db' }, processors: [{ ...processor, command: 'build "--date {date}' }] })).toEqual([
      'processors[0].command: unterminated " quote',
    ]);
    expect(attempt({ store: { type: 'sqlite', path: 'a.db' }, processors: [{ ...processor, policy: 'reckless' }] })[0]).toMatch(
      /^processors\[0\]\.policy: expected a preset/,
    );
    const ok = resolveConfig(
      { store: { type: 'sqlite', path: 'a.db' }, processors: [{ ...processor, policy: 'aggressive' }] },
      { baseDir: '/srv' },
    );
    expect(ok.store).toEqual({ type: 'sqlite', path: '/srv/a.db' });
    expect(ok.processors[0]?.policy.autoBackfillThreshold).toBe(7);
    expect(ok.queue).toEqual({ type: 'store' });
  });

  it('a processor without a policy gets the core defaults (status and check read it)', async () => {
    const bare = resolveConfig({ store: { type: 'sqlite', path: 'a.db' }, processors: [processor] }, { baseDir: '/srv' });
    expect(bare.processors[0]?.policy).toEqual(DEFAULT_POLICY);
    const t = temp();
    t.write('smart-backfill.config.json', { store: { type: 'sqlite', path: './x.db' }, processors: [{ ...processor, command: 'true' }] });
    const db = new (createRequire(import.meta.url)('better-sqlite3'))(join(t.dir, 'x.db'));
    db.exec('CREATE TABLE game_schedule (game_date TEXT); CREATE TABLE player_game_summary (game_date TEXT)');
    db.close();
    const r = await cli(['status', '--today', '2025-11-16'], { cwd: t.dir });
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('hostile processor names are refused in the config and never matched on the command line', async () => {
    const t = temp();
    t.write('smart-backfill.config.json', {
      store: { type: 'sqlite', path: './x.db' },
      processors: [{ ...processor, name: 'a; touch pwned' }],
    });
    const r = await cli(['run', 'a; touch pwned', '--date', '2025-11-16'], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.errors).toContain(
      '  processors[0].name: expected a name of letters, digits, "_", "." or "-" starting with a letter (at most 100 characters), got "a; touch pwned"',
    );
    expect(existsSync(join(t.dir, 'pwned'))).toBe(false);
    expect(existsSync(join(t.dir, 'x.db'))).toBe(false);

    const fx = nbaFixture();
    track(fx.cleanup);
    for (const name of ['$(touch pwned)', '../../etc/passwd', 'player_game_summary; rm -rf /', '"; DROP TABLE backfill_requests; --']) {
      const u = await cli(['run', name, '--date', '2025-11-16'], { cwd: fx.dir });
      expect(u.code).toBe(2);
      expect(u.errors).toEqual([
        `error: unknown processor ${JSON.stringify(name)} (configured: player_game_summary, summary_cmd, summary_fail)`,
      ]);
    }
    expect(existsSync(join(fx.dir, 'pwned'))).toBe(false);
  });

  it('no config: exit 2 and says what to do', async () => {
    const t = temp();
    const r = await cli(['status'], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.errors[0]).toMatch(/^error: no config found in .*run "smart-backfill init" or pass --config FILE$/);
    const missing = await cli(['status', '--config', 'nope.json'], { cwd: t.dir });
    expect(missing.errors).toEqual(['error: --config: no such file "nope.json"']);
    const broken = temp();
    broken.write('smart-backfill.config.json', '{ "store": ');
    expect((await cli(['status'], { cwd: broken.dir })).errors[0]).toMatch(/smart-backfill\.config\.json: not valid JSON/);
  });

  it('a .mjs config with defineConfig and an inline run function', async () => {
    const fx = nbaFixture({ skip: ['2025-11-14'] });
    track(fx.cleanup);
    fx.write(
      'smart-backfill.config.mjs',
      `const defineConfig = (c) => c; // what @smart-backfill/cli exports
let calls = 0;
export default defineConfig({
  store: { type: 'sqlite', path: './nba.db' },
  processors: [{
    name: 'inline',
    schedule: { table: 'game_schedule', dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final'] },
    target: { table: 'player_game_summary', dateColumn: 'game_date' },
    policy: { minRecordsPerDate: 30 },
    run: async ({ date, isBackfill, store }) => ({ date, isBackfill, store: store.type, calls: ++calls }),
  }],
});
`,
    );
    // The inline run writes nothing, so it backfills a date that is already filled: a backfill is re-counted after it succeeds.
    const r = await cli(['run', 'inline', '--date', '2025-11-13', '--backfill', '--json', '--config', 'smart-backfill.config.mjs'], {
      cwd: fx.dir,
    });
    expect(r.code).toBe(0);
    expect(r.json<{ outcome: { _tag: string; result: unknown } }>().outcome).toMatchObject({
      _tag: 'Ran',
      result: { date: '2025-11-13', isBackfill: true, store: 'sqlite', calls: 1 },
    });
    const hollow = await cli(['run', 'inline', '--date', '2025-11-14', '--backfill', '--config', 'smart-backfill.config.mjs'], {
      cwd: fx.dir,
    });
    expect(hollow.code).toBe(1);
    expect(hollow.stdout).toMatch(/the processor succeeded but 2025-11-14 has 0 rows; need ≥ 30/);
  });

  it('a TypeScript config and a TypeScript module processor load through tsx', async () => {
    const fx = nbaFixture({ skip: ['2025-11-14'] });
    track(fx.cleanup);
    fx.write(
      'proc.mts',
      `import { buildPlayerGameSummary } from ${JSON.stringify(EXAMPLE_PROCESSOR)};
import { createRequire } from 'node:module';
interface Opts { readonly date: string; readonly store: { readonly path: string } }
const Database = createRequire(import.meta.url)(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
export async function run({ date, store }: Opts): Promise<{ rows: number }> {
  const db = new Database(store.path);
  try { return buildPlayerGameSummary(db, date); } finally { db.close(); }
}
`,
    );
    fx.write(
      'smart-backfill.config.mts',
      `const policy: { minRecordsPerDate: number } = { minRecordsPerDate: 30 };
export default {
  store: { type: 'sqlite', path: './nba.db' },
  processors: [{
    name: 'ts_proc',
    schedule: { table: 'game_schedule', dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final'] },
    target: { table: 'player_game_summary', dateColumn: 'game_date' },
    policy,
    module: './proc.mts',
  }],
};
`,
    );
    const r = await cli(['run', 'ts_proc', '--date', '2025-11-14', '--backfill', '--json', '--config', 'smart-backfill.config.mts'], {
      cwd: fx.dir,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json<{ outcome: { result: { rows: number } } }>().outcome.result.rows).toBeGreaterThanOrEqual(30);
    expect(fx.rows('2025-11-14')).toBeGreaterThanOrEqual(30);
  });

  it('alert channels are built (and their secrets read) only by commands that can escalate', async () => {
    const fx = nbaFixture({ configExtra: { alerts: [{ type: 'slack', urlEnv: 'SB_TEST_SLACK_URL' }] } });
    track(fx.cleanup);
    const status = await cli(['status', '--today', '2025-11-16'], { cwd: fx.dir, env: {} });
    expect(status.code).toBe(0);
    // An unset secret alone does not stop a run (a broken channel never blocks one): it is a warning.
    const run = await cli(['run', 'player_game_summary', '--date', '2025-11-16'], { cwd: fx.dir, env: {} });
    expect(run.code).not.toBe(2);
    expect(run.errors).toContainEqual(
      expect.stringMatching(/^warning: alert channel cannot deliver: alerts\[0\]\.urlEnv: .*SB_TEST_SLACK_URL/),
    );
    const typo = nbaFixture({ configExtra: { alerts: [{ type: 'log', strem: 'stdout' }] } });
    track(typo.cleanup);
    const bad = await cli(['status'], { cwd: typo.dir });
    expect(bad.code).toBe(2);
    expect(bad.errors.some((l) => /^ {2}alerts\[0\]\.strem: /.test(l))).toBe(true);
  });

  it('every problem at once: a processor mistake, an alert-channel mistake and an unset secret in one error (exit 2)', async () => {
    const fx = nbaFixture({
      configExtra: {
        alerts: [
          { type: 'log' },
          { type: 'slack', urlEnv: 'SB_TEST_SLACK_URL' },
          { type: 'webhook', name: 'oncall', urlenv: 'SB_TEST_ONCALL_URL' },
          { type: 'webhook', name: 'pager', urlEnv: 'SB_TEST_PAGER_URL', headers: { Authorization: { env: 'SB_TEST_PAGER_TOKEN' } } },
        ],
        alertDeadlineMs: 0,
      },
    });
    track(fx.cleanup);
    const file = join(fx.dir, 'smart-backfill.config.json');
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { processors: { policy?: unknown }[] };
    raw.processors[0]!.policy = { lookbackDays: '30' };
    writeFileSync(file, JSON.stringify(raw));
    for (const command of [
      ['check', 'player_game_summary', '--date', '2025-11-16'],
      ['run', 'player_game_summary', '--date', '2025-11-16'],
      ['worker', '--once'],
    ]) {
      const r = await cli(command, { cwd: fx.dir, env: { SB_TEST_PAGER_URL: 'http://127.0.0.1:9/hook' } });
      expect(r.code).toBe(2);
      expect(r.errors).toEqual([
        expect.stringMatching(/^error: .*smart-backfill\.config\.json: 6 problems$/),
        '  processors[0].policy.lookbackDays: expected a whole number >= 1, got "30"',
        expect.stringMatching(/^ {2}alerts\[2\]\.urlenv: unknown field/),
        expect.stringMatching(/^ {2}alerts\[2\]\.urlEnv: /),
        '  alertDeadlineMs: expected a whole number >= 100 and <= 600000, got 0',
        '  alerts[1].urlEnv: environment variable SB_TEST_SLACK_URL is not set',
        '  alerts[3].headers.Authorization.env: environment variable SB_TEST_PAGER_TOKEN is not set',
      ]);
    }
  });

  it('alertDeadlineMs: the longest a run waits for a notice, passed to the guard; a bad value names the field', async () => {
    const fx = nbaFixture({ configExtra: { alertDeadlineMs: 'soon' } });
    track(fx.cleanup);
    const bad = await cli(['status'], { cwd: fx.dir });
    expect(bad.code).toBe(2);
    expect(bad.errors).toEqual([
      expect.stringMatching(/smart-backfill\.config\.json: 1 problem$/),
      '  alertDeadlineMs: expected a whole number >= 100 and <= 600000, got "soon"',
    ]);
    expect(
      resolveConfig({ store: { type: 'sqlite', path: 'a.db' }, processors: [processor], alertDeadlineMs: 750 }, { baseDir: '/srv' })
        .alertDeadlineMs,
    ).toBe(750);
  });

  it('store.type bigquery needs a pubsub queue, and says so (exit 2)', async () => {
    const t = temp();
    t.write('smart-backfill.config.json', {
      store: { type: 'bigquery', dataset: 'nba_processing', projectId: 'my-project' },
      processors: [processor],
    });
    const r = await cli(['status'], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.errors).toEqual([
      'error: store.type "bigquery" keeps no queue: add "queue": { "type": "pubsub", "topic": "...", "subscription": "..." }',
    ]);
  });

  it('store.type bigquery: keyFilename, maximumBytesBilled and labels decode (key file resolved against the config folder), bad values name their path', () => {
    const bigquery = (store: Record<string, unknown>): unknown => ({
      store: { type: 'bigquery', dataset: 'nba_processing', ...store },
      processors: [processor],
    });
    const problems = (raw: unknown): string[] => {
      try {
        resolveConfig(raw, { baseDir: '/srv/pipelines' });
        return [];
      } catch (e) {
        return [...(e as { lines: string[] }).lines].slice(1).map((l) => l.trim());
      }
    };
    const ok = resolveConfig(
      bigquery({
        keyFilename: 'keys/sa.json',
        maximumBytesBilled: 10_000_000_000,
        labels: { app: 'smart-backfill', team: 'nba', env: '' },
      }),
      {
        baseDir: '/srv/pipelines',
      },
    );
    expect(ok.store).toEqual({
      type: 'bigquery',
      dataset: 'nba_processing',
      keyFilename: '/srv/pipelines/keys/sa.json',
      maximumBytesBilled: 10_000_000_000,
      labels: { app: 'smart-backfill', team: 'nba', env: '' },
    });
    // Past 2^53 as a string of digits; an absolute key file is kept as is.
    expect(
      resolveConfig(bigquery({ keyFilename: '/etc/sa.json', maximumBytesBilled: '9000000000000000000' }), { baseDir: '/srv' }).store,
    ).toMatchObject({
      keyFilename: '/etc/sa.json',
      maximumBytesBilled: '9000000000000000000',
    });
    expect(problems(bigquery({ keyFilename: '', maximumBytesBilled: 0, labels: { App: 'x', team: 'NBA Finals' } }))).toEqual([
      'store.keyFilename: expected a key file path, got ""',
      'store.maximumBytesBilled: expected a positive whole number of bytes (or a string of digits), got 0',
      'store.labels.App: expected a label key (lowercase letters, digits, "_" or "-", starting with a letter, at most 63 characters), got "App"',
      'store.labels.team: expected a label value (lowercase letters, digits, "_" or "-", at most 63 characters), got "NBA Finals"',
    ]);
    expect(problems(bigquery({ maximumBytesBilled: '1e9' }))).toEqual([
      'store.maximumBytesBilled: expected a positive whole number of bytes (or a string of digits), got "1e9"',
    ]);
    expect(problems(bigquery({ maximumBytesBilled: 1.5, labels: ['app'] }))).toEqual([
      'store.maximumBytesBilled: expected a positive whole number of bytes (or a string of digits), got 1.5',
      'store.labels: expected an object, got an array',
    ]);
    expect(problems(bigquery({ labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'x'])) }))).toEqual([
      'store.labels: expected at most 64 labels, got 65',
    ]);
    // SQLite has none of these fields.
    expect(problems({ store: { type: 'sqlite', path: 'a.db', labels: { app: 'x' } }, processors: [processor] })).toEqual([
      'store.labels: unknown field (known: type, path, warehouse, busyTimeoutMs, integrityCheck)',
    ]);
  });

  it('init writes a starter config and the schema; a second init refuses to overwrite', async () => {
    const t = temp();
    const r = await cli(['init'], { cwd: t.dir });
    expect(r.code).toBe(0);
    const written = JSON.parse(readFileSync(join(t.dir, 'smart-backfill.config.json'), 'utf8')) as { store: { path: string } };
    expect(written.store).toEqual({ type: 'sqlite', path: './.smart-backfill/tracking.db', warehouse: { path: './warehouse.db' } });
    expect(existsSync(join(t.dir, '.smart-backfill', 'tracking.db'))).toBe(true);
    expect(() => resolveConfig(written, { baseDir: t.dir })).not.toThrow();
    const again = await cli(['init'], { cwd: t.dir });
    expect(again.code).toBe(2);
    expect(again.errors[0]).toMatch(/already exists \(use --force to overwrite it\)$/);
    // The starter warehouse does not exist yet: the check says which file.
    const check = await cli(['check', 'player_game_summary', '--date', '2025-11-16'], { cwd: t.dir });
    expect(check.code).toBe(2);
    expect(check.errors[0]).toMatch(/warehouse ".*warehouse\.db" does not exist/);
    const status = await cli(['status'], { cwd: t.dir });
    expect(status.code).toBe(2);
  });

  it('config that cannot work fails at load, every problem at once: no way to run, a store table, a name SQLite would refuse', async () => {
    const t = temp();
    t.write('smart-backfill.config.json', {
      store: { type: 'sqlite', path: './tracking.db' },
      processors: [
        { name: 'orders', schedule: { table: 'calendar', dateColumn: 'day' }, target: { table: 'orders_daily', dateColumn: 'order_date' } },
        { ...processor, name: 'own', schedule: { table: 'backfill_requests', dateColumn: 'game_date' } },
        { ...processor, name: 'dashed', target: { table: 'orders-daily', dateColumn: 'order_date' } },
        { ...processor, name: 'typo', policy: { lookbackDays: 0 } },
      ],
    });
    const r = await cli(['worker', '--once'], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.errors.slice(1)).toEqual([
      '  processors[3].policy.lookbackDays: expected a whole number >= 1, got 0',
      '  processors[0] ("orders"): give one of command or module (in a JS/TS config: run); without one the worker can never run its backfills',
      `  processors[1].schedule.table ("own"): "backfill_requests" is one of smart-backfill's own tracking tables; name your own table`,
      '  processors[2].target.table ("dashed"): "orders-daily" is not a SQLite table name (letters, digits and _ (not starting with a digit), at most 128 characters; optionally schema.table)',
    ]);
    expect(existsSync(join(t.dir, 'tracking.db'))).toBe(false);
  });

  it('BigQuery: a schedule or target inside the tracking dataset is refused (the tracking dataset holds only smart-backfill tables)', async () => {
    const t = temp();
    t.write('smart-backfill.config.json', {
      store: { type: 'bigquery', dataset: 'smart_backfill', projectId: 'my-project' },
      queue: { type: 'pubsub', topic: 't', subscription: 's' },
      processors: [{ ...processor, target: { table: 'my-project.smart_backfill.player_game_summary', dateColumn: 'game_date' } }],
    });
    const r = await cli(['status'], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.errors[1]).toMatch(
      /processors\[0\]\.target\.table .*is in the tracking dataset "smart_backfill"; keep your tables in a dataset of their own/,
    );
  });
});
