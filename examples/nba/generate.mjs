#!/usr/bin/env node
// Build an example database to try the CLI on:
//   node examples/nba/generate.mjs --db examples/nba/nba.db --through 2025-11-16 --build --skip 2025-11-15
// creates the tables, loads the season's schedule, plays every day through --through
// (games Final, raw box scores scraped) and, with --build, runs the processor for
// each day except the --skip ones. Then, from examples/nba:
//   node ../../packages/cli/dist/bin.js check player_game_summary --date 2025-11-16
import Database from 'better-sqlite3';
import { parseArgs } from 'node:util';
import { boxScore, generateSeason } from './season.mjs';
import { createNbaTables, insertBoxScores, loadSchedule, markFinal } from './schema.mjs';
import { buildPlayerGameSummary } from './processor.mjs';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'nba.db' },
    through: { type: 'string', default: '2025-11-16' },
    seed: { type: 'string', default: '20251116' },
    build: { type: 'boolean', default: false },
    skip: { type: 'string', multiple: true, default: [] },
  },
});
if (!/^\d{4}-\d{2}-\d{2}$/.test(values.through)) {
  console.error(`--through: expected YYYY-MM-DD, got ${JSON.stringify(values.through)}`);
  process.exit(2);
}
const season = generateSeason({ seed: Number(values.seed) });
const db = new Database(values.db);
db.pragma('journal_mode = WAL');
createNbaTables(db);
loadSchedule(db, season);
let rows = 0;
const played = season.games.filter((g) => g.gameDate <= values.through);
markFinal(
  db,
  played.map((g) => g.gameId),
);
for (const g of played) rows += insertBoxScores(db, boxScore(g, season.players, Number(values.seed)));
let built = 0;
if (values.build) {
  for (const date of [...new Set(played.map((g) => g.gameDate))]) {
    if (values.skip.includes(date) || date >= values.through) continue;
    built += buildPlayerGameSummary(db, date).rows;
  }
}
db.close();
console.log(
  `${values.db}: ${played.length} games through ${values.through}, ${rows} raw box-score rows${values.build ? `, ${built} summary rows built (skipped: ${values.skip.join(', ') || 'none'})` : ''}`,
);
