import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { isoDate } from '@smart-backfill/core';
import { migrate, SCHEMA_VERSION, sqliteRunLog } from '@smart-backfill/sqlite';

describe('migration 3: resume claims on a version-2 file', () => {
  it('keeps every held run, unclaimed, and the held ones can then be claimed', async () => {
    const db = new Database(':memory:');
    expect(migrate(db, 2)).toBe(2);
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
