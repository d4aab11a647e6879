import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore, SqliteDamagedError } from '@smart-backfill/sqlite';
import { aRequest, tempDir } from './helpers.js';

const T0 = Date.UTC(2025, 10, 20);
const CALENDAR = { table: 'calendar', dateColumn: 'day', statusColumn: 'state', statuses: ['open'] };
const ORDERS = { table: 'orders_daily', dateColumn: 'order_date' };
const WINDOW = { processorName: 'orders', start: '2025-11-01', end: '2025-11-28' } as never;

/** A user's warehouse in the default rollback-journal mode, with an index the counts could come from. */
const makeWarehouse = (file: string, rows = 4_000): void => {
  const w = new Database(file);
  w.exec(`CREATE TABLE calendar(day TEXT, state TEXT);
          CREATE TABLE orders_daily(order_date TEXT, store_id INTEGER, amount REAL, note TEXT);
          CREATE INDEX orders_daily_date ON orders_daily(order_date);`);
  const day = (i: number) => `2025-11-${String(1 + (i % 28)).padStart(2, '0')}`;
  const cal = w.prepare('INSERT INTO calendar VALUES (?, ?)');
  for (let i = 0; i < 28; i++) cal.run(day(i), i % 7 === 6 ? 'closed' : 'open');
  const ins = w.prepare('INSERT INTO orders_daily VALUES (?, ?, ?, ?)');
  w.transaction(() => {
    for (let i = 0; i < rows; i++) ins.run(day(i), i, i * 1.5, 'x'.repeat(40));
  })();
  w.close();
};

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const journalMode = (file: string): unknown => {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('journal_mode', { simple: true });
  } finally {
    db.close();
  }
};

describe('a warehouse apart from the tracking file', () => {
  it('reads the user tables read-only: the warehouse keeps every byte and its journal mode', async () => {
    const tmp = tempDir();
    try {
      makeWarehouse(tmp.file('warehouse.db'));
      const before = sha(tmp.file('warehouse.db'));
      const store = openSqliteStore({ path: tmp.file('tracking.db'), warehouse: { path: tmp.file('warehouse.db') } });
      const w = await store.windowReader(CALENDAR, ORDERS).readWindow(WINDOW);
      expect(w.expectedDates).toHaveLength(24);
      expect(w.recordCounts.get('2025-11-01' as never)).toBeGreaterThan(100);
      await store.tracker.create([aRequest('r1', 'orders', '2025-11-03', T0)]);
      // the warehouse connection refuses writes outright
      expect(() => store.userDb.exec('CREATE TABLE x(a)')).toThrow(/readonly/);
      await store.close();
      expect(sha(tmp.file('warehouse.db'))).toBe(before);
      expect(journalMode(tmp.file('warehouse.db'))).toBe('delete');
      expect(existsSync(tmp.file('warehouse.db-wal')) || existsSync(tmp.file('warehouse.db-shm'))).toBe(false);
      expect(journalMode(tmp.file('tracking.db'))).toBe('wal');
    } finally {
      tmp.done();
    }
  });

  it('a read-only (dry-run) store creates no tracking file and reads a missing one as empty', async () => {
    const tmp = tempDir();
    try {
      makeWarehouse(tmp.file('warehouse.db'));
      const store = openSqliteStore({ path: tmp.file('tracking.db'), readOnly: true, warehouse: { path: tmp.file('warehouse.db') } });
      expect(await store.tracker.list({ processorName: 'orders' })).toEqual([]);
      expect((await store.windowReader(CALENDAR, ORDERS).readWindow(WINDOW)).expectedDates).toHaveLength(24);
      await store.close();
      expect(existsSync(tmp.file('tracking.db'))).toBe(false);
    } finally {
      tmp.done();
    }
  });

  it('a read-only store over one shared file (store.path = the warehouse) writes nothing into it', async () => {
    const tmp = tempDir();
    try {
      makeWarehouse(tmp.file('shop.db'));
      const before = sha(tmp.file('shop.db'));
      const store = openSqliteStore({ path: tmp.file('shop.db'), readOnly: true });
      expect((await store.windowReader(CALENDAR, ORDERS).readWindow(WINDOW)).expectedDates).toHaveLength(24);
      expect(await store.tracker.list({ processorName: 'orders' })).toEqual([]);
      await store.close();
      expect(sha(tmp.file('shop.db'))).toBe(before);
      expect(journalMode(tmp.file('shop.db'))).toBe('delete');
    } finally {
      tmp.done();
    }
  });
});

