import { addDays, isIsoDate, type IsoDate, type WindowQuery } from '@smart-backfill/core';
import type { Param } from './client.js';
import { p } from './client.js';
import { configError, inputError } from './errors.js';
import { quoteColumn, validateColumn, type PseudoColumn } from './identifiers.js';

export type DateColumnType = 'DATE' | 'TIMESTAMP' | 'DATETIME';

/** How a table's rows map to calendar dates, and how to prune it to a window. */
export interface DateColumnOptions {
  /** The column whose calendar date a row belongs to (the seed: `game_date`). */
  readonly dateColumn: string;
  /**
   * `DATE` (default) is used as is. `TIMESTAMP` rows count on their UTC date (`DATE(col)`),
   * `DATETIME` on their civil date. The filter is always on the column itself
   * (`col >= @from AND col < @until`), never on `DATE(col)`, so BigQuery prunes partitions.
   */
  readonly dateColumnType?: DateColumnType | undefined;
  /**
   * The partitioning column, when it is not `dateColumn` (e.g. `_PARTITIONDATE`,
   * `_PARTITIONTIME` or a load timestamp). An extra filter on it over the window
   * (plus `partitionLagDays`) lets BigQuery prune; without it the whole table is scanned.
   */
  readonly partitionColumn?: string | undefined;
  /** Type of `partitionColumn`; defaults to `dateColumnType` (pseudo-columns have fixed types). */
  readonly partitionColumnType?: DateColumnType | undefined;
  /**
   * Rows for date D may land in partitions up to D + this many days (late loads into an
   * ingestion-time partition). Default 0. Only with `partitionColumn`.
   */
  readonly partitionLagDays?: number | undefined;
}

export interface DateColumn {
  readonly column: string;
  readonly type: DateColumnType;
  readonly partition: { readonly column: string; readonly type: DateColumnType; readonly lagDays: number } | undefined;
}

const TYPES: readonly DateColumnType[] = ['DATE', 'TIMESTAMP', 'DATETIME'];
const PSEUDO_TYPES: Record<PseudoColumn, DateColumnType> = { _PARTITIONDATE: 'DATE', _PARTITIONTIME: 'TIMESTAMP' };

const checkType = (field: string, v: unknown): DateColumnType => {
  if (!(TYPES as readonly unknown[]).includes(v))
    throw configError(`${field} must be one of ${TYPES.join(', ')}, got ${JSON.stringify(v) ?? String(v)}`);
  return v as DateColumnType;
};

export const resolveDateColumn = (field: string, o: DateColumnOptions): DateColumn => {
  const column = validateColumn(`${field}.dateColumn`, o.dateColumn);
  const type = o.dateColumnType === undefined ? 'DATE' : checkType(`${field}.dateColumnType`, o.dateColumnType);
  if (o.partitionColumn === undefined || o.partitionColumn === column) {
    if (o.partitionLagDays !== undefined && o.partitionLagDays !== 0)
      throw configError(`${field}.partitionLagDays needs a partitionColumn different from dateColumn`);
    return { column, type, partition: undefined };
  }
  const pcol = validateColumn(`${field}.partitionColumn`, o.partitionColumn, { allowPseudo: true });
  const pseudo = PSEUDO_TYPES[pcol as PseudoColumn] as DateColumnType | undefined;
  const ptype = pseudo ?? (o.partitionColumnType === undefined ? type : checkType(`${field}.partitionColumnType`, o.partitionColumnType));
  if (pseudo !== undefined && o.partitionColumnType !== undefined && o.partitionColumnType !== pseudo) {
    throw configError(`${field}.partitionColumnType must be ${pseudo} for ${pcol}, got ${o.partitionColumnType}`);
  }
  const lag = o.partitionLagDays ?? 0;
  if (!Number.isInteger(lag) || lag < 0 || lag > 366)
    throw configError(`${field}.partitionLagDays must be a whole number 0–366, got ${String(lag)}`);
  return { column, type, partition: { column: pcol, type: ptype, lagDays: lag } };
};

const dayStartMs = (d: IsoDate): number => Date.parse(`${d}T00:00:00Z`);

/** `col` in [start, end] as a prunable range on the column itself, with typed parameters. */
const rangeFilter = (
  column: string,
  type: DateColumnType,
  start: IsoDate,
  end: IsoDate,
  prefix: string,
): { sql: string; params: Record<string, Param> } => {
  const c = quoteColumn(column);
  switch (type) {
    case 'DATE':
      return {
        sql: `${c} BETWEEN @${prefix}_start AND @${prefix}_end`,
        params: { [`${prefix}_start`]: p.date(start), [`${prefix}_end`]: p.date(end) },
      };
    case 'TIMESTAMP':
      return {
        sql: `${c} >= @${prefix}_from AND ${c} < @${prefix}_until`,
        params: { [`${prefix}_from`]: p.timestamp(dayStartMs(start)), [`${prefix}_until`]: p.timestamp(dayStartMs(addDays(end, 1))) },
      };
    case 'DATETIME':
      return {
        sql: `${c} >= @${prefix}_from AND ${c} < @${prefix}_until`,
        params: { [`${prefix}_from`]: p.datetime(`${start}T00:00:00`), [`${prefix}_until`]: p.datetime(`${addDays(end, 1)}T00:00:00`) },
      };
  }
};

/** The SQL for a date column over a window: the grouping expression and the WHERE conditions. */
export const dateSql = (
  dc: DateColumn,
  q: WindowQuery,
  prefix: string,
): { expr: string; where: string[]; params: Record<string, Param> } => {
  const own = rangeFilter(dc.column, dc.type, q.start, q.end, prefix);
  const where = [own.sql];
  const params = { ...own.params };
  if (dc.partition !== undefined) {
    const part = rangeFilter(dc.partition.column, dc.partition.type, q.start, addDays(q.end, dc.partition.lagDays), `${prefix}_part`);
    where.push(part.sql);
    Object.assign(params, part.params);
  }
  return { expr: dc.type === 'DATE' ? quoteColumn(dc.column) : `DATE(${quoteColumn(dc.column)})`, where, params };
};

/** Reject a malformed window before it reaches SQL parameters (a bad date would fail in BigQuery with a vaguer message). */
export const checkWindow = (q: WindowQuery, what = 'window'): WindowQuery => {
  if (typeof q !== 'object' || q === null) throw inputError(what, `${what} must be { processorName, start, end }`);
  if (typeof q.processorName !== 'string')
    throw inputError(`${what}.processorName`, `${what}.processorName must be a string, got ${typeof q.processorName}`);
  for (const k of ['start', 'end'] as const) {
    if (!isIsoDate(q[k]))
      throw inputError(`${what}.${k}`, `${what}.${k} must be a YYYY-MM-DD date, got ${JSON.stringify(q[k]) ?? String(q[k])}`);
  }
  return q;
};
