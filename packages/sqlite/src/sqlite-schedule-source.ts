import type Database from 'better-sqlite3';
import type { IsoDate, ScheduleSource, ScheduleWindowDescription, WindowQuery } from '@smart-backfill/core';
import { withBusyRetry, type BusyRetryOptions } from './busy.js';
import { checkStoredDate, tableFilter, wrapRead, type TableFilter, type UserTableOptions } from './table-query.js';

export interface SqliteScheduleSourceOptions extends UserTableOptions {
  /** A column whose value says whether the date counts, e.g. `game_status`. */
  readonly statusColumn?: string | undefined;
  /** The accepted values of `statusColumn`, e.g. `['Final', 'Completed']` (the seed's). Required with it. */
  readonly statuses?: readonly string[] | undefined;
  readonly busy?: BusyRetryOptions | undefined;
}

/**
 * `describeWindow` for a schedule table: rows in the window per status, before the
 * status filter. Shared by the schedule source and the window reader.
 */
export const scheduleDescriber = (
  db: Database.Database,
  filter: TableFilter,
  busy: BusyRetryOptions | undefined,
): ((query: WindowQuery) => Promise<ScheduleWindowDescription>) => {
  const status = filter.status;
  const stmt = db.prepare(`SELECT ${status === undefined ? 'NULL' : status.sql} AS s, COUNT(*) AS n ${filter.unfiltered.from} GROUP BY 1`);
  return (query) =>
    withBusyRetry(
      'schedule.describeWindow',
      () => {
        const rows = wrapRead(
          `describing the schedule in "${filter.display}"`,
          () => stmt.all(...filter.unfiltered.params(query)) as Array<{ s: unknown; n: number }>,
        );
        const rowsInWindow = rows.reduce((sum, r) => sum + r.n, 0);
        if (status === undefined) return { source: filter.display, rowsInWindow };
        const found = rows.map((r) => ({ status: r.s === null ? null : String(r.s), count: r.n }));
        return { source: filter.display, rowsInWindow, statusFilter: { column: status.column, accepted: status.accepted, found } };
      },
      busy ?? {},
    );
};

/**
 * Expected dates from any table: `SELECT DISTINCT date FROM table WHERE date BETWEEN ? AND ?
 * [AND status IN (?, ...)] [AND processor = ?]`. The table and columns are checked when
 * the source is created; a missing one throws a `SqliteConfigError` naming it.
 */
export const sqliteScheduleSource = (db: Database.Database, options: SqliteScheduleSourceOptions): ScheduleSource => {
  const filter = tableFilter(db, 'schedule', options);
  const stmt = db.prepare(`SELECT DISTINCT ${filter.dateExpr} AS d ${filter.from}`).pluck();
  return {
    expectedDates: (query) =>
      withBusyRetry(
        'schedule.expectedDates',
        () => {
          const params = filter.params(query);
          const rows = wrapRead(`reading the schedule from "${filter.display}"`, () => stmt.all(...params));
          return rows.map((d): IsoDate => checkStoredDate(d, filter.display, options.dateColumn, options.dateColumnType));
        },
        options.busy ?? {},
      ),
    describeWindow: scheduleDescriber(db, filter, options.busy),
  };
};
