import type { IsoDate, ScheduleSource, ScheduleWindowDescription, WindowQuery } from '@smart-backfill/core';
import { bytesLimit, connect, p, runQuery, type BigQueryConnectionOptions, type Connection, type Param } from './client.js';
import { checkWindow, dateSql, resolveDateColumn, type DateColumn, type DateColumnOptions } from './date-column.js';
import { readDate, readInt, readStringOrNull } from './decode.js';
import { configError } from './errors.js';
import { quoteColumn, quoteTable, resolveTable, tableName, validateColumn, type TableInput, type TableRef } from './identifiers.js';

/** Where expected dates come from: any table with a date column (the seed: `nba_raw.game_schedule`). */
export interface BigQueryScheduleOptions extends DateColumnOptions {
  /** `dataset.table`, `project.dataset.table` or `{ projectId?, datasetId, tableId }`. */
  readonly table: TableInput;
  /** Only rows whose status is one of `statuses` count (the seed: `game_status`). */
  readonly statusColumn?: string | undefined;
  /** Accepted statuses (the seed: `['Final', 'Completed']`). Required with `statusColumn`. */
  readonly statuses?: readonly string[] | undefined;
  /** When one schedule table serves several processors: the column holding the processor name. */
  readonly processorColumn?: string | undefined;
  /** Overrides the store's `maximumBytesBilled` for this query. */
  readonly maximumBytesBilled?: number | string | undefined;
}

/** A validated schedule spec; builds its query body. */
export interface ScheduleSpec {
  readonly table: TableRef;
  readonly date: DateColumn;
  readonly statusColumn: string | undefined;
  readonly statuses: readonly string[];
  readonly processorColumn: string | undefined;
}

export const resolveScheduleSpec = (o: BigQueryScheduleOptions, defaultProject: string, field = 'schedule'): ScheduleSpec => {
  if (typeof o !== 'object' || o === null) throw configError(`${field} options must be an object with table and dateColumn`);
  const table = resolveTable(`${field}.table`, o.table, defaultProject);
  const date = resolveDateColumn(field, o);
  const statusColumn = o.statusColumn === undefined ? undefined : validateColumn(`${field}.statusColumn`, o.statusColumn);
  const statuses = o.statuses ?? [];
  if (!Array.isArray(statuses) || statuses.some((s) => typeof s !== 'string'))
    throw configError(`${field}.statuses must be a list of strings`);
  if (statusColumn !== undefined && statuses.length === 0)
    throw configError(`${field}.statuses must list the accepted statuses (e.g. ["Final", "Completed"]) when statusColumn is set`);
  if (statusColumn === undefined && statuses.length > 0) throw configError(`${field}.statuses needs ${field}.statusColumn`);
  const processorColumn = o.processorColumn === undefined ? undefined : validateColumn(`${field}.processorColumn`, o.processorColumn);
  return { table, date, statusColumn, statuses, processorColumn };
};

/** `SELECT DISTINCT <date> AS d FROM ... WHERE <window> AND <status> AND <processor>` */
export const scheduleBody = (s: ScheduleSpec, q: WindowQuery): { sql: string; params: Record<string, Param> } => {
  const d = dateSql(s.date, q, 's');
  const where = [...d.where];
  const params: Record<string, Param> = { ...d.params };
  if (s.statusColumn !== undefined) {
    where.push(`${quoteColumn(s.statusColumn)} IN UNNEST(@s_statuses)`);
    params['s_statuses'] = p.strings(s.statuses);
  }
  if (s.processorColumn !== undefined) {
    where.push(`${quoteColumn(s.processorColumn)} = @processor`);
    params['processor'] = p.string(q.processorName);
  }
  return { sql: `SELECT DISTINCT ${d.expr} AS d\n  FROM ${quoteTable(s.table)}\n  WHERE ${where.join('\n    AND ')}`, params };
};

/**
 * `SELECT <status> AS status, COUNT(*) AS n FROM ... WHERE <window> AND <processor> GROUP BY status`:
 * the window's rows before the status filter (what `describeWindow` reports).
 */
const describeBody = (s: ScheduleSpec, q: WindowQuery): { sql: string; params: Record<string, Param> } => {
  const d = dateSql(s.date, q, 's');
  const where = [...d.where];
  const params: Record<string, Param> = { ...d.params };
  if (s.processorColumn !== undefined) {
    where.push(`${quoteColumn(s.processorColumn)} = @processor`);
    params['processor'] = p.string(q.processorName);
  }
  const status = s.statusColumn === undefined ? 'CAST(NULL AS STRING)' : `CAST(${quoteColumn(s.statusColumn)} AS STRING)`;
  return {
    sql: `SELECT ${status} AS status, COUNT(*) AS n\n  FROM ${quoteTable(s.table)}\n  WHERE ${where.join('\n    AND ')}\n  GROUP BY status`,
    params,
  };
};

/** `describeWindow` for a schedule spec, one query job per call (made only when a window came back empty). */
export const scheduleDescriber =
  (c: Connection, spec: ScheduleSpec, limit: ReturnType<typeof bytesLimit>) =>
  async (q: WindowQuery): Promise<ScheduleWindowDescription> => {
    const body = describeBody(spec, checkWindow(q));
    const rows = await runQuery(c, {
      sql: `-- smart-backfill:schedule-describe\n${body.sql}`,
      params: body.params,
      purpose: `describing the schedule in ${quoteTable(spec.table)}`,
      table: spec.table,
      maximumBytesBilled: limit,
    });
    const found = rows.map((r) => ({ status: readStringOrNull('status', r['status']), count: readInt('n', r['n']) }));
    const rowsInWindow = found.reduce((sum, f) => sum + f.count, 0);
    const source = tableName(spec.table);
    if (spec.statusColumn === undefined) return { source, rowsInWindow };
    return { source, rowsInWindow, statusFilter: { column: spec.statusColumn, accepted: spec.statuses, found } };
  };

/** Expected dates from a BigQuery table, one query job per call. */
export const bigQueryScheduleSource = (conn: BigQueryConnectionOptions | Connection, options: BigQueryScheduleOptions): ScheduleSource => {
  const c = connect(conn);
  const spec = resolveScheduleSpec(options, c.projectId);
  const limit = bytesLimit('schedule.maximumBytesBilled', options.maximumBytesBilled);
  return {
    async expectedDates(q: WindowQuery): Promise<readonly IsoDate[]> {
      const body = scheduleBody(spec, checkWindow(q));
      const rows = await runQuery(c, {
        sql: `-- smart-backfill:schedule\n${body.sql}`,
        params: body.params,
        purpose: `reading expected dates from ${quoteTable(spec.table)}`,
        table: spec.table,
        maximumBytesBilled: limit,
      });
      return rows.map((r) => readDate('d', r['d']));
    },
    describeWindow: scheduleDescriber(c, spec, limit),
  };
};
