// The processor: builds player_game_summary for one date from the raw box scores
// of that date's finished games. Idempotent: it replaces the date's rows in one
// transaction, so a backfill or a resumed run can run it again safely.
import Database from 'better-sqlite3';

const round = (x, digits = 3) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null);

/** Hollinger's game score. */
export const gameScore = (r) =>
  r.pts +
  0.4 * r.fgm -
  0.7 * r.fga -
  0.4 * (r.fta - r.ftm) +
  0.7 * r.oreb +
  0.3 * r.dreb +
  r.stl +
  0.7 * r.ast +
  0.7 * r.blk -
  0.4 * r.pf -
  r.tov;

/** True shooting: points per two shooting possessions. */
export const trueShooting = (r) => (r.fga + 0.44 * r.fta > 0 ? r.pts / (2 * (r.fga + 0.44 * r.fta)) : null);

/**
 * Build the summary rows of `date` from box_scores_raw.
 * Throws when games are final but no box score arrived at all (nothing to build from);
 * a partial delivery is built as is — the row-count check is what catches it.
 * @returns {{ date: string, finalGames: number, gamesWithBoxScores: number, rows: number }}
 */
export const buildPlayerGameSummary = (db, date, { now = () => new Date().toISOString() } = {}) => {
  const finalGames = db
    .prepare("SELECT count(*) FROM game_schedule WHERE game_date = ? AND game_status IN ('Final', 'Completed')")
    .pluck()
    .get(date);
  const raw = db
    .prepare(
      `SELECT b.* FROM box_scores_raw b JOIN game_schedule s ON s.game_id = b.game_id
       WHERE b.game_date = ? AND s.game_status IN ('Final', 'Completed') ORDER BY b.game_id, b.team, b.player_id`,
    )
    .all(date);
  if (finalGames > 0 && raw.length === 0) throw new Error(`no box scores for ${date} yet (${finalGames} games final)`);
  const games = new Set(raw.map((r) => r.game_id));
  const del = db.prepare('DELETE FROM player_game_summary WHERE game_date = ?');
  const ins = db.prepare(
    `INSERT INTO player_game_summary (game_date, game_id, player_id, player_name, team, opponent, is_home, minutes, points, rebounds,
       assists, fg_pct, three_pct, true_shooting_pct, game_score, processed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const at = now();
  db.transaction(() => {
    del.run(date);
    for (const r of raw) {
      ins.run(
        date,
        r.game_id,
        r.player_id,
        r.player_name,
        r.team,
        r.opponent,
        r.is_home,
        r.minutes,
        r.pts,
        r.oreb + r.dreb,
        r.ast,
        r.fga > 0 ? round(r.fgm / r.fga) : null,
        r.fg3a > 0 ? round(r.fg3m / r.fg3a) : null,
        round(trueShooting(r)),
        round(gameScore(r), 1),
        at,
      );
    }
  })();
  return { date, finalGames, gamesWithBoxScores: games.size, rows: raw.length };
};

/**
 * The module-processor contract of `smart-backfill run` / `worker`
 * (`"module": "./processor.mjs"` in the config): open the configured SQLite file and build the date.
 */
export async function run({ date, store }) {
  if (store.type !== 'sqlite') throw new Error(`this example processor reads SQLite; the store is ${store.type}`);
  const db = new Database(store.path);
  db.pragma('busy_timeout = 5000');
  try {
    return buildPlayerGameSummary(db, date);
  } finally {
    db.close();
  }
}
