import { addDays, toEpochDay, type IsoDate } from '@smart-backfill/core';
import { SqliteConfigError } from './errors.js';

/**
 * What a user table's date column holds.
 * - `date` (default): `YYYY-MM-DD` text. Compared directly, so an index on the column is used.
 * - `datetime`: text starting with `YYYY-MM-DD` (`2025-11-03 19:30:00`, `2025-11-03T19:30:00Z`):
 *   read through SQLite's `date(col)`, which takes the UTC calendar date of values with an offset.
 * - `epoch-seconds` / `epoch-millis`: numbers; the UTC calendar date is taken.
 *
 * The BigQuery names are accepted too, so one config serves both stores:
 * `DATE` is `date`; `DATETIME` and `TIMESTAMP` are `datetime` (SQLite keeps them as text).
 */
export type DateColumnType = 'date' | 'datetime' | 'epoch-seconds' | 'epoch-millis' | 'DATE' | 'DATETIME' | 'TIMESTAMP';

const TYPES: readonly DateColumnType[] = ['date', 'datetime', 'epoch-seconds', 'epoch-millis', 'DATE', 'DATETIME', 'TIMESTAMP'];

export interface DateColumn {
  /** Yields each row's `YYYY-MM-DD`. */
  readonly expr: string;
  /** Keeps rows whose date is in `[start, end]`; written so an index on the column can serve it. */
  readonly where: string;
  /** Values for the `?` of `where`, in order. */
  params(start: IsoDate, end: IsoDate): unknown[];
}

const DAY_MS = 86_400_000;

/** Text bounds one day wider than asked, clamped instead of running off the calendar. */
const widen = (d: IsoDate, days: number, fallback: string): string => {
  try {
    return addDays(d, days);
  } catch {
    return fallback;
  }
};

/**
 * SQL for a quoted, already-validated column. Only these fixed templates are
 * spliced around it; the bounds are always parameters.
 */
export const dateColumn = (quotedColumn: string, type: DateColumnType | undefined, field: string): DateColumn => {
  const c = quotedColumn;
  switch (type ?? 'date') {
    case 'date':
    case 'DATE':
      return { expr: c, where: `${c} BETWEEN ? AND ?`, params: (s, e) => [s, e] };
    case 'datetime':
    case 'DATETIME':
    case 'TIMESTAMP':
      // The text range (a day wider each side, for UTC offsets) lets an index narrow the
      // scan; date() then decides exactly.
      return {
        expr: `date(${c})`,
        where: `${c} >= ? AND ${c} < ? AND date(${c}) BETWEEN ? AND ?`,
        params: (s, e) => [widen(s, -1, '0000'), widen(e, 2, '9999-99-99'), s, e],
      };
    case 'epoch-seconds':
      return {
        expr: `date(${c}, 'unixepoch')`,
        where: `${c} >= ? AND ${c} < ?`,
        params: (s, e) => [(toEpochDay(s) * DAY_MS) / 1000, ((toEpochDay(e) + 1) * DAY_MS) / 1000],
      };
    case 'epoch-millis':
      return {
        expr: `date(${c} / 1000.0, 'unixepoch')`,
        where: `${c} >= ? AND ${c} < ?`,
        params: (s, e) => [toEpochDay(s) * DAY_MS, (toEpochDay(e) + 1) * DAY_MS],
      };
    default:
      throw new SqliteConfigError(`${field} must be one of ${TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  }
};
