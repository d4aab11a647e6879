import { describe, expect, it } from 'vitest';
import { analyzeGaps, isoDate, DEFAULT_POLICY } from '@smart-backfill/core';
import {
  openSqliteStore,
  sqliteScheduleSource,
  sqliteTargetTable,
  sqliteWindowReader,
  SqliteConfigError,
  SqliteStoreError,
} from '@smart-backfill/sqlite';

const D = isoDate;
const Q = (start: string, end: string, processorName = 'PlayerGameSummaryProcessor') => ({ processorName, start: D(start), end: D(end) });

/** The seed's tables, in miniature: a schedule with statuses and a shared target table. */
const seedStore = () => {
  const store = openSqliteStore({ path: ':memory:' });
  store.db.exec(`
    CREATE TABLE game_schedule (game_id TEXT, game_date TEXT, game_status TEXT);
    CREATE TABLE player_game_summary (player_id INTEGER, game_date TEXT, processor TEXT, played_at TEXT, played_epoch INTEGER);
  `);
  const s = store.db.prepare('INSERT INTO game_schedule VALUES (?, ?, ?)');
  s.run('g1', '2025-11-01', 'Final');
  s.run('g2', '2025-11-01', 'Completed');
  s.run('g3', '2025-11-02', 'Final');
  s.run('g4', '2025-11-03', 'Postponed');
  s.run('g5', '2025-11-04', 'Completed');
  s.run('g6', '2025-10-31', 'Final');
  const t = store.db.prepare('INSERT INTO player_game_summary VALUES (?, ?, ?, ?, ?)');
  for (let i = 0; i < 120; i++)
    t.run(
      i,
      '2025-11-01',
      'PlayerGameSummaryProcessor',
      `2025-11-01 19:${String(i % 60).padStart(2, '0')}:00`,
      Date.UTC(2025, 10, 1, 20) / 1000,
    );
  for (let i = 0; i < 40; i++)
    t.run(i, '2025-11-02', 'PlayerGameSummaryProcessor', '2025-11-02T23:30:00-05:00', Date.UTC(2025, 10, 2, 20) / 1000);
  for (let i = 0; i < 500; i++)
    t.run(i, '2025-11-04', 'TeamDefenseGameSummaryProcessor', '2025-11-04 20:00:00', Date.UTC(2025, 10, 4, 20) / 1000);
  return store;
};

