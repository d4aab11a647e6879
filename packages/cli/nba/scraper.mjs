// The raw level: `box_scores` scrapes one date's box scores into box_scores_raw. The "feed"
// is the seeded season generator, so a re-scrape (a backfill) returns the same rows.
import Database from 'better-sqlite3';
import { boxScore, generateSeason } from './season.mjs';
import { insertBoxScores } from './schema.mjs';

/**
 * Scrape the box scores of `date`'s final games. `gamesLimit` keeps only the first few
 * games (a feed that had not published the rest yet).
 * @returns {{ date: string, finalGames: number, gamesScraped: number, rows: number }}
 */
export const scrapeBoxScores = (db, season, date, { seed = 20251116, gamesLimit } = {}) => {
  const final = new Set(
    db.prepare("SELECT game_id FROM game_schedule WHERE game_date = ? AND game_status IN ('Final', 'Completed')").pluck().all(date),
  );
  const games = season.games.filter((g) => g.gameDate === date && final.has(g.gameId)).slice(0, gamesLimit ?? Infinity);
  let rows = 0;
  for (const g of games) rows += insertBoxScores(db, boxScore(g, season.players, seed));
  return { date, finalGames: final.size, gamesScraped: games.length, rows };
};

/** The module-processor contract (`"module": "./scraper.mjs"`): scrape the date into the configured SQLite file. */
export async function run({ date, store }) {
  if (store.type !== 'sqlite') throw new Error(`this example scraper writes SQLite; the store is ${store.type}`);
  const db = new Database(store.path);
  db.pragma('busy_timeout = 5000');
  try {
    return scrapeBoxScores(db, generateSeason(), date);
  } finally {
    db.close();
  }
}
