import type Database from 'better-sqlite3';
import type { IsoDate, TargetTable } from '@smart-backfill/core';
import { withBusyRetry, type BusyRetryOptions } from './busy.js';
import { checkStoredDate, tableFilter, wrapRead, type UserTableOptions } from './table-query.js';

export interface SqliteTargetTableOptions extends UserTableOptions {
  readonly busy?: BusyRetryOptions | undefined;
}

/**
 * Row counts per date from any table: `SELECT date, COUNT(*) FROM table WHERE date BETWEEN ? AND ?
 * [AND processor = ?] GROUP BY date`. Raw counts: the core compares them with `minRecordsPerDate`.
 */
export const sqliteTargetTable = (db: Database.Database, options: SqliteTargetTableOptions): TargetTable => {
  const filter = tableFilter(db, 'target', options);
  const stmt = db.prepare(`SELECT ${filter.dateExpr} AS d, COUNT(*) AS n ${filter.from} GROUP BY 1`);
  return {
    recordCounts: (query) =>
      withBusyRetry(
        'target.recordCounts',
        () => {
          const params = filter.params(query);
          const rows = wrapRead(`counting rows of "${filter.display}"`, () => stmt.all(...params) as Array<{ d: unknown; n: number }>);
          const counts = new Map<IsoDate, number>();
          for (const r of rows) counts.set(checkStoredDate(r.d, filter.display, options.dateColumn, options.dateColumnType), r.n);
          return counts;
        },
        options.busy ?? {},
      ),
  };
};
