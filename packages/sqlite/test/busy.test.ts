import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { openSqliteStore, SqliteBusyError } from '@smart-backfill/sqlite';
import { isSmartBackfillError } from '@smart-backfill/core';
import { aRequest, tempDir } from './helpers.js';

const T0 = Date.UTC(2025, 5, 1);

describe('SQLITE_BUSY never reaches a caller', () => {
  it('retries past a write lock held by another connection, then succeeds', async () => {
    const tmp = tempDir();
    // busyTimeoutMs 0: SQLite itself does not wait, so every wait below is the adapter's retry
    const store = openSqliteStore({ path: tmp.file('b.db'), busyTimeoutMs: 0 });
    const other = new Database(tmp.file('b.db'));
    try {
      other.exec('BEGIN IMMEDIATE');
      let settled = false;
      const pending = Promise.all([
        store.tracker.create([aRequest('a', 'P', '2025-05-01', T0)]),
        store.queue.publish([{ id: 'a', data: '{}', attributes: {} }]),
        store.runLog.hold({ processorName: 'P', runDate: '2025-05-02' as never, heldAt: T0, reason: 'backfill_queued', waitingFor: [] }),
      ]).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(settled).toBe(false); // still waiting on the lock, not failed
      other.exec('COMMIT');
      const [created, published] = await pending;
      expect(created.created.map((r) => r.requestId)).toEqual(['a']);
      expect(published.map((o) => o._tag)).toEqual(['Published']);
    } finally {
      other.close();
      await store.close();
      tmp.done();
    }
  });

  it('gives up after the retry budget with an error that says what is wrong', async () => {
    const tmp = tempDir();
    const store = openSqliteStore({ path: tmp.file('b.db'), busyTimeoutMs: 0, busy: { maxWaitMs: 150 } });
    const other = new Database(tmp.file('b.db'));
    try {
      other.exec('BEGIN IMMEDIATE');
      const failure = store.tracker.create([aRequest('a', 'P', '2025-05-01', T0)]);
      await expect(failure).rejects.toThrow(SqliteBusyError);
      await expect(failure).rejects.toThrow(
        /^\[smart-backfill\] \[sqlite\] tracker.create: ".*b\.db" stayed locked by another process for [\d.]+ s \(limit 150 ms; /,
      );
      const e = (await failure.then(
        () => undefined,
        (x: unknown) => x,
      )) as Error & { cause?: { code?: string } };
      expect(e.cause?.code).toMatch(/^SQLITE_BUSY/);
      expect(isSmartBackfillError(e, 'contention')).toBe(true);
      other.exec('ROLLBACK');
      expect((await store.tracker.create([aRequest('a', 'P', '2025-05-01', T0)])).created).toHaveLength(1);
    } finally {
      other.close();
      await store.close();
      tmp.done();
    }
  });

  it('two stores racing to create the same (processor, date) end with one active request', async () => {
    const tmp = tempDir();
    const a = openSqliteStore({ path: tmp.file('r.db') });
    const b = openSqliteStore({ path: tmp.file('r.db') });
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).tracker.create([aRequest(`r${i}`, 'P', '2025-05-01', T0 + i)])),
      );
      expect(results.flatMap((r) => r.created)).toHaveLength(1);
      const winner = results.flatMap((r) => r.created)[0]!.requestId;
      for (const r of results) for (const e of r.existing) expect(e.requestId).toBe(winner);
      // and the index holds even for a raw insert that bypasses the adapter
      expect(() =>
        a.db
          .prepare(
            `INSERT INTO backfill_requests (request_id, processor_name, game_date, request_type, priority, requested_at, requested_by, trigger_reason, status, updated_at) VALUES ('raw', 'P', '2025-05-01', 'auto', 'normal', 0, 'x', 'x', 'queued', 0)`,
          )
          .run(),
      ).toThrow(/UNIQUE constraint failed/);
    } finally {
      await a.close();
      await b.close();
      tmp.done();
    }
  });
});
