import {
  alertInCheck,
  heldRunInCheck,
  type AlertRecord,
  type BackfillRequest,
  type CheckData,
  type CheckQuery,
  type CheckReader,
  type HeldRun,
  type WindowReader,
} from '@smart-backfill/core';
import { fromRow as alertFromRow } from './bigquery-alert-log.js';
import { fromRow as requestFromRow } from './bigquery-request-tracker.js';
import { heldFromRow, type HeldKey } from './bigquery-run-log.js';
import { resolveScheduleSpec, type BigQueryScheduleOptions } from './bigquery-schedule-source.js';
import { resolveTargetSpec, type BigQueryTargetOptions } from './bigquery-target-table.js';
import { bigQueryWindowReader, windowCtes, windowRows } from './bigquery-window-reader.js';
import { bytesLimit, connect, p, runQuery, type BigQueryConnectionOptions, type Connection } from './client.js';
import { corruptError } from './errors.js';
import type { OwnWrites, Stamped } from './event-table.js';
import { quoteTable, type TableRef } from './identifiers.js';
import { ALERT_EVENTS, HELD_RUN_EVENTS, LATEST_ORDER, REQUEST_EVENTS, columnList, type TableDef } from './schema.js';
import { resolveTracking, type BigQueryTrackingOptions } from './tracking.js';

export interface BigQueryCheckReaderOptions {
  readonly tracking?: BigQueryTrackingOptions | undefined;
  readonly maximumBytesBilled?: number | string | undefined;
}

/** The store's ports' own writes, which count for this process before queries show them (`OwnWrites`). */
export interface CheckOwnWrites {
  readonly requests: OwnWrites<BackfillRequest, string>;
  readonly held: OwnWrites<HeldRun, HeldKey>;
  readonly alerts: OwnWrites<AlertRecord, string>;
}

/** A record with its row's version as `revision`, for the change that builds on it. */
const revised = <S>(r: Stamped<S>): S => ({ ...r.state, revision: r.version });

/** A `TO_JSON_STRING` payload column as an object. */
const payloadOf = (r: Record<string, unknown>): Record<string, unknown> => {
  const v = r['payload'];
  if (typeof v !== 'string') throw corruptError(`check query returned a ${String(r['kind'])} row without a payload`);
  const o = JSON.parse(v) as unknown;
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw corruptError(`check query returned a ${String(r['kind'])} row whose payload is not an object`);
  return o as Record<string, unknown>;
};

/**
 * `name AS (…)`: of the rows of the event table `events` that `where` picks, the latest of each
 * `key` (by `LATEST_ORDER`), kept when `keep` holds.
 */
const latestRowsCte = (
  name: string,
  events: TableRef,
  def: TableDef,
  q: { readonly where: string; readonly key: string; readonly keep: string },
): string => `${name} AS (
SELECT * FROM (
SELECT ${columnList(def)}
FROM ${quoteTable(events)}
WHERE ${q.where}
QUALIFY ROW_NUMBER() OVER (PARTITION BY ${q.key} ORDER BY ${LATEST_ORDER}) = 1
) AS latest
WHERE ${q.keep}
)`;

const byRunDate = (a: HeldRun, b: HeldRun): number => (a.runDate < b.runDate ? -1 : a.runDate > b.runDate ? 1 : 0);
/** The alert log's `list` order: newest first. */
const newestFirst = (a: AlertRecord, b: AlertRecord): number =>
  b.openedAt - a.openedAt || (a.alertKey < b.alertKey ? 1 : a.alertKey > b.alertKey ? -1 : 0);

/**
 * A whole guard check in one query job: the seed's schedule-and-counts CTE plus the
 * window's requests, the processor's alerts and its held runs from the tracking tables,
 * as rows of one `UNION ALL` (`kind, d, n, payload`). Alerts and held runs carry their
 * row's `version` as `revision`, so the guard's changes right after build on them without
 * reading them again. Also the plain one-job `WindowReader` (re-counts, alert upkeep).
 */
