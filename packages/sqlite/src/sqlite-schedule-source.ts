import type Database from 'better-sqlite3';
import type { IsoDate, ScheduleSource } from '@smart-backfill/core';
import { withBusyRetry, type BusyRetryOptions } from './busy.js';
import { checkStoredDate, tableFilter, wrapRead, type UserTableOptions } from './table-query.js';

export interface SqliteScheduleSourceOptions extends UserTableOptions {
  /** A column whose value says whether the date counts, e.g. `game_status`. */
  readonly statusColumn?: string | undefined;
  /** The accepted values of `statusColumn`, e.g. `['Final', 'Completed']` (the seed's). Required with it. */
  readonly statuses?: readonly string[] | undefined;
  readonly busy?: BusyRetryOptions | undefined;
}

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
  };
};
