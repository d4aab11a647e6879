import type Database from 'better-sqlite3';
import type { IsoDate, WindowReader } from '@smart-backfill/core';
import { withBusyRetry } from './busy.js';
import { scheduleDescriber, type SqliteScheduleSourceOptions } from './sqlite-schedule-source.js';
import type { SqliteTargetTableOptions } from './sqlite-target-table.js';
import { checkStoredDate, tableFilter, wrapRead } from './table-query.js';

/**
 * Schedule and counts in one statement (the seed's CTE): one read per check, and
 * both sides see the same snapshot of the file.
 */
export const sqliteWindowReader = (
  db: Database.Database,
  schedule: SqliteScheduleSourceOptions,
  target: SqliteTargetTableOptions,
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
  return {
    readWindow: (query) =>
      withBusyRetry(
        'window.readWindow',
        () => {
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