export const bigQueryCheckReader = (
  conn: BigQueryConnectionOptions | Connection,
  schedule: BigQueryScheduleOptions,
  target: BigQueryTargetOptions,
  options: BigQueryCheckReaderOptions = {},
  /** The store's: what its tracker, run log and alert log wrote and queries may not show yet. */
  own?: CheckOwnWrites,
): WindowReader & CheckReader => {
  const c = connect(conn);
  const s = resolveScheduleSpec(schedule, c.projectId);
  const t = resolveTargetSpec(target, c.projectId);
  const tables = resolveTracking(options.tracking, c.projectId);
  const limit = bytesLimit('maximumBytesBilled', options.maximumBytesBilled);
  const windowReader = bigQueryWindowReader(c, schedule, target, { maximumBytesBilled: options.maximumBytesBilled });
  const requests = latestRowsCte('window_requests', tables.requestEvents, REQUEST_EVENTS, {
    where: 'processor_name = @r_processor AND game_date BETWEEN @r_start_date AND @r_end_date',
    key: 'request_id',
    keep: 'superseded_by IS NULL',
  });
  // Open alerts, and resolved ones naming a window date: an alert the check may reopen is among them.
  const alerts = latestRowsCte('check_alerts', tables.alertEvents, ALERT_EVENTS, {
    where: 'processor_name = @a_processor',
    key: 'alert_key',
    keep: 'resolved_at IS NULL OR EXISTS (SELECT 1 FROM UNNEST(missing_dates) AS m WHERE m BETWEEN @a_start_date AND @a_end_date)',
  });
  const held = latestRowsCte('check_held', tables.heldRunEvents, HELD_RUN_EVENTS, {
    where: 'processor_name = @h_processor',
    key: 'processor_name, game_date',
    keep: "status = 'held' OR game_date = @h_run_date",
  });
  const payload = (kind: string, from: string): string =>
    `SELECT '${kind}' AS kind, CAST(NULL AS DATE) AS d, CAST(NULL AS INT64) AS n, TO_JSON_STRING(x) AS payload FROM ${from} AS x`;

  return {
    readWindow: (q) => windowReader.readWindow(q),
    ...(windowReader.describeWindow === undefined ? {} : { describeWindow: windowReader.describeWindow.bind(windowReader) }),

    async readCheck(q: CheckQuery): Promise<CheckData> {
      const w = windowCtes(s, t, q);
      const sql = [
        '-- smart-backfill:check window+requests+alerts+held',
        `WITH ${w.sql},\n${requests},\n${alerts},\n${held}`,
        [
          "SELECT 'expected' AS kind, d, CAST(NULL AS INT64) AS n, CAST(NULL AS STRING) AS payload FROM expected",
          "SELECT 'count' AS kind, d, n, CAST(NULL AS STRING) AS payload FROM counts",
          payload('request', 'window_requests'),
          payload('alert', 'check_alerts'),
          payload('held', 'check_held'),
        ].join('\nUNION ALL\n'),
      ].join('\n');
      const rows = await runQuery(c, {
        sql,
        params: {
          ...w.params,
          r_processor: p.string(q.processorName),
          r_start_date: p.date(q.start),
          r_end_date: p.date(q.end),
          a_processor: p.string(q.processorName),
          a_start_date: p.date(q.start),
          a_end_date: p.date(q.end),
          h_processor: p.string(q.processorName),
          h_run_date: p.date(q.runDate),
        },
        purpose: `reading the check of ${JSON.stringify(q.processorName)} from ${quoteTable(s.table)}, ${quoteTable(t.table)} and the tracking tables`,
        table: t.table,
        // The window's limit; the tracking tables add little.
        maximumBytesBilled: limit,
      });
      const window = windowRows();
      let reqs: Stamped<BackfillRequest>[] = [];
      let alertRecords: Stamped<AlertRecord>[] = [];
      let heldRuns: Stamped<HeldRun>[] = [];
      for (const r of rows) {
        if (window.take(r)) continue;
        switch (r['kind']) {
          case 'request':
            reqs.push(requestFromRow(payloadOf(r)));
            break;
          case 'alert':
            alertRecords.push(alertFromRow(payloadOf(r)));
            break;
          case 'held':
            heldRuns.push(heldFromRow(payloadOf(r)));
            break;
          default:
            throw corruptError(`check query returned an unexpected row kind ${JSON.stringify(r['kind'])}`);
        }
      }
      if (own !== undefined) {
        // What this process wrote and the query may not show yet (a streamed hold or alert), as the ports' own reads do.
        reqs = own.requests.overlayStamped(
          reqs,
          (x) => x.requestId,
          () => true,
          false,
        );
        alertRecords = own.alerts.overlayStamped(
          alertRecords,
          (a) => a.alertKey,
          (a) => alertInCheck(a, q),
        );
        heldRuns = own.held.overlayStamped(
          heldRuns,
          (h) => [h.processorName, h.runDate],
          (h) => heldRunInCheck(h, q),
        );
      }
      return {
        ...window.data,
        requests: reqs.map((x) => x.state),
        alerts: alertRecords.map(revised).sort(newestFirst),
        heldRuns: heldRuns.map(revised).sort(byRunDate),
      };
    },
  };
};
