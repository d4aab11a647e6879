import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '@smart-backfill/sqlite';
import { tempDir } from './helpers.js';

const SCHEDULE = { table: 'calendar', dateColumn: 'day', statusColumn: 'state', statuses: ['Final'] };
const target = (table: string) => ({ table, dateColumn: 'd' });
const Q = (processorName: string) => ({ processorName, start: '2025-11-01', end: '2025-11-30' }) as never;

/** A tracking file that also holds a shared schedule and two processors' target tables. */
const makeStore = (file: string) => {
  const store = openSqliteStore({ path: file });
  store.db.exec(`CREATE TABLE calendar(day TEXT, state TEXT);
                 CREATE TABLE a(d TEXT);
                 CREATE TABLE b(d TEXT);
                 INSERT INTO calendar VALUES ('2025-11-01', 'Final'), ('2025-11-02', 'Final'), ('2025-11-03', 'Scheduled');
                 INSERT INTO a VALUES ('2025-11-01'), ('2025-11-01'), ('2025-11-02');
                 INSERT INTO b VALUES ('2025-11-02');`);
  return store;
};

describe('readSnapshot: many windows read as of one moment', () => {
  it('reads every window from one state of the file while another process writes, and the same rows as outside it', async () => {
    const tmp = tempDir();
    const writer = makeStore(tmp.file('s.db'));
    const reader = openSqliteStore({ path: tmp.file('s.db'), readOnly: true });
    try {
      const a = reader.windowReader(SCHEDULE, target('a'));
      const b = reader.windowReader(SCHEDULE, target('b'));
      const outsideA = await a.readWindow(Q('a'));
      const outsideB = await b.readWindow(Q('b'));
      expect(outsideA).toEqual({
        expectedDates: ['2025-11-01', '2025-11-02'],
        recordCounts: new Map([
          ['2025-11-01', 2],
          ['2025-11-02', 1],
        ]),
      });

      const inside = await reader.readSnapshot(async () => {
        const first = await a.readWindow(Q('a'));
        // Another process finalises a date and fills it while the snapshot is open.
        writer.db.exec(`UPDATE calendar SET state = 'Final' WHERE day = '2025-11-03'; INSERT INTO b VALUES ('2025-11-03');`);
        return { a: first, b: await b.readWindow(Q('b')) };
      });
      expect(inside).toEqual({ a: outsideA, b: outsideB });

      // After it, reads see the write.
      expect((await b.readWindow(Q('b'))).expectedDates).toEqual(['2025-11-01', '2025-11-02', '2025-11-03']);
      expect((await b.readWindow(Q('b'))).recordCounts.get('2025-11-03' as never)).toBe(1);
    } finally {
      await reader.close();
      await writer.close();
      tmp.done();
    }
  });

  it('gives each reader its own copy of a shared schedule', async () => {
    const tmp = tempDir();
    const store = makeStore(tmp.file('s.db'));
    await store.close();
    const reader = openSqliteStore({ path: tmp.file('s.db'), readOnly: true });
    try {
      const [a, b] = await reader.readSnapshot(async () => [
        await reader.windowReader(SCHEDULE, target('a')).readWindow(Q('a')),
        await reader.windowReader(SCHEDULE, target('b')).readWindow(Q('b')),
      ]);
      expect(a!.expectedDates).toEqual(b!.expectedDates);
      expect(a!.expectedDates).not.toBe(b!.expectedDates);
      expect(b!.recordCounts).toEqual(new Map([['2025-11-02', 1]]));
    } finally {
      await reader.close();
      tmp.done();
    }
  });

  it('on a store open for writes over its own file, just runs: a write inside still commits', async () => {
    const tmp = tempDir();
    const store = makeStore(tmp.file('s.db'));
    try {
      await store.readSnapshot(async () => {
        store.db.exec(`INSERT INTO b VALUES ('2025-11-01')`);
      });
      expect(store.db.inTransaction).toBe(false);
      expect((await store.windowReader(SCHEDULE, target('b')).readWindow(Q('b'))).recordCounts.get('2025-11-01' as never)).toBe(1);
    } finally {
      await store.close();
      tmp.done();
    }
  });
});
