import type { IsoDate, WindowData, WindowQuery, WindowReader } from '@smart-backfill/core';
import { bytesLimit, connect, runQuery, type BigQueryConnectionOptions, type Connection, type Param } from './client.js';
import { checkWindow } from './date-column.js';
import { readDate, readInt } from './decode.js';
import { corruptError } from './errors.js';
import { quoteTable } from './identifiers.js';
import {
  resolveScheduleSpec,
  scheduleBody,
  scheduleDescriber,
  type BigQueryScheduleOptions,
  type ScheduleSpec,
} from './bigquery-schedule-source.js';
import { countsBody, resolveTargetSpec, type BigQueryTargetOptions, type TargetSpec } from './bigquery-target-table.js';

/** The window's CTEs, `expected` (scheduled dates) and `counts` (rows per date), with their parameters. */
export const windowCtes = (s: ScheduleSpec, t: TargetSpec, q: WindowQuery): { sql: string; params: Record<string, Param> } => {
  checkWindow(q);
  const sb = scheduleBody(s, q);
  const cb = countsBody(t, q);
  return { sql: `expected AS (\n  ${sb.sql}\n), counts AS (\n  ${cb.sql}\n)`, params: { ...sb.params, ...cb.params } };
};

/** Collects the window from a query's `expected` and `count` rows (columns `kind`, `d`, `n`). */
export const windowRows = (): { take(row: Record<string, unknown>): boolean; readonly data: WindowData } => {
  const expectedDates: IsoDate[] = [];
  const recordCounts = new Map<IsoDate, number>();
  return {
    /** False, and nothing taken, for a row of another kind. */
    take(r) {
      if (r['kind'] === 'expected') expectedDates.push(readDate('d', r['d']));
      else if (r['kind'] === 'count') recordCounts.set(readDate('d', r['d']), readInt('n', r['n']));
      else return false;
      return true;
    },
    data: { expectedDates, recordCounts },
  };
};

/**
 * Schedule and counts from one query job: the seed's CTE, minus its flaws (values
 * are parameters; counts are raw, so incomplete dates are told from absent ones;
 * both tables are filtered on their partition columns).
 */
export const bigQueryWindowReader = (
  conn: BigQueryConnectionOptions | Connection,
  schedule: BigQueryScheduleOptions,
  target: BigQueryTargetOptions,
  options: { readonly maximumBytesBilled?: number | string | undefined } = {},
): WindowReader => {
  const c = connect(conn);
  const s = resolveScheduleSpec(schedule, c.projectId);
  const t = resolveTargetSpec(target, c.projectId);
  const limit = bytesLimit('maximumBytesBilled', options.maximumBytesBilled);
  const purpose = `reading the window from ${quoteTable(s.table)} and ${quoteTable(t.table)}`;
  return {
    async readWindow(q: WindowQuery): Promise<WindowData> {
      const w = windowCtes(s, t, q);
      const sql = [
        '-- smart-backfill:window',
        `WITH ${w.sql}`,
        "SELECT 'expected' AS kind, d, CAST(NULL AS INT64) AS n FROM expected",
        'UNION ALL',
        "SELECT 'count' AS kind, d, n FROM counts",
      ].join('\n');
      const rows = await runQuery(c, { sql, params: w.params, purpose, table: t.table, maximumBytesBilled: limit });
      const window = windowRows();
      for (const r of rows)
        if (!window.take(r)) throw corruptError(`window query returned an unexpected row kind ${JSON.stringify(r['kind'])}`);
      return window.data;
    },
    // Only called when a window came back empty.
    describeWindow: scheduleDescriber(c, s, limit),
  };
};
