import type { IsoDate, TargetTable, WindowQuery } from '@smart-backfill/core';
import { bytesLimit, connect, p, runQuery, type BigQueryConnectionOptions, type Connection, type Param } from './client.js';
import { checkWindow, dateSql, resolveDateColumn, type DateColumn, type DateColumnOptions } from './date-column.js';
import { readDate, readInt } from './decode.js';
import { configError } from './errors.js';
import { quoteColumn, quoteTable, resolveTable, validateColumn, type TableInput, type TableRef } from './identifiers.js';

/**
 * The table a processor fills. The date column is explicit: the seed grouped
 * `DATE(date_range_start)` while its schedule spoke of `game_date`; here you say
 * which column (and its type) decides a row's date.
 */
export interface BigQueryTargetOptions extends DateColumnOptions {
  readonly table: TableInput;
  /** When one table holds several processors' rows: the column holding the processor name. */
  readonly processorColumn?: string | undefined;
  readonly maximumBytesBilled?: number | string | undefined;
}

export interface TargetSpec {
  readonly table: TableRef;
  readonly date: DateColumn;
  readonly processorColumn: string | undefined;
}

export const resolveTargetSpec = (o: BigQueryTargetOptions, defaultProject: string, field = 'target'): TargetSpec => {
  if (typeof o !== 'object' || o === null) throw configError(`${field} options must be an object with table and dateColumn`);
  return {
    table: resolveTable(`${field}.table`, o.table, defaultProject),
    date: resolveDateColumn(field, o),
    processorColumn: o.processorColumn === undefined ? undefined : validateColumn(`${field}.processorColumn`, o.processorColumn),
  };
};

/** `SELECT <date> AS d, COUNT(*) AS n FROM ... WHERE <window> GROUP BY d` — raw counts; the core applies the minimum. */
export const countsBody = (t: TargetSpec, q: WindowQuery): { sql: string; params: Record<string, Param> } => {
  const d = dateSql(t.date, q, 't');
  const where = [...d.where];
  const params: Record<string, Param> = { ...d.params };
  if (t.processorColumn !== undefined) {
    where.push(`${quoteColumn(t.processorColumn)} = @processor`);
    params['processor'] = p.string(q.processorName);
  }
  return {
    sql: `SELECT ${d.expr} AS d, COUNT(*) AS n\n  FROM ${quoteTable(t.table)}\n  WHERE ${where.join('\n    AND ')}\n  GROUP BY d`,
    params,
  };
};

export const readCounts = (rows: readonly Record<string, unknown>[]): Map<IsoDate, number> => {
  const out = new Map<IsoDate, number>();
  for (const r of rows) out.set(readDate('d', r['d']), readInt('n', r['n']));
  return out;
};

/** Row counts per date from a BigQuery table, one query job per call. */
export const bigQueryTargetTable = (conn: BigQueryConnectionOptions | Connection, options: BigQueryTargetOptions): TargetTable => {
  const c = connect(conn);
  const spec = resolveTargetSpec(options, c.projectId);
  const limit = bytesLimit('target.maximumBytesBilled', options.maximumBytesBilled);
  return {
    async recordCounts(q: WindowQuery): Promise<ReadonlyMap<IsoDate, number>> {
      const body = countsBody(spec, checkWindow(q));
      const rows = await runQuery(c, {
        sql: `-- smart-backfill:counts\n${body.sql}`,
        params: body.params,
        purpose: `reading counts from ${quoteTable(spec.table)}`,
        table: spec.table,
        maximumBytesBilled: limit,
      });
      return readCounts(rows);
    },
  };
};