describe('a damaged database is refused, not read as healthy', () => {
  const tracked = (file: string): void => {
    const s = openSqliteStore({ path: file });
    s.db.exec('CREATE TABLE filler(x TEXT)');
    const ins = s.db.prepare('INSERT INTO filler VALUES (?)');
    for (let i = 0; i < 200; i++) ins.run('y'.repeat(200));
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    s.db.close();
  };

  it('a tracking file cut mid-page', () => {
    const tmp = tempDir();
    try {
      tracked(tmp.file('t.db'));
      truncateSync(tmp.file('t.db'), statSync(tmp.file('t.db')).size - 1_000);
      const before = sha(tmp.file('t.db'));
      expect(() => openSqliteStore({ path: tmp.file('t.db') })).toThrow(SqliteDamagedError);
      // One error model: the class keeps its name, and the shared code says what to do.
      expect(() => openSqliteStore({ path: tmp.file('t.db') })).toThrow(
        expect.objectContaining({ code: 'corrupt', name: 'SqliteDamagedError' }),
      );
      expect(() => openSqliteStore({ path: tmp.file('t.db') })).toThrow(/"t\.db|t\.db" is damaged \(the file is \d+ bytes.*cut short/);
      expect(() => openSqliteStore({ path: tmp.file('t.db'), readOnly: true })).toThrow(SqliteDamagedError);
      expect(sha(tmp.file('t.db'))).toBe(before);
      // the documented way out: skip the check
      const s = openSqliteStore({ path: tmp.file('t.db'), readOnly: true, integrityCheck: false });
      s.db.close();
    } finally {
      tmp.done();
    }
  });

  it('garbage over a data page of the tracking file', () => {
    const tmp = tempDir();
    try {
      tracked(tmp.file('t.db'));
      const fd = openSync(tmp.file('t.db'), 'r+');
      writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, statSync(tmp.file('t.db')).size - 3 * 4096);
      closeSync(fd);
      const before = sha(tmp.file('t.db'));
      expect(() => openSqliteStore({ path: tmp.file('t.db') })).toThrow(/is damaged \(.+\); restore it from a backup/);
      expect(sha(tmp.file('t.db'))).toBe(before);
    } finally {
      tmp.done();
    }
  });

  it('a zero-length tracking file is reported as such, not re-initialised', () => {
    const tmp = tempDir();
    try {
      writeFileSync(tmp.file('t.db'), '');
      expect(() => openSqliteStore({ path: tmp.file('t.db') })).toThrow(/is empty \(0 bytes\) where a database was expected/);
      expect(() => openSqliteStore({ path: tmp.file('t.db'), readOnly: true })).toThrow(SqliteDamagedError);
      expect(statSync(tmp.file('t.db')).size).toBe(0);
    } finally {
      tmp.done();
    }
  });

  it('garbage over a table page of the warehouse fails loudly even when an index could answer the counts', () => {
    const tmp = tempDir();
    try {
      makeWarehouse(tmp.file('w.db'), 20_000);
      const w = new Database(tmp.file('w.db'), { readonly: true });
      const root = w.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'orders_daily'").pluck().get() as number;
      w.close();
      const fd = openSync(tmp.file('w.db'), 'r+');
      // a leaf page of the table, a few pages after its root
      writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, (root + 2) * 4096);
      closeSync(fd);
      const store = openSqliteStore({ path: tmp.file('t.db'), warehouse: { path: tmp.file('w.db') } });
      try {
        expect(() => store.windowReader(CALENDAR, ORDERS)).toThrow(/warehouse ".*w\.db" is damaged/);
      } finally {
        void store.close();
      }
    } finally {
      tmp.done();
    }
  });
});
