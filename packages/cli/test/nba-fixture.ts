import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { boxScore, generateSeason } from '../../../examples/nba/season.mjs';
import { createNbaTables, insertBoxScores, loadSchedule, markFinal } from '../../../examples/nba/schema.mjs';
import { buildPlayerGameSummary } from '../../../examples/nba/processor.mjs';
import { tempDir } from './helpers.js';

export const EXAMPLE_PROCESSOR = fileURLToPath(new URL('../../../examples/nba/processor.mjs', import.meta.url));

/**
 * A temp folder with `nba.db`: the season's schedule, games final and box scores
 * scraped through `through`, summaries built for every earlier date except `skip`.
 * Plus a config with the example module processor and a command processor.
 */
export const nbaFixture = (opts: { through?: string; skip?: readonly string[]; configExtra?: Record<string, unknown> } = {}) => {
  const t = tempDir('sb-cli-nba-');
  const through = opts.through ?? '2025-11-16';
  const dbPath = join(t.dir, 'nba.db');
  const season = generateSeason();
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  createNbaTables(db);
  loadSchedule(db, season);
  const played = season.games.filter((g) => g.gameDate <= through);
  markFinal(
    db,
    played.map((g) => g.gameId),
  );
  for (const g of played) insertBoxScores(db, boxScore(g, season.players));
  const dates = [...new Set(played.map((g) => g.gameDate))].filter((d) => d < through);
  for (const d of dates) if (!(opts.skip ?? []).includes(d)) buildPlayerGameSummary(db, d);
  db.close();
  // A command processor: a script that builds one date, given on its argv.
  t.write(
    'build.mjs',
    `import Database from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href)};
import { buildPlayerGameSummary } from ${JSON.stringify(pathToFileURL(EXAMPLE_PROCESSOR).href)};
const i = process.argv.indexOf('--date');
const date = process.argv[i + 1];
if (process.env.FAIL_BUILD === '1') { console.error('warming up'); console.error('upstream returned 503 for ' + date); process.exit(7); }
const db = new Database(${JSON.stringify(dbPath)});
db.pragma('busy_timeout = 5000');
const r = buildPlayerGameSummary(db, date);
db.close();
console.log(JSON.stringify(r));
`,
  );
  const processor = (name: string, rest: Record<string, unknown>) => ({
    name,
    schedule: { table: 'game_schedule', dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final', 'Completed'] },
    target: { table: 'player_game_summary', dateColumn: 'game_date' },
    policy: { minRecordsPerDate: 30 },
    ...rest,
  });
  const config = {
    store: { type: 'sqlite', path: './nba.db' },
    processors: [
      processor('player_game_summary', { module: EXAMPLE_PROCESSOR }),
      processor('summary_cmd', { command: ['node', join(t.dir, 'build.mjs'), '--date', '{date}'] }),
      processor('summary_fail', { command: `node "${join(t.dir, 'build.mjs')}" --date {date}`, env: { FAIL_BUILD: '1' } }),
    ],
    ...opts.configExtra,
  };
  t.write('smart-backfill.config.json', config);
  const query = <T>(sql: string, ...params: unknown[]): T => {
    const d = new Database(dbPath);
    try {
      return d.prepare(sql).all(...params) as T;
    } finally {
      d.close();
    }
  };
  const exec = (sql: string, ...params: unknown[]): void => {
    const d = new Database(dbPath);
    try {
      d.prepare(sql).run(...params);
    } finally {
      d.close();
    }
  };
  const rows = (date: string): number =>
    query<{ n: number }[]>('SELECT count(*) AS n FROM player_game_summary WHERE game_date = ?', date)[0]?.n ?? 0;
  return { ...t, dbPath, season, config, query, exec, rows };
};
