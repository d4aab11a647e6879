import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { isoDate } from '@smart-backfill/core';
import { migrate, SCHEMA_VERSION, sqliteRunLog } from '@smart-backfill/sqlite';

/** `held_runs` exactly as schema version 1 created it. */
const V1_HELD_RUNS = `
  CREATE TABLE held_runs (
    processor_name  TEXT NOT NULL,
    run_date        TEXT NOT NULL,
    held_at         INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    waiting_for     TEXT NOT NULL CHECK (json_valid(waiting_for)),
    status          TEXT NOT NULL CHECK (status IN ('held','resumed','cancelled')),
    released_at     INTEGER,
    PRIMARY KEY (processor_name, run_date)
  ) STRICT;
  CREATE INDEX held_runs_status ON held_runs(status, run_date);
  -- the rest of a version-1 file, as far as the run log needs it (migration 2 leaves it alone)
  CREATE TABLE analytics_processor_runs (
    run_id TEXT PRIMARY KEY NOT NULL, processor_name TEXT, run_date TEXT, run_trigger TEXT, is_backfill INTEGER, outcome TEXT,
    skip_reason TEXT, error_message TEXT, started_at INTEGER, finished_at INTEGER, duration_ms INTEGER, metadata TEXT
  );`;

describe('migration 2: resume claims on a version-1 file', () => {
  it('keeps every held run, unclaimed, and the held ones can then be claimed', async () => {
    const db = new Database(':memory:');
    db.exec(V1_HELD_RUNS);
    db.prepare('INSERT INTO held_runs VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      'P',
      '2025-05-10',
      1000,
      'backfill_queued',
      '["2025-05-09"]',
      'held',
      null,
    );
    db.prepare('INSERT INTO held_runs VALUES (?, ?, ?, ?, ?, ?, ?)').run('P', '2025-05-08', 900, 'gap_escalated', '[]', 'resumed', 950);
    db.pragma('user_version = 1');

    expect(migrate(db)).toBe(SCHEMA_VERSION);
    const log = sqliteRunLog(db);
    const unclaimed = { claimedBy: null, claimedAt: null, leaseUntil: null, claims: 0, resumeRunId: null };
    expect(await log.heldRuns({ processorName: 'P' })).toEqual([
      {
        processorName: 'P',
        runDate: '2025-05-08',
        heldAt: 900,
        reason: 'gap_escalated',
        waitingFor: [],
        status: 'resumed',
        releasedAt: 950,
        ...unclaimed,
      },
      {
        processorName: 'P',
        runDate: '2025-05-10',
        heldAt: 1000,
        reason: 'backfill_queued',
        waitingFor: ['2025-05-09'],
        status: 'held',
        releasedAt: null,
        ...unclaimed,
      },
    ]);
    const claim = await log.claimResume('P', isoDate('2025-05-10'), { claimant: 'w', at: 2000, leaseMs: 100 });
    expect(claim).toMatchObject({ attempt: 1, leaseUntil: 2100 });
    expect(await log.finishResume(claim!, { runId: 'r1', at: 2050 })).toBe(true);
    db.close();
  });
});
