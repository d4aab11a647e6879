import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '@smart-backfill/sqlite';
import { writeBatchFor } from '../src/write-batch.js';
import { aRequest, handClock, tempDir } from './helpers.js';

const T0 = Date.UTC(2025, 5, 1);

describe('writes issued together share one commit', () => {
  it('eight claims issued together write the WAL about once; one at a time, eight times', async () => {
    const tmp = tempDir();
    const clock = handClock(T0);
    const store = openSqliteStore({ path: tmp.file('b.db'), clock });
    try {
      const ids = Array.from({ length: 16 }, (_, i) => `r${i}`);
      await store.tracker.create(ids.map((id, i) => aRequest(id, 'p', `2025-05-${String(i + 1).padStart(2, '0')}`, T0)));
      const walBytes = (): number => statSync(`${tmp.file('b.db')}-wal`).size;
      const claim = (id: string) => store.tracker.apply(id, { _tag: 'Claim', at: T0, owner: 'w', leaseMs: 60_000 });

      store.db.pragma('wal_checkpoint(TRUNCATE)');
      for (const id of ids.slice(0, 8)) expect((await claim(id))._tag).toBe('Ok');
      const oneByOne = walBytes();

      store.db.pragma('wal_checkpoint(TRUNCATE)');
      const together = await Promise.all(ids.slice(8).map(claim));
      expect(together.map((r) => r._tag)).toEqual(Array(8).fill('Ok'));
      const batched = walBytes();

      // Each commit appends every page it touched; one commit for eight touches them once.
      expect(batched * 3).toBeLessThan(oneByOne);
      // Committed when the promises resolved: another connection sees every claim.
      const other = new Database(tmp.file('b.db'), { readonly: true });
      expect(other.prepare(`SELECT COUNT(*) FROM backfill_requests WHERE status = 'processing'`).pluck().get()).toBe(16);
      other.close();
    } finally {
      await store.close();
      tmp.done();
    }
  });

  it('a write that throws rolls back alone; the others in its batch commit and resolve', async () => {
    const tmp = tempDir();
    const store = openSqliteStore({ path: tmp.file('c.db') });
    try {
      store.db.exec('CREATE TABLE scratch (v TEXT NOT NULL)');
      const insert = store.db.prepare('INSERT INTO scratch (v) VALUES (?)');
      const batch = writeBatchFor(store.db);
      const results = await Promise.allSettled([
        batch.run('first', () => insert.run('first').changes),
        batch.run('second', () => {
          insert.run('second');
          throw new Error('second refused');
        }),
        batch.run('third', () => insert.run('third').changes),
        store.tracker.apply('nobody', { _tag: 'Complete', at: T0, attempt: 1 }),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
        1,
        'second refused',
        1,
        expect.objectContaining({ _tag: 'Err', error: expect.objectContaining({ _tag: 'NotFound' }) }),
      ]);
      expect(store.db.prepare('SELECT v FROM scratch ORDER BY rowid').pluck().all()).toEqual(['first', 'third']);
    } finally {
      await store.close();
      tmp.done();
    }
  });

  it('a write issued just before close() still commits', async () => {
    const tmp = tempDir();
    const store = openSqliteStore({ path: tmp.file('d.db') });
    await store.tracker.create([aRequest('x', 'p', '2025-05-01', T0)]);
    const pending = store.tracker.apply('x', { _tag: 'MarkPublished', at: T0 });
    await store.close();
    expect((await pending)._tag).toBe('Ok');
    const again = new Database(tmp.file('d.db'), { readonly: true });
    expect(again.prepare(`SELECT published_at FROM backfill_requests WHERE request_id = 'x'`).pluck().get()).toBe(T0);
    again.close();
    tmp.done();
  });
});
