import type { IsoDate, WindowData, WindowQuery, WindowReader } from '@smart-backfill/core';
import { bytesLimit, connect, runQuery, type BigQueryConnectionOptions, type Connection } from './client.js';
import { checkWindow } from './date-column.js';
import { readDate, readInt } from './decode.js';
import { corruptError } from './errors.js';
import { quoteTable } from './identifiers.js';
import { resolveScheduleSpec, scheduleBody, scheduleDescriber, type BigQueryScheduleOptions } from './bigquery-schedule-source.js';
import { countsBody, resolveTargetSpec, type BigQueryTargetOptions } from './bigquery-target-table.js';

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
      checkWindow(q);
      const sb = scheduleBody(s, q);
      const cb = countsBody(t, q);
      const sql = [
        '-- smart-backfill:window',
        `WITH expected AS (\n  ${sb.sql}\n), counts AS (\n  ${cb.sql}\n)`,
        "SELECT 'expected' AS kind, d, CAST(NULL AS INT64) AS n FROM expected",
        'UNION ALL',
        "SELECT 'count' AS kind, d, n FROM counts",
      ].join('\n');
      const rows = await runQuery(c, { sql, params: { ...sb.params, ...cb.params }, purpose, table: t.table, maximumBytesBilled: limit });
      const expectedDates: IsoDate[] = [];
      const recordCounts = new Map<IsoDate, number>();
      for (const r of rows) {
        const d = readDate('d', r['d']);
        if (r['kind'] === 'expected') expectedDates.push(d);
        else if (r['kind'] === 'count') recordCounts.set(d, readInt('n', r['n']));
        else throw corruptError(`window query returned an unexpected row kind ${JSON.stringify(r['kind'])}`);
      }
      return { expectedDates, recordCounts };
    },
    // Only called when a window came back empty.
    describeWindow: scheduleDescriber(c, s, limit),
  };
};
