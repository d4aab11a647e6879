import { describe, expect, it } from 'vitest';
import { isoDate, type IsoDate, type RequestEvent } from '@smart-backfill/core';
import {
  openSqliteStore,
  sqliteScheduleSource,
  sqliteTargetTable,
  sqliteWindowReader,
  SqliteConfigError,
  SqliteInputError,
  type SqliteStore,
} from '@smart-backfill/sqlite';
import { aRequest } from './helpers.js';

const T0 = Date.UTC(2025, 5, 1);

/** Strings that would break string-built SQL (the seed's f-strings), and some that break naive encodings. */
const HOSTILE: readonly string[] = [
  "O'Brien",
  "'; DROP TABLE backfill_requests; --",
  "x' OR '1'='1",
  '"; DROP TABLE analytics_processor_runs; --',
  "Robert'); DELETE FROM backfill_queue WHERE ('1'='1",
  '\\',
  '%_%',
  '?',
  ':name @name $name ?1',
  '/* comment */',
  'a\u0000b',
  '\u0000',
  'ümlaut 日本語 🏀 \u202e reversed',
  'tab\tnew\nline\r',
  "' UNION SELECT sql FROM sqlite_master --",
  'x'.repeat(100_000),
  ' ',
  'PlayerGameSummaryProcessor ',
];

const HOSTILE_DATES: readonly unknown[] = [
  "2025-01-01'; DROP TABLE held_runs; --",
  "2025-01-01' OR '1'='1",
  '2025-1-1',
  '2025-02-30',
  '2025-01-01T00:00:00Z',
  ' 2025-01-01',
  '2025-01-01\u0000',
  '',
  null,
  20250101,
  '２０２５-０１-０１',
];

const schemaOf = (store: SqliteStore) => store.db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all();

