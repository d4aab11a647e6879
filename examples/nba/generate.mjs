#!/usr/bin/env node
// Build an example database to try the CLI on:
//   node examples/nba/generate.mjs --db examples/nba/nba.db --through 2025-11-16 --build --skip 2025-11-15
// creates the tables, loads the season's schedule, plays every day through --through
// (games Final, raw box scores scraped) and, with --build, builds player_game_summary
// for each day except the --skip ones, and team_rolling_10d for each day whose ten-day
// window has no skipped day (a guarded run would be held for it); --lose DATE never
// scrapes that day's box scores (a raw day lost). Then, from examples/nba:
//   node ../../packages/cli/dist/bin.js check player_game_summary --date 2025-11-16
import Database from 'better-sqlite3';
import { parseArgs } from 'node:util';
import { boxScore, generateSeason } from './season.mjs';
import { createNbaTables, insertBoxScores, loadSchedule, markFinal } from './schema.mjs';
import { buildPlayerGameSummary } from './processor.mjs';
import { buildTeamRolling, ROLLING_DAYS } from './team-rolling.mjs';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'nba.db' },
    through: { type: 'string', default: '2025-11-16' },
    seed: { type: 'string', default: '20251116' },
    build: { type: 'boolean', default: false },
    skip: { type: 'string', multiple: true, default: [] },
    // A raw day lost: its box scores were never scraped (so nothing is built from it either).
    lose: { type: 'string', multiple: true, default: [] },
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
for (const g of played)
  if (!values.lose.includes(g.gameDate)) rows += insertBoxScores(db, boxScore(g, season.players, Number(values.seed)));
const unbuilt = [...values.skip, ...values.lose];
let built = 0;
let rolling = 0;
const windowOf = (date) => new Date(Date.parse(`${date}T00:00:00Z`) - (ROLLING_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
if (values.build) {
  for (const date of [...new Set(played.map((g) => g.gameDate))]) {
    if (unbuilt.includes(date) || date >= values.through) continue;
    built += buildPlayerGameSummary(db, date).rows;
    if (!unbuilt.some((s) => s >= windowOf(date) && s <= date)) rolling += buildTeamRolling(db, date).teams;
  }
}
db.close();
console.log(
  `${values.db}: ${played.length} games through ${values.through}, ${rows} raw box-score rows${values.build ? `, ${built} summary rows and ${rolling} team rows built (skipped: ${unbuilt.join(', ') || 'none'})` : ''}`,
);
