import type Database from 'better-sqlite3';
import { SqliteStoreError } from './errors.js';

/** Bumped by each migration; stored in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 4;

/** Tables (and views) this package owns in the file; user tables must not use these names. */
export const STORE_TABLES = [
  'backfill_requests',
  'backfill_queue',
  'analytics_processor_runs',
  'held_runs',
  'backfill_alerts',
  'backfill_requests_view',
  'analytics_processor_runs_view',
] as const;

/**
 * Timestamps are epoch milliseconds (INTEGER). The request and run tables also get a
 * `*_view` with ISO-8601 text timestamps for ad-hoc queries, so the seed's monitoring SQL
 * ports almost word for word (`json_extract(metadata, '$.gap_size')`).
 */
const MIGRATIONS: ReadonlyArray<string> = [
  // 1: everything
  `
  CREATE TABLE backfill_requests (
    request_id       TEXT PRIMARY KEY NOT NULL,
    processor_name   TEXT NOT NULL,
    game_date        TEXT NOT NULL,             -- YYYY-MM-DD
    request_type     TEXT NOT NULL,             -- 'auto' | 'manual'
    priority         TEXT NOT NULL,             -- 'high' | 'normal' | 'low'
    requested_at     INTEGER NOT NULL,          -- epoch ms
    requested_by     TEXT NOT NULL,
    trigger_reason   TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued','processing','completed','failed')),
    attempt          INTEGER NOT NULL DEFAULT 0, -- claims (the fencing token)
    failures         INTEGER NOT NULL DEFAULT 0, -- real failures: one per Fail; lapsed claims do not count
    gave_up          INTEGER NOT NULL DEFAULT 0 CHECK (gave_up IN (0, 1)), -- the last Fail was final (e.g. a poison job)
    started_at       INTEGER,
    completed_at     INTEGER,
    error_message    TEXT,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    published_at     INTEGER,
    not_before       INTEGER,
    metadata         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    updated_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 0 -- compare-and-set token, bumped by every write
  ) STRICT;
  -- At most one active request per (processor, date), whatever process inserts it.
  CREATE UNIQUE INDEX backfill_requests_one_active
    ON backfill_requests(processor_name, game_date) WHERE status IN ('queued','processing');
  CREATE INDEX backfill_requests_window ON backfill_requests(processor_name, game_date);
  CREATE INDEX backfill_requests_requested ON backfill_requests(requested_at);
  CREATE INDEX backfill_requests_unpublished ON backfill_requests(requested_at)
    WHERE status = 'queued' AND published_at IS NULL;
  CREATE INDEX backfill_requests_leases ON backfill_requests(lease_expires_at) WHERE status = 'processing';

  CREATE TABLE backfill_queue (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,  -- publish order; also the transport message id
    message_key      TEXT NOT NULL,             -- QueueMessage.id (the request id)
    data             TEXT NOT NULL,
    attributes       TEXT NOT NULL CHECK (json_valid(attributes)),
    ordering_key     TEXT,
    state            TEXT NOT NULL CHECK (state IN ('ready','leased','acked','dead')),
    delivery_attempt INTEGER NOT NULL DEFAULT 0,
    delivery_id      TEXT,                      -- the current lease; acks from older leases are ignored
    visible_at       INTEGER NOT NULL,          -- epoch ms: not delivered before
    lease_expires_at INTEGER,
    published_at     INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    dead_reason      TEXT
  ) STRICT;
  -- Publishing a message whose id is already waiting or leased is a no-op (outbox republish).
  CREATE UNIQUE INDEX backfill_queue_one_pending ON backfill_queue(message_key) WHERE state IN ('ready','leased');
  CREATE INDEX backfill_queue_ready ON backfill_queue(visible_at, seq) WHERE state = 'ready';
  CREATE INDEX backfill_queue_leased ON backfill_queue(lease_expires_at, seq) WHERE state = 'leased';
  CREATE INDEX backfill_queue_state ON backfill_queue(state, updated_at);

  CREATE TABLE analytics_processor_runs (
    run_id          TEXT PRIMARY KEY NOT NULL,
    processor_name  TEXT NOT NULL,
    run_date        TEXT NOT NULL,              -- YYYY-MM-DD: the date the run is for
    run_trigger     TEXT NOT NULL,             -- scheduled | backfill | resume | manual | cascade
    is_backfill     INTEGER NOT NULL CHECK (is_backfill IN (0,1)),
    outcome         TEXT NOT NULL CHECK (outcome IN ('succeeded','failed','skipped')),
    success         INTEGER GENERATED ALWAYS AS (outcome <> 'failed') VIRTUAL,  -- the seed's success flag
    skip_reason     TEXT,
    error_message   TEXT,
    started_at      INTEGER NOT NULL,           -- epoch ms
    finished_at     INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    metadata        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata))
  ) STRICT;
  CREATE INDEX analytics_processor_runs_started ON analytics_processor_runs(started_at);
  CREATE INDEX analytics_processor_runs_processor ON analytics_processor_runs(processor_name, started_at);

  CREATE TABLE held_runs (
    processor_name  TEXT NOT NULL,
    run_date        TEXT NOT NULL,
    held_at         INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    waiting_for     TEXT NOT NULL CHECK (json_valid(waiting_for)),  -- JSON array of YYYY-MM-DD
    status          TEXT NOT NULL CHECK (status IN ('held','resumed','cancelled')),
    released_at     INTEGER,
    PRIMARY KEY (processor_name, run_date)
  ) STRICT;
  CREATE INDEX held_runs_status ON held_runs(status, run_date);

  CREATE TABLE backfill_alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_key       TEXT NOT NULL,
    processor_name  TEXT NOT NULL,
    reason          TEXT NOT NULL,
    run_date        TEXT NOT NULL,
    missing_dates   TEXT NOT NULL CHECK (json_valid(missing_dates)),
    last_error      TEXT,
    opened_at       INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_sent_at    INTEGER,
    send_count      INTEGER NOT NULL DEFAULT 0,
    resolved_at     INTEGER
  ) STRICT;
  -- One open alert per key; a healed gap that reopens gets a new row.
  CREATE UNIQUE INDEX backfill_alerts_one_open ON backfill_alerts(alert_key) WHERE resolved_at IS NULL;
  CREATE INDEX backfill_alerts_processor ON backfill_alerts(processor_name, opened_at);

  CREATE VIEW backfill_requests_view AS
    SELECT *,
      strftime('%Y-%m-%dT%H:%M:%fZ', requested_at / 1000.0, 'unixepoch') AS requested_at_iso,
      strftime('%Y-%m-%dT%H:%M:%fZ', started_at / 1000.0, 'unixepoch') AS started_at_iso,
      strftime('%Y-%m-%dT%H:%M:%fZ', completed_at / 1000.0, 'unixepoch') AS completed_at_iso,
      (completed_at - started_at) / 60000.0 AS duration_min
    FROM backfill_requests;
  CREATE VIEW analytics_processor_runs_view AS
    SELECT *,
      strftime('%Y-%m-%dT%H:%M:%fZ', started_at / 1000.0, 'unixepoch') AS started_at_iso,
      date(started_at / 1000.0, 'unixepoch') AS started_on
    FROM analytics_processor_runs;
  `,
  // 2: alert delivery state, so an undelivered notice is visible and retried
  `
  ALTER TABLE backfill_alerts ADD COLUMN send_failures INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE backfill_alerts ADD COLUMN last_send_error TEXT;
  ALTER TABLE backfill_alerts ADD COLUMN last_send_failed_at INTEGER;
  `,
  // 3: resume claims. SQLite cannot widen a CHECK in place, so held_runs is rebuilt.
  `
  CREATE TABLE held_runs_v2 (
    processor_name  TEXT NOT NULL,
    run_date        TEXT NOT NULL,
    held_at         INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    waiting_for     TEXT NOT NULL CHECK (json_valid(waiting_for)),  -- JSON array of YYYY-MM-DD
    status          TEXT NOT NULL CHECK (status IN ('held','resuming','resumed','cancelled')),
    released_at     INTEGER,
    claimed_by      TEXT,                       -- the resumer holding (or last holding) the claim
    claimed_at      INTEGER,
    lease_until     INTEGER,                    -- past it, another resumer may take the run over
    claims          INTEGER NOT NULL DEFAULT 0, -- claims ever made: the fencing token, never reset
    resume_run_id   TEXT,                       -- the run record of the re-run that resumed it
    PRIMARY KEY (processor_name, run_date)
  ) STRICT;
  INSERT INTO held_runs_v2 (processor_name, run_date, held_at, reason, waiting_for, status, released_at)
    SELECT processor_name, run_date, held_at, reason, waiting_for, status, released_at FROM held_runs;
  DROP TABLE held_runs;
  ALTER TABLE held_runs_v2 RENAME TO held_runs;
  CREATE INDEX held_runs_status ON held_runs(status, run_date);
  `,
  // 4: \`runLog.lastBuilds\` (what \`plan\` reads) answered from an index alone, already grouped:
  // a year of a hundred processors is ~36,000 groups, sorted in a temporary tree otherwise.
  `
  CREATE INDEX analytics_processor_runs_last_builds
    ON analytics_processor_runs(processor_name, run_date, started_at, finished_at) WHERE outcome = 'succeeded';
  `,
];

/**
 * Bring the file to `SCHEMA_VERSION`. Idempotent and safe to race: each step runs in
 * a `BEGIN IMMEDIATE` transaction that re-reads `user_version` once it holds the lock,
 * so two processes opening a new file migrate it once. A file written by a newer
 * version is refused rather than guessed at. `upTo` stops at an older version (tests of
 * the later migrations build an old file with it).
 */
export const migrate = (db: Database.Database, upTo: number = MIGRATIONS.length): number => {
  const read = (): number => db.pragma('user_version', { simple: true }) as number;
  const current = read();
  if (current > MIGRATIONS.length) {
    throw new SqliteStoreError(
      `database "${db.name}" has schema version ${current}, newer than this package knows (${MIGRATIONS.length}); upgrade @smart-backfill/sqlite`,
      { code: 'invalid_config' },
    );
  }
  for (let v = current; v < Math.min(upTo, MIGRATIONS.length); v++) {
    db.transaction(() => {
      if (read() !== v) return; // another connection migrated meanwhile
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
  return read();
};