describe('sqlite schedule source and target table over user tables', () => {
  const schedule = { table: 'game_schedule', dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final', 'Completed'] };
  const target = { table: 'player_game_summary', dateColumn: 'game_date', processorColumn: 'processor' };

  it("reads the seed's expected dates and counts, filtered by status and processor", async () => {
    const store = seedStore();
    const src = sqliteScheduleSource(store.db, schedule);
    expect([...(await src.expectedDates(Q('2025-11-01', '2025-11-04')))].sort()).toEqual(['2025-11-01', '2025-11-02', '2025-11-04']);
    const tgt = sqliteTargetTable(store.db, target);
    expect(Object.fromEntries(await tgt.recordCounts(Q('2025-11-01', '2025-11-04')))).toEqual({ '2025-11-01': 120, '2025-11-02': 40 });
    expect(Object.fromEntries(await tgt.recordCounts(Q('2025-11-01', '2025-11-04', 'TeamDefenseGameSummaryProcessor')))).toEqual({
      '2025-11-04': 500,
    });
    await store.close();
  });

  it('reads both in one query, and the core finds the gap', async () => {
    const store = seedStore();
    const reader = sqliteWindowReader(store.db, schedule, target);
    const data = await reader.readWindow(Q('2025-11-01', '2025-11-04'));
    expect([...data.expectedDates].sort()).toEqual(['2025-11-01', '2025-11-02', '2025-11-04']);
    expect(Object.fromEntries(data.recordCounts)).toEqual({ '2025-11-01': 120, '2025-11-02': 40 });
    const analysis = analyzeGaps({ asOf: D('2025-11-05'), policy: { ...DEFAULT_POLICY, lookbackDays: 4 }, ...data });
    expect(analysis.missingDates).toEqual(['2025-11-02', '2025-11-04']);
    expect(analysis.incompleteDates).toEqual([{ date: '2025-11-02', count: 40 }]);
    // the store's own helpers build the same reader
    expect(await store.windowReader(schedule, target).readWindow(Q('2025-11-01', '2025-11-04'))).toEqual(data);
    await store.close();
  });

  it('reads datetime text and epoch columns through date(...)', async () => {
    const store = seedStore();
    const byText = sqliteTargetTable(store.db, { ...target, dateColumn: 'played_at', dateColumnType: 'datetime' });
    // '2025-11-02T23:30:00-05:00' is 2025-11-03 in UTC: date() normalises offsets to UTC
    expect(Object.fromEntries(await byText.recordCounts(Q('2025-11-01', '2025-11-04')))).toEqual({ '2025-11-01': 120, '2025-11-03': 40 });
    // the offset decides the day, at both edges of a one-day window
    store.db
      .prepare('INSERT INTO player_game_summary VALUES (?, ?, ?, ?, ?)')
      .run(1, '2025-11-04', 'PlayerGameSummaryProcessor', '2025-11-04T01:00:00+14:00', 0);
    expect(Object.fromEntries(await byText.recordCounts(Q('2025-11-03', '2025-11-03')))).toEqual({ '2025-11-03': 41 });
    expect(Object.fromEntries(await byText.recordCounts(Q('0001-01-01', '2025-11-02')))).toEqual({ '2025-11-01': 120 });
    expect(Object.fromEntries(await byText.recordCounts(Q('2025-11-04', '9999-12-31')))).toEqual({});
    const byBigQueryName = sqliteTargetTable(store.db, { ...target, dateColumn: 'played_at', dateColumnType: 'TIMESTAMP' });
    expect(Object.fromEntries(await byBigQueryName.recordCounts(Q('2025-11-01', '2025-11-04')))).toEqual({
      '2025-11-01': 120,
      '2025-11-03': 41,
    });
    const byEpoch = sqliteTargetTable(store.db, { ...target, dateColumn: 'played_epoch', dateColumnType: 'epoch-seconds' });
    // (the row added above has epoch 0: 1970-01-01)
    expect(Object.fromEntries(await byEpoch.recordCounts(Q('2025-11-01', '2025-11-04')))).toEqual({ '2025-11-01': 120, '2025-11-02': 40 });
    expect(Object.fromEntries(await byEpoch.recordCounts(Q('1970-01-01', '1970-01-01')))).toEqual({ '1970-01-01': 1 });
    await store.close();
  });

  it('names the table or column that is wrong', () => {
    const store = seedStore();
    expect(() => sqliteTargetTable(store.db, { table: 'player_game_summary', dateColumn: 'date_range_start' })).toThrow(
      '[smart-backfill] [sqlite] table "player_game_summary" has no column "date_range_start" (target.dateColumn; columns: player_id, game_date, processor, played_at, played_epoch)',
    );
    expect(() => sqliteScheduleSource(store.db, { table: 'nba_schedule', dateColumn: 'game_date' })).toThrow(
      /table "nba_schedule" does not exist \(tables: .*game_schedule/,
    );
    expect(() => sqliteScheduleSource(store.db, { ...schedule, statuses: [] })).toThrow(
      /schedule.statuses: with statusColumn "game_status"/,
    );
    expect(() => sqliteScheduleSource(store.db, { table: 'game_schedule; DROP TABLE x', dateColumn: 'game_date' })).toThrow(
      SqliteConfigError,
    );
    expect(() => sqliteScheduleSource(store.db, { table: 'game_schedule', dateColumn: 'game_date"--' })).toThrow(/not a valid identifier/);
    expect(() => sqliteTargetTable(store.db, { ...target, dateColumnType: 'weird' as never })).toThrow(/dateColumnType must be one of/);
    expect(() => sqliteTargetTable(store.db, { ...target, table: 'main.player_game_summary' })).not.toThrow();
    store.db.close();
  });

  it('says which column holds a non-date value', async () => {
    const store = seedStore();
    const t = sqliteTargetTable(store.db, { ...target, dateColumn: 'played_at' });
    await expect(t.recordCounts(Q('2025-11-01', '2025-11-04'))).rejects.toThrow(SqliteStoreError);
    await expect(t.recordCounts(Q('2025-11-01', '2025-11-04'))).rejects.toThrow(
      /column "played_at" holds "2025-11-01 19:00:00", which is not a YYYY-MM-DD date; for timestamps set dateColumnType/,
    );
    await expect(t.recordCounts({ processorName: 'x', start: '2025-13-01' as never, end: D('2025-11-01') })).rejects.toThrow(
      /start: "2025-13-01" is not a calendar date/,
    );
    await store.close();
  });
});
