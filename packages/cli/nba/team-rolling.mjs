// The third level: team_rolling_10d, per team and game day, the team's averages over its
// games in the ten days ending that day, read from player_game_summary. Idempotent: it replaces
// the date's rows in one transaction.
import Database from 'better-sqlite3';

/** The days a date's rolling averages read: the date and the nine before it. */
export const ROLLING_DAYS = 10;

const minus = (date, days) => new Date(Date.parse(`${date}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

/**
 * Build `date`'s rows of team_rolling_10d. `inputDays` counts the game days of the window;
 * `missingInputDays` lists those with no player_game_summary rows (a guarded run never has any).
 * @returns {{ date: string, teams: number, inputDays: number, missingInputDays: string[] }}
 */
export const buildTeamRolling = (db, date, { now = () => new Date().toISOString() } = {}) => {
  const from = minus(date, ROLLING_DAYS - 1);
  const del = db.prepare('DELETE FROM team_rolling_10d WHERE game_date = ?');
  // Like the schedule it is judged by, the table has rows on game days only.
  const playedToday = db
    .prepare("SELECT count(*) FROM game_schedule WHERE game_date = ? AND game_status IN ('Final', 'Completed')")
    .pluck()
    .get(date);
  if (playedToday === 0) {
    del.run(date);
    return { date, teams: 0, inputDays: 0, missingInputDays: [] };
  }
  const gameDays = db
    .prepare(
      "SELECT DISTINCT game_date FROM game_schedule WHERE game_date BETWEEN ? AND ? AND game_status IN ('Final', 'Completed') ORDER BY 1",
    )
    .pluck()
    .all(from, date);
  const built = new Set(
    db.prepare('SELECT DISTINCT game_date FROM player_game_summary WHERE game_date BETWEEN ? AND ?').pluck().all(from, date),
  );
  const teams = db
    .prepare(
      `SELECT team, count(*) AS games, round(avg(points), 1) AS points, round(avg(game_score), 2) AS game_score
       FROM (SELECT team, game_id, sum(points) AS points, sum(game_score) AS game_score
             FROM player_game_summary WHERE game_date BETWEEN ? AND ? GROUP BY team, game_id)
       GROUP BY team ORDER BY team`,
    )
    .all(from, date);
  const ins = db.prepare(
    'INSERT INTO team_rolling_10d (game_date, team, games, avg_points, avg_game_score, processed_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const at = now();
  db.transaction(() => {
    del.run(date);
    for (const t of teams) ins.run(date, t.team, t.games, t.points, t.game_score, at);
  })();
  return { date, teams: teams.length, inputDays: gameDays.length, missingInputDays: gameDays.filter((d) => !built.has(d)) };
};

/** The module-processor contract (`"module": "./team-rolling.mjs"`). */
export async function run({ date, store }) {
  if (store.type !== 'sqlite') throw new Error(`this example processor reads SQLite; the store is ${store.type}`);
  const db = new Database(store.path);
  db.pragma('busy_timeout = 5000');
  try {
    return buildTeamRolling(db, date);
  } finally {
    db.close();
  }
}
