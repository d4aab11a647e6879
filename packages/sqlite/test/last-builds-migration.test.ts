import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { migrate, SCHEMA_VERSION, sqliteRunLog } from '@smart-backfill/sqlite';

const insertRun = (db: Database.Database, id: string, date: string, outcome: string, startedAt: number): void => {
  db.prepare(
    `INSERT INTO analytics_processor_runs (run_id, processor_name, run_date, run_trigger, is_backfill, outcome, started_at, finished_at, duration_ms)
     VALUES (?, 'P', ?, 'scheduled', 0, ?, ?, ?, 10)`,
  ).run(id, date, outcome, startedAt, startedAt + 10);
};

const queryPlan = (db: Database.Database): string =>
  (
    db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT processor_name, run_date, MAX(started_at), MAX(finished_at) FROM analytics_processor_runs
         WHERE processor_name IN (SELECT value FROM json_each(?)) AND started_at >= ? AND outcome = 'succeeded'
         GROUP BY processor_name, run_date ORDER BY processor_name, run_date`,
      )
      .all('["P"]', 0) as { detail: string }[]
  )
    .map((r) => r.detail)
    .join('; ');

describe('migration 4: the last-builds index on a version-3 file', () => {
  it('adds the index, keeps every run, and lastBuilds reads from the index alone with the same answer', async () => {
    const db = new Database(':memory:');
    expect(migrate(db, 3)).toBe(3);
    insertRun(db, 'r1', '2025-05-10', 'succeeded', 1000);
    insertRun(db, 'r2', '2025-05-10', 'succeeded', 3000);
    insertRun(db, 'r3', '2025-05-10', 'failed', 5000);
    insertRun(db, 'r4', '2025-05-11', 'succeeded', 2000);
    expect(queryPlan(db)).not.toContain('COVERING INDEX');

    expect(migrate(db)).toBe(SCHEMA_VERSION);
    expect(
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?`).pluck().get('analytics_processor_runs_last_builds'),
    ).toBe('analytics_processor_runs_last_builds');
    expect(queryPlan(db)).toContain('USING COVERING INDEX analytics_processor_runs_last_builds');
    expect(queryPlan(db)).not.toContain('TEMP B-TREE');
    expect(await sqliteRunLog(db).lastBuilds!({ processorNames: ['P'], since: 0 })).toEqual([
      { processorName: 'P', runDate: '2025-05-10', startedAt: 3000, finishedAt: 3010 },
      { processorName: 'P', runDate: '2025-05-11', startedAt: 2000, finishedAt: 2010 },
    ]);
    expect(db.prepare('SELECT count(*) FROM analytics_processor_runs').pluck().get()).toBe(4);
    db.close();
  });
});
