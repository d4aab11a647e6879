/**
 * Every port method that takes a date validates it at the adapter edge (core's
 * `parseIsoDate`) and rejects with a `SqliteInputError` naming the field — never
 * core's `RangeError`, never a bare `TypeError` — and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { isoDate, type IsoDate } from '@smart-backfill/core';
import {
  openSqliteStore,
  sqliteScheduleSource,
  sqliteTargetTable,
  sqliteWindowReader,
  SqliteInputError,
  type SqliteStore,
} from '@smart-backfill/sqlite';
import { aRunRecord } from '@smart-backfill/testkit';
import { aRequest } from './helpers.js';

const T0 = Date.UTC(2025, 5, 1);
const DAY = isoDate('2025-05-01');
const BAD: readonly unknown[] = [
  'nope',
  '2025-02-30',
  '2025-13-01',
  '0000-01-01',
  '2025-5-1',
  '2025-05-01T00:00:00Z',
  '',
  20250501,
  null,
  undefined,
  {},
];

type Call = (store: SqliteStore, bad: IsoDate) => Promise<unknown>;

const withTables = (store: SqliteStore) => {
  store.db.exec('CREATE TABLE IF NOT EXISTS s (d TEXT); CREATE TABLE IF NOT EXISTS t (d TEXT, ts INTEGER);');
  const schedule = { table: 's', dateColumn: 'd' };
  const target = { table: 't', dateColumn: 'd' };
  return {
    schedule: sqliteScheduleSource(store.db, schedule),
    target: sqliteTargetTable(store.db, target),
    epochTarget: sqliteTargetTable(store.db, { table: 't', dateColumn: 'ts', dateColumnType: 'epoch-millis' }),
    window: sqliteWindowReader(store.db, schedule, target),
  };
};

/** [method, field the error must name, call]. */
const CALLS: ReadonlyArray<readonly [string, string, Call]> = [
  ['tracker.create', 'requests[0].date', (s, d) => s.tracker.create([aRequest('r', 'P', d, T0)])],
  [
    'tracker.create (second request)',
    'requests[1].date',
    (s, d) => s.tracker.create([aRequest('r0', 'P', DAY, T0), aRequest('r1', 'P', d, T0)]),
  ],
  ['tracker.forWindow start', 'start', (s, d) => s.tracker.forWindow({ processorName: 'P', start: d, end: DAY })],
  ['tracker.forWindow end', 'end', (s, d) => s.tracker.forWindow({ processorName: 'P', start: DAY, end: d })],
  ['window.readWindow start', 'start', (s, d) => withTables(s).window.readWindow({ processorName: 'P', start: d, end: DAY })],
  ['window.readWindow end', 'end', (s, d) => withTables(s).window.readWindow({ processorName: 'P', start: DAY, end: d })],
  ['schedule.expectedDates', 'start', (s, d) => withTables(s).schedule.expectedDates({ processorName: 'P', start: d, end: DAY })],
  ['target.recordCounts', 'end', (s, d) => withTables(s).target.recordCounts({ processorName: 'P', start: DAY, end: d })],
  [
    'target.recordCounts (epoch column)',
    'start',
    (s, d) => withTables(s).epochTarget.recordCounts({ processorName: 'P', start: d, end: DAY }),
  ],
  ['runLog.append', 'run.runDate', (s, d) => s.runLog.append(aRunRecord('x', 'P', DAY, T0, { runDate: d, finishedAt: T0, durationMs: 0 }))],
  [
    'runLog.hold runDate',
    'runDate',
    (s, d) => s.runLog.hold({ processorName: 'P', runDate: d, heldAt: T0, reason: 'backfill_queued', waitingFor: [] }),
  ],
  [
    'runLog.hold waitingFor',
    'waitingFor[1]',
    (s, d) => s.runLog.hold({ processorName: 'P', runDate: DAY, heldAt: T0, reason: 'backfill_queued', waitingFor: [DAY, d] }),
  ],
  ['runLog.release', 'runDate', (s, d) => s.runLog.release('P', d, 'resumed', T0)],
  [
    'alertLog.upsertOpen runDate',
    'runDate',
    (s, d) =>
      s.alertLog.upsertOpen({
        alertKey: 'k',
        processorName: 'P',
        reason: 'gap_exceeds_threshold',
        runDate: d,
        missingDates: [DAY],
        lastError: null,
        openedAt: T0,
        at: T0,
      }),
  ],
  [
    'alertLog.upsertOpen missingDates',
    'missingDates[0]',
    (s, d) =>
      s.alertLog.upsertOpen({
        alertKey: 'k',
        processorName: 'P',
        reason: 'gap_exceeds_threshold',
        runDate: DAY,
        missingDates: [d],
        lastError: null,
        openedAt: T0,
        at: T0,
      }),
  ],
];

