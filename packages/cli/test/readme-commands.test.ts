// README.md's commands, run as printed: the quick start and "Using it on your own tables".
// `npm ci` itself is skipped (this run already has the install it makes); everything else is literal.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { boxScore, generateSeason } from '../nba/season.mjs';
import { createNbaTables, insertBoxScores, loadSchedule, markFinal } from '../nba/schema.mjs';
import { buildPlayerGameSummary } from '../nba/processor.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The shell commands of the `sh` blocks of one `## ` section, comments and blank lines dropped. */
const commandsOf = (heading: string): string[] => {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "## ${heading}"`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    (m[1] ?? '')
      .split('\n')
      .map((l) => l.replace(/\s+#\s.*$/, '').trim())
      .filter((l) => l !== '' && !l.startsWith('#')),
  );
};

// The npm_* variables of an enclosing `npm test` would point npm elsewhere; no registry either.
const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const env = {
  ...inherited,
  PATH: `${join(root, 'node_modules', '.bin')}:${process.env['PATH'] ?? ''}`,
  npm_config_offline: 'true',
  npm_config_update_notifier: 'false',
  NO_COLOR: '1',
  // "yesterday" in the README's cron line is Nov 16.
  SMART_BACKFILL_NOW: '2025-11-17T06:00:00Z',
};
const shell = (command: string, cwd: string) => {
  const r = spawnSync('sh', ['-c', command], { cwd, env, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
};

// Inside the clone (gitignored), where the README says to run them: npx finds the command there.
mkdirSync(join(root, '.smart-backfill'), { recursive: true });
const dir = mkdtempSync(join(root, '.smart-backfill', 'readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README.md quick start', () => {
  const commands = commandsOf('Quick start');

  it('is two commands: install and demo, then the tests', () => {
    expect(commands).toEqual(['npm ci && npm run demo', 'npm test']);
    // `npm test` is the command running this file; it is checked to be the project's test script, not re-entered.
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.test).toBe('node scripts/test.mjs');
  });

  it('npm run demo plays the season (after npm ci)', () => {
    const r = shell((commands[0] ?? '').replace(/^npm ci && /, ''), root);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout).toContain('smart-backfill demo: an NBA season');
    expect(r.stdout).toContain('gap calendar report:');
  }, 240_000);
});

describe('npx smart-backfill on a fresh clone', () => {
  it('has a bin file in git, so npm ci links it before anything is built', () => {
    // npm skips a bin whose file does not exist yet: a bin in dist/ is never linked by `npm ci`.
    const pkg = JSON.parse(readFileSync(join(root, 'packages', 'cli', 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const target = join('packages', 'cli', pkg.bin['smart-backfill'] ?? '');
    const tracked = spawnSync('git', ['ls-files', '--error-unmatch', target], { cwd: root, encoding: 'utf8' });
    expect(tracked.status, `${target} is not tracked by git`).toBe(0);
  });
});

describe('README.md "Using it on your own tables", every command as printed', () => {
  const commands = commandsOf('Using it on your own tables');

  it('lists init, check, run --date yesterday and worker --once', () => {
    expect(commands).toEqual([
      'npx smart-backfill init',
      'npx smart-backfill check player_game_summary --date 2025-11-16',
      'npx smart-backfill run player_game_summary --date yesterday',
      'npx smart-backfill worker --once',
    ]);
  });

  /** Steps 2 and 3, as a user does them: their tables (the NBA example's), a sensible minimum, the command `init` names. */
  const pointAtTables = (): void => {
    const file = join(dir, 'smart-backfill.config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as {
      store: { path: string; warehouse?: { path: string } };
      processors: { policy: Record<string, unknown>; command?: unknown }[];
    };
    const p = cfg.processors[0]!;
    p.policy['minRecordsPerDate'] = 30;
    expect(p.command).toBe('node build-summary.js --date {date}');
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    const warehouse = join(dir, cfg.store.warehouse?.path ?? cfg.store.path);
    const season = generateSeason();
    const db = new Database(warehouse);
    createNbaTables(db);
    loadSchedule(db, season);
    const played = season.games.filter((g) => g.gameDate <= '2025-11-16');
    markFinal(
      db,
      played.map((g) => g.gameId),
    );
    for (const g of played) insertBoxScores(db, boxScore(g, season.players));
    for (const d of new Set(played.map((g) => g.gameDate))) if (d < '2025-11-15') buildPlayerGameSummary(db, d);
    db.close();
    const processor = pathToFileURL(fileURLToPath(new URL('../nba/processor.mjs', import.meta.url))).href;
    writeFileSync(
      join(dir, 'build-summary.js'),
      `import Database from 'better-sqlite3';
import { buildPlayerGameSummary } from ${JSON.stringify(processor)};
const db = new Database(${JSON.stringify(warehouse)});
db.pragma('busy_timeout = 5000');
console.log(JSON.stringify(buildPlayerGameSummary(db, process.argv[process.argv.indexOf('--date') + 1])));
db.close();
`,
    );
  };

  it('init, then check, run and worker behave as the README says', () => {
    const [init, check, run, worker] = commands as [string, string, string, string];
    const i = shell(init, dir);
    expect(i.code, i.all).toBe(0);
    pointAtTables();
    // Nov 15 was never built: the dry run would queue it (exit 3) and writes nothing.
    const c = shell(check, dir);
    expect(c.code, c.all).toBe(3);
    expect(c.stdout).toContain('2025-11-15');
    const r = shell(run, dir);
    expect(r.stderr).toContain('date: yesterday → 2025-11-16 (UTC)');
    expect(r.code, r.all).toBe(3);
    const w = shell(worker, dir);
    expect(w.code, w.all).toBe(0);
    expect(w.stdout).toMatch(/done: 1 filled, 1 held run\(s\) resumed/);
  }, 120_000);
});

describe('README.md "The command line" examples', () => {
  it('run from the clone as printed', () => {
    const [scenario, piped] = commandsOf('The command line') as [string, string];
    expect(shell(scenario, root).code).toBe(3);
    const p = shell(piped, root);
    expect(JSON.parse(p.stdout)).toMatchObject({ decision: { _tag: 'Backfill' } });
  });
});
