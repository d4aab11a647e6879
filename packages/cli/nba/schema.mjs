// The example's own tables, next to smart-backfill's in the same SQLite file:
// the schedule (nba_raw.game_schedule in the seed), the scraped box scores, the table
// the processor builds from them (nba_analytics.player_game_summary), and the team
// rolling averages built from that (the seed's precomputed features).

export const NBA_SCHEMA = `
CREATE TABLE IF NOT EXISTS game_schedule (
  game_id     TEXT PRIMARY KEY,
  game_date   TEXT NOT NULL,
  home_team   TEXT NOT NULL,
  away_team   TEXT NOT NULL,
  game_status TEXT NOT NULL DEFAULT 'Scheduled'
);
CREATE INDEX IF NOT EXISTS game_schedule_date ON game_schedule (game_date, game_status);

CREATE TABLE IF NOT EXISTS box_scores_raw (
  game_id TEXT NOT NULL, game_date TEXT NOT NULL, team TEXT NOT NULL, opponent TEXT NOT NULL, is_home INTEGER NOT NULL,
  player_id TEXT NOT NULL, player_name TEXT NOT NULL, minutes INTEGER NOT NULL,
  fgm INTEGER NOT NULL, fga INTEGER NOT NULL, fg3m INTEGER NOT NULL, fg3a INTEGER NOT NULL, ftm INTEGER NOT NULL, fta INTEGER NOT NULL,
  oreb INTEGER NOT NULL, dreb INTEGER NOT NULL, ast INTEGER NOT NULL, stl INTEGER NOT NULL, blk INTEGER NOT NULL,
  tov INTEGER NOT NULL, pf INTEGER NOT NULL, pts INTEGER NOT NULL,
  PRIMARY KEY (game_id, player_id)
);
CREATE INDEX IF NOT EXISTS box_scores_raw_date ON box_scores_raw (game_date);

CREATE TABLE IF NOT EXISTS player_game_summary (
  game_date TEXT NOT NULL, game_id TEXT NOT NULL, player_id TEXT NOT NULL, player_name TEXT NOT NULL,
  team TEXT NOT NULL, opponent TEXT NOT NULL, is_home INTEGER NOT NULL, minutes INTEGER NOT NULL,
  points INTEGER NOT NULL, rebounds INTEGER NOT NULL, assists INTEGER NOT NULL,
  fg_pct REAL, three_pct REAL, true_shooting_pct REAL, game_score REAL NOT NULL,
  processed_at TEXT NOT NULL,
  PRIMARY KEY (game_date, game_id, player_id)
);

CREATE TABLE IF NOT EXISTS team_rolling_10d (
  game_date TEXT NOT NULL, team TEXT NOT NULL, games INTEGER NOT NULL,
  avg_points REAL NOT NULL, avg_game_score REAL NOT NULL, processed_at TEXT NOT NULL,
  PRIMARY KEY (game_date, team)
);
`;

/** Create the example tables (idempotent). `db` is a better-sqlite3 connection. */
export const createNbaTables = (db) => {
  db.exec(NBA_SCHEMA);
};

/** Put the whole season's schedule in, every game `Scheduled` until it is played. */
export const loadSchedule = (db, season) => {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO game_schedule (game_id, game_date, home_team, away_team, game_status) VALUES (?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (const g of season.games) insert.run(g.gameId, g.gameDate, g.homeTeam, g.awayTeam, 'Scheduled');
  })();
};

/** Mark a game played (`Final`). */
export const markFinal = (db, gameIds) => {
  const stmt = db.prepare("UPDATE game_schedule SET game_status = 'Final' WHERE game_id = ?");
  db.transaction(() => {
    for (const id of gameIds) stmt.run(id);
  })();
};

const COLUMNS = [
  'game_id',
  'game_date',
  'team',
  'opponent',
  'is_home',
  'player_id',
  'player_name',
  'minutes',
  'fgm',
  'fga',
  'fg3m',
  'fg3a',
  'ftm',
  'fta',
  'oreb',
  'dreb',
  'ast',
  'stl',
  'blk',
  'tov',
  'pf',
  'pts',
];

/** What the scraper does: store raw box-score rows (re-scraping the same game replaces them). */
export const insertBoxScores = (db, rows) => {
  const stmt = db.prepare(
    `INSERT OR REPLACE INTO box_scores_raw (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  db.transaction(() => {
    for (const r of rows) stmt.run(r);
  })();
  return rows.length;
};