const escape = (s: string): string => s.replace(/[[\].]/g, (c) => `\\${c}`);

const rowCounts = (store: SqliteStore) =>
  ['backfill_requests', 'held_runs', 'backfill_alerts', 'analytics_processor_runs'].map((t) =>
    store.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get(),
  );

describe('dates at the sqlite adapter edge', () => {
  it.each(CALLS)('%s rejects a non-date with a SqliteInputError naming %s, and writes nothing', async (_name, field, call) => {
    const store = openSqliteStore({ path: ':memory:' });
    try {
      const before = rowCounts(store);
      for (const bad of BAD) {
        const e = await call(store, bad as IsoDate).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(e, `${JSON.stringify(bad)} was accepted`).toBeInstanceOf(SqliteInputError);
        expect(e).not.toBeInstanceOf(RangeError);
        expect((e as SqliteInputError).field).toBe(field);
        expect((e as Error).message).toMatch(
          new RegExp(`^\\[smart-backfill\\] \\[sqlite\\] ${escape(field)}: .* is not a calendar date in YYYY-MM-DD form \\(`),
        );
      }
      expect(rowCounts(store)).toEqual(before);
    } finally {
      await store.close();
    }
  });

  it('a request whose date is not a calendar date is refused whole: the valid ones beside it are not created either', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await expect(store.tracker.create([aRequest('ok', 'P', '2025-05-01', T0), aRequest('bad', 'P', '2025-02-30', T0)])).rejects.toThrow(
      /^\[smart-backfill\] \[sqlite\] requests\[1\]\.date: "2025-02-30" is not a calendar date in YYYY-MM-DD form \(day must be 01–28 in that month\)$/,
    );
    expect(await store.tracker.get('ok')).toBeUndefined();
    await store.close();
  });

  it('dates at the edges of the calendar are accepted (no RangeError from widening a datetime range)', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    store.db.exec("CREATE TABLE ts (at TEXT); INSERT INTO ts VALUES ('0001-01-01 00:00:00'), ('9999-12-31 23:59:59');");
    const target = sqliteTargetTable(store.db, { table: 'ts', dateColumn: 'at', dateColumnType: 'datetime' });
    const counts = await target.recordCounts({ processorName: 'P', start: isoDate('0001-01-01'), end: isoDate('9999-12-31') });
    expect([...counts.entries()]).toEqual([
      ['0001-01-01', 1],
      ['9999-12-31', 1],
    ]);
    await expect(
      store.tracker.forWindow({ processorName: 'P', start: isoDate('0001-01-01'), end: isoDate('9999-12-31') }),
    ).resolves.toEqual([]);
    await store.close();
  });

  it('a missing query or record names the argument instead of failing on a property read', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const t = withTables(store);
    const nothing = null as never;
    const calls: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
      ['query', () => store.tracker.forWindow(nothing)],
      ['query', () => store.tracker.list(nothing)],
      ['query', () => store.tracker.unpublished(nothing)],
      ['query', () => store.tracker.expiredLeases(nothing)],
      ['query', () => t.window.readWindow(nothing)],
      ['query', () => t.schedule.expectedDates(nothing)],
      ['query', () => t.target.recordCounts(nothing)],
      ['query', () => store.runLog.runs(nothing)],
      ['query', () => store.runLog.heldRuns(nothing)],
      ['run', () => store.runLog.append(nothing)],
      ['run', () => store.runLog.hold(nothing)],
      ['alert', () => store.alertLog.upsertOpen(nothing)],
      ['query', () => store.alertLog.list(nothing)],
    ];
    for (const [field, call] of calls) {
      const e = await call().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(e).toBeInstanceOf(SqliteInputError);
      expect((e as SqliteInputError).field).toBe(field);
    }
    await store.close();
  });
});
