import type Database from 'better-sqlite3';
import type { IsoDate, WindowData, WindowReader } from '@smart-backfill/core';
import { withBusyRetry } from './busy.js';
import { scheduleDescriber, type SqliteScheduleSourceOptions } from './sqlite-schedule-source.js';
import type { SqliteTargetTableOptions } from './sqlite-target-table.js';
import { checkStoredDate, tableFilter, wrapRead } from './table-query.js';

/**
 * Schedule reads made inside one read snapshot (`SqliteStore.readSnapshot`), by SQL and
 * parameters: there the same read gives the same rows, so processors sharing a schedule
 * read it once.
 */
export type SharedSchedules = Map<string, readonly IsoDate[]>;

/**
 * Schedule and counts in one statement (the seed's CTE): one read per check, and
 * both sides see the same snapshot of the file.
 */
export const sqliteWindowReader = (
  db: Database.Database,
  schedule: SqliteScheduleSourceOptions,
  target: SqliteTargetTableOptions,
  shared?: () => SharedSchedules | undefined,
): WindowReader => {
  const s = tableFilter(db, 'schedule', schedule);
  const t = tableFilter(db, 'target', target);
  const stmt = db.prepare(
    `WITH expected AS (SELECT DISTINCT ${s.dateExpr} AS d ${s.from}),
          counts AS (SELECT ${t.dateExpr} AS d, COUNT(*) AS n ${t.from} GROUP BY 1)
     SELECT 0 AS k, d, NULL AS n FROM expected
     UNION ALL
     SELECT 1 AS k, d, n FROM counts`,
  );
  // Rows as arrays: a year of a hundred processors (`plan`) is ~70,000 rows, made into objects otherwise.
  stmt.raw(true);
  const scheduleSql = `SELECT DISTINCT ${s.dateExpr} AS d ${s.from}`;
  let apart: { schedule: Database.Statement; counts: Database.Statement } | undefined;
  /** Inside a snapshot: the schedule from the snapshot's reads when another processor made the same one. */
  const readApart = (query: Parameters<WindowReader['readWindow']>[0], cache: SharedSchedules): WindowData => {
    apart ??= {
      schedule: db.prepare(scheduleSql).raw(true),
      counts: db.prepare(`SELECT ${t.dateExpr} AS d, COUNT(*) AS n ${t.from} GROUP BY 1`).raw(true),
    };
    const { schedule: scheduleStmt, counts: countsStmt } = apart;
    const sp = s.params(query);
    const tp = t.params(query);
    const key = `${scheduleSql}\u0000${JSON.stringify(sp)}`;
    let expected = cache.get(key);
    if (expected === undefined) {
      const rows = wrapRead(`reading the schedule from "${s.display}"`, () => scheduleStmt.all(...sp) as Array<[d: unknown]>);
      expected = rows.map(([d]) => checkStoredDate(d, s.display, schedule.dateColumn, schedule.dateColumnType));
      cache.set(key, expected);
    }
    const rows = wrapRead(`reading the counts from "${t.display}"`, () => countsStmt.all(...tp) as Array<[d: unknown, n: number | null]>);
    const recordCounts = new Map<IsoDate, number>();
    for (const [d, n] of rows) recordCounts.set(checkStoredDate(d, t.display, target.dateColumn, target.dateColumnType), n ?? 0);
    return { expectedDates: [...expected], recordCounts };
  };
  return {
    readWindow: (query) =>
      withBusyRetry(
        'window.readWindow',
        () => {
          const cache = shared?.();
          if (cache !== undefined) return readApart(query, cache);
          const params = [...s.params(query), ...t.params(query)];
          const rows = wrapRead(
            `reading the window from "${s.display}" and "${t.display}"`,
            () => stmt.all(...params) as Array<[k: number, d: unknown, n: number | null]>,
          );
          const expectedDates: IsoDate[] = [];
          const recordCounts = new Map<IsoDate, number>();
          for (const [k, d, n] of rows) {
            if (k === 0) expectedDates.push(checkStoredDate(d, s.display, schedule.dateColumn, schedule.dateColumnType));
            else recordCounts.set(checkStoredDate(d, t.display, target.dateColumn, target.dateColumnType), n ?? 0);
          }
          return { expectedDates, recordCounts };
        },
        schedule.busy ?? {},
      ),
    describeWindow: scheduleDescriber(db, s, schedule.busy),
  };
};
