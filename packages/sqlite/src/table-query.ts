import type Database from 'better-sqlite3';
import { isIsoDate, type IsoDate, type WindowQuery } from '@smart-backfill/core';
import { isBusy } from './busy.js';
import { dateColumn, type DateColumnType } from './date-column.js';
import { SqliteConfigError, SqliteStoreError } from './errors.js';
import { quoteIdentifier, resolveTable } from './identifiers.js';
import { checkDate, checkObject, checkString } from './values.js';

/** What schedule and target options have in common. */
export interface UserTableOptions {
  /** `table` or `schema.table` (an attached database). Letters, digits and `_` only. */
  readonly table: string;
  /** The column holding each row's date; see `dateColumnType`. */
  readonly dateColumn: string;
  /** Default `date`: `YYYY-MM-DD` text. */
  readonly dateColumnType?: DateColumnType | undefined;
  /**
   * For a table shared by several processors: only rows whose `processorColumn`
   * equals the check's `processorName` count.
   */
  readonly processorColumn?: string | undefined;
}

export interface TableFilter {
  /** `FROM "t" WHERE ...` with `?` placeholders, in the order `params` returns them. */
  readonly from: string;
  readonly dateExpr: string;
  readonly display: string;
  params(query: WindowQuery): unknown[];
  /** The same rows before the status filter (`describeWindow` counts them), with its own `params`. */
  readonly unfiltered: { readonly from: string; params(query: WindowQuery): unknown[] };
  /** The quoted status column and the accepted values, when rows are filtered on status. */
  readonly status?: { readonly column: string; readonly sql: string; readonly accepted: readonly string[] } | undefined;
}

/**
 * Validate the options against the live table (names, existence, columns) and
 * build the one `FROM ... WHERE ...` fragment both reads use. Identifiers are
 * quoted after passing the pattern; every value is a `?` parameter.
 */
export const tableFilter = (
  db: Database.Database,
  role: 'schedule' | 'target',
  opts: UserTableOptions & { readonly statusColumn?: string | undefined; readonly statuses?: readonly string[] | undefined },
): TableFilter => {
  if (typeof opts !== 'object' || opts === null)
    throw new SqliteConfigError(`${role} options: expected an object with table and dateColumn`);
  if (typeof opts.table !== 'string') throw new SqliteConfigError(`${role}.table: expected a table name, got ${typeof opts.table}`);
  if (typeof opts.dateColumn !== 'string')
    throw new SqliteConfigError(`${role}.dateColumn: expected a column name, got ${typeof opts.dateColumn}`);
  const required = [{ field: `${role}.dateColumn`, column: opts.dateColumn }];
  if (opts.processorColumn !== undefined) required.push({ field: `${role}.processorColumn`, column: opts.processorColumn });
  if (opts.statusColumn !== undefined) {
    required.push({ field: `${role}.statusColumn`, column: opts.statusColumn });
    if (!Array.isArray(opts.statuses) || opts.statuses.length === 0 || !opts.statuses.every((s) => typeof s === 'string')) {
      throw new SqliteConfigError(
        `${role}.statuses: with statusColumn "${opts.statusColumn}", give the accepted values as a non-empty array of strings (e.g. ["Final", "Completed"])`,
      );
    }
  } else if (opts.statuses !== undefined) {
    throw new SqliteConfigError(`${role}.statuses: given without statusColumn; name the column that holds them`);
  }
  const table = resolveTable(db, opts.table, required);
  const date = dateColumn(quoteIdentifier(opts.dateColumn), opts.dateColumnType, `${role}.dateColumnType`);
  const statusWhere =
    opts.statusColumn !== undefined ? [`${quoteIdentifier(opts.statusColumn)} IN (${opts.statuses!.map(() => '?').join(', ')})`] : [];
  const processorWhere = opts.processorColumn !== undefined ? [`${quoteIdentifier(opts.processorColumn)} = ?`] : [];
  const statuses = opts.statusColumn !== undefined ? [...opts.statuses!] : [];
  const byProcessor = opts.processorColumn !== undefined;
  const paramsWith =
    (values: readonly unknown[]) =>
    (query: WindowQuery): unknown[] => {
      checkObject(query, 'query');
      const start = checkDate(query.start, 'start');
      const end = checkDate(query.end, 'end');
      const params: unknown[] = [...date.params(start, end), ...values];
      if (byProcessor) params.push(checkString(query.processorName, 'processorName'));
      return params;
    };
  return {
    from: `FROM ${table.sql} WHERE ${[date.where, ...statusWhere, ...processorWhere].join(' AND ')}`,
    dateExpr: date.expr,
    display: table.display,
    params: paramsWith(statuses),
    unfiltered: { from: `FROM ${table.sql} WHERE ${[date.where, ...processorWhere].join(' AND ')}`, params: paramsWith([]) },
    status:
      opts.statusColumn !== undefined
        ? { column: opts.statusColumn, sql: quoteIdentifier(opts.statusColumn), accepted: statuses }
        : undefined,
  };
};

/** A value read from a user date column must be a date; say which table holds what instead. */
export const checkStoredDate = (value: unknown, table: string, column: string, type: DateColumnType | undefined): IsoDate => {
  if (isIsoDate(value)) return value;
  const hint =
    type === undefined || type === 'date' || type === 'DATE'
      ? '; for timestamps set dateColumnType: "datetime" (text) or "epoch-seconds"/"epoch-millis" (numbers)'
      : '';
  throw new SqliteStoreError(`table "${table}" column "${column}" holds ${JSON.stringify(value)}, which is not a YYYY-MM-DD date${hint}`, {
    code: 'query_failed',
  });
};

export const wrapRead = <A>(what: string, fn: () => A): A => {
  try {
    return fn();
  } catch (cause) {
    if (cause instanceof SqliteStoreError || isBusy(cause)) throw cause; // busy: retried by the caller
    throw new SqliteStoreError(`${what} failed: ${(cause as Error).message}`, { cause });
  }
};