describe('hostile values through every method', () => {
  it('stores and returns hostile strings verbatim and leaves the schema alone', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    store.db.exec(`CREATE TABLE game_schedule (game_date TEXT, game_status TEXT, processor TEXT);
                   CREATE TABLE target_rows (game_date TEXT, processor TEXT);`);
    const before = schemaOf(store);
    const { tracker, queue, runLog, alertLog } = store;
    const day = isoDate('2025-05-01');

    for (const [i, s] of HOSTILE.entries()) {
      const id = `${s}#${i}`;
      // tracker
      const created = await tracker.create([
        aRequest(id, s, '2025-05-01', T0 + i, { requestedBy: s, triggerReason: s, metadata: { note: s, nested: [s] } }),
      ]);
      expect(created.created).toHaveLength(1);
      const got = await tracker.get(id);
      expect(got).toMatchObject({ requestId: id, processorName: s, requestedBy: s, triggerReason: s, metadata: { note: s, nested: [s] } });
      expect((await tracker.forWindow({ processorName: s, start: day, end: day })).map((r) => r.requestId)).toEqual([id]);
      expect((await tracker.list({ processorName: s })).map((r) => r.requestId)).toEqual([id]);
      const claimed = await tracker.apply(id, { _tag: 'Claim', at: T0 + i, owner: s, leaseMs: 1000 });
      expect(claimed).toMatchObject({ _tag: 'Ok', value: { leaseOwner: s } });
      expect(await tracker.apply(id, { _tag: 'Fail', at: T0 + i, attempt: 1, error: s })).toMatchObject({
        _tag: 'Ok',
        value: { errorMessage: s },
      });
      expect(await tracker.apply(`${s}-missing`, { _tag: 'MarkPublished', at: T0 })).toMatchObject({
        _tag: 'Err',
        error: { _tag: 'NotFound', requestId: `${s}-missing` },
      });

      // queue
      await queue.publish([{ id, data: s, attributes: { processor_name: s, [s.slice(0, 50)]: s }, orderingKey: s }]);
      const [d] = await queue.receive({ max: 1, leaseMs: 1000 });
      expect(d?.message).toEqual({ id, data: s, attributes: { processor_name: s, [s.slice(0, 50)]: s }, orderingKey: s });
      await d!.deadLetter!(s);
      expect((await queue.messages({ state: 'dead', limit: 1 }))[0]?.deadReason).toBe(s);

      // run log
      await runLog.append({
        runId: id,
        processorName: s,
        runDate: day,
        trigger: 'manual',
        isBackfill: false,
        outcome: 'failed',
        skipReason: null,
        errorMessage: s,
        startedAt: T0 + i,
        finishedAt: T0 + i,
        durationMs: 0,
        metadata: { gap_size: 1, note: s },
      });
      expect(await runLog.runs({ processorName: s })).toMatchObject([
        { runId: id, processorName: s, errorMessage: s, metadata: { note: s } },
      ]);
      await runLog.hold({ processorName: s, runDate: day, heldAt: T0, reason: 'backfill_queued', waitingFor: [day] });
      expect(await runLog.heldRuns({ processorName: s })).toMatchObject([{ processorName: s, status: 'held' }]);
      expect(await runLog.release(s, day, 'cancelled', T0 + 1)).toBe(true);

      // alert log
      const opened = await alertLog.upsertOpen({
        alertKey: id,
        processorName: s,
        reason: 'gap_exceeds_threshold',
        runDate: day,
        missingDates: [day],
        lastError: s,
        openedAt: T0,
        at: T0,
      });
      expect(opened).toMatchObject({ created: true, record: { alertKey: id, processorName: s, lastError: s } });
      await alertLog.markSent(id, T0 + 1);
      expect(await alertLog.list({ processorName: s })).toMatchObject([{ alertKey: id, sendCount: 1 }]);
      expect(await alertLog.resolve(id, T0 + 2)).toMatchObject({ alertKey: id });
    }

    // user tables: hostile processor names and accepted statuses are bound values
    const schedule = sqliteScheduleSource(store.db, {
      table: 'game_schedule',
      dateColumn: 'game_date',
      statusColumn: 'game_status',
      statuses: HOSTILE,
      processorColumn: 'processor',
    });
    const target = sqliteTargetTable(store.db, { table: 'target_rows', dateColumn: 'game_date', processorColumn: 'processor' });
    const window = sqliteWindowReader(
      store.db,
      { table: 'game_schedule', dateColumn: 'game_date', statusColumn: 'game_status', statuses: HOSTILE, processorColumn: 'processor' },
      { table: 'target_rows', dateColumn: 'game_date', processorColumn: 'processor' },
    );
    const ins = store.db.prepare('INSERT INTO game_schedule VALUES (?, ?, ?)');
    const row = store.db.prepare('INSERT INTO target_rows VALUES (?, ?)');
    for (const [i, s] of HOSTILE.entries()) {
      const d = isoDate(`2025-05-${String(i + 1).padStart(2, '0')}`);
      ins.run(d, s, s);
      row.run(d, s);
    }
    for (const [i, s] of HOSTILE.entries()) {
      const q = { processorName: s, start: isoDate('2025-05-01'), end: isoDate('2025-05-31') };
      const d = `2025-05-${String(i + 1).padStart(2, '0')}`;
      expect(await schedule.expectedDates(q)).toEqual([d]);
      expect(Object.fromEntries(await target.recordCounts(q))).toEqual({ [d]: 1 });
      expect(await window.readWindow(q)).toEqual({ expectedDates: [d], recordCounts: new Map([[d, 1]]) });
    }

    // as identifiers they are refused outright, wherever they appear
    for (const s of HOSTILE) {
      const ok = { table: 'game_schedule', dateColumn: 'game_date' };
      for (const bad of [
        { ...ok, table: s },
        { ...ok, dateColumn: s },
        { ...ok, processorColumn: s },
        { ...ok, statusColumn: s, statuses: ['Final'] },
      ]) {
        expect(() => sqliteScheduleSource(store.db, bad), JSON.stringify(bad).slice(0, 80)).toThrow(SqliteConfigError);
        expect(() => sqliteTargetTable(store.db, bad)).toThrow(SqliteConfigError);
        expect(() => sqliteWindowReader(store.db, ok, bad)).toThrow(SqliteConfigError);
      }
      await expect(queue.redrive(s)).rejects.toThrow(/messageId: expected a queue message id/);
      expect(await tracker.unpublished({ olderThan: T0 + 1_000, limit: 5 })).toEqual([]);
      expect(await tracker.list({ processorName: `${s}x`, statuses: ['failed'] })).toEqual([]);
    }

    expect(schemaOf(store)).toEqual(before);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM backfill_requests').get()).toEqual({ n: HOSTILE.length });
    await store.close();
  });

  it('rejects a Fail whose final flag is not a boolean, naming the field, and changes nothing', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.tracker.create([aRequest('r', 'P', '2025-05-01', T0)]);
    await store.tracker.apply('r', { _tag: 'Claim', at: T0, owner: 'w', leaseMs: 1000 });
    const before = await store.tracker.get('r');
    const hostile = { _tag: 'Fail', at: T0, attempt: 1, error: 'x', final: 'yes' } as unknown as RequestEvent;
    await expect(store.tracker.apply('r', hostile)).rejects.toThrow(
      /^\[smart-backfill\] \[sqlite\] event\.final: expected a boolean, got "yes"/,
    );
    expect(await store.tracker.get('r')).toEqual(before);
    await store.close();
  });

  it('rejects hostile dates with an error naming the field, and changes nothing', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    store.db.exec('CREATE TABLE s (d TEXT); CREATE TABLE t (d TEXT);');
    const before = schemaOf(store);
    const { tracker, runLog, alertLog } = store;
    const day = isoDate('2025-05-01');
    const schedule = sqliteScheduleSource(store.db, { table: 's', dateColumn: 'd' });
    const target = sqliteTargetTable(store.db, { table: 't', dateColumn: 'd' });
    for (const bad of HOSTILE_DATES) {
      const d = bad as IsoDate;
      await expect(tracker.create([aRequest('x', 'P', '2025-05-01', T0, { date: d })])).rejects.toThrow(
        /requests\[0\]\.date: .* is not a calendar date/,
      );
      await expect(tracker.forWindow({ processorName: 'P', start: d, end: day })).rejects.toThrow(SqliteInputError);
      await expect(tracker.forWindow({ processorName: 'P', start: day, end: d })).rejects.toThrow(/^\[smart-backfill\] \[sqlite\] end: /);
      await expect(schedule.expectedDates({ processorName: 'P', start: d, end: day })).rejects.toThrow(/start: /);
      await expect(target.recordCounts({ processorName: 'P', start: day, end: d })).rejects.toThrow(/end: /);
      await expect(runLog.hold({ processorName: 'P', runDate: d, heldAt: T0, reason: 'backfill_queued', waitingFor: [] })).rejects.toThrow(
        /runDate: /,
      );
      await expect(
        runLog.hold({ processorName: 'P', runDate: day, heldAt: T0, reason: 'backfill_queued', waitingFor: [day, d] }),
      ).rejects.toThrow(/waitingFor\[1\]: /);
      await expect(runLog.release('P', d, 'resumed', T0)).rejects.toThrow(/runDate: /);
      await expect(
        alertLog.upsertOpen({
          alertKey: 'k',
          processorName: 'P',
          reason: 'gap_exceeds_threshold',
          runDate: day,
          missingDates: [d],
          lastError: null,
          openedAt: T0,
          at: T0,
        }),
      ).rejects.toThrow(/missingDates\[0\]: /);
    }
    // strings that cannot survive UTF-8 are refused, not mangled
    await expect(tracker.create([aRequest('x', 'bad\uD800', '2025-05-01', T0)])).rejects.toThrow(
      /processorName: contains an unpaired UTF-16 surrogate/,
    );
    const [failed] = await store.queue.publish([{ id: 'x\uDC00', data: '{}', attributes: {} }]);
    expect(failed).toMatchObject({ _tag: 'PublishFailed', error: expect.stringMatching(/messages\[0\]\.id: contains an unpaired/) });
    expect(schemaOf(store)).toEqual(before);
    for (const table of ['backfill_requests', 'backfill_queue', 'held_runs', 'backfill_alerts', 'analytics_processor_runs']) {
      expect(store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get(), table).toEqual({ n: 0 });
    }
    await store.close();
  });
});
