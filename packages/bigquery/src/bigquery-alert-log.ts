import {
  openedAlert,
  resolvedAlert,
  sendFailedAlert,
  sentAlert,
  updatedAlert,
  type AlertLog,
  type AlertRecord,
} from '@smart-backfill/core';
import { bytesLimit, connect, p, runQuery, type BigQueryConnectionOptions, type Connection, type Param } from './client.js';
import { readDate, readDates, readInt, readMillis, readMillisOrNull, readString, readStringOrNull, tsOut } from './decode.js';
import { checkDateInput, inputError } from './errors.js';
import { quoteTable } from './identifiers.js';
import {
  insertIdOf,
  keyedLock,
  metaColumns,
  mutate,
  knownRow,
  ownWrites,
  type OwnWrites,
  stampedOf,
  type EventMeta,
  type EventTable,
  type Stamped,
} from './event-table.js';
import { ALERT_EVENTS, LATEST_ORDER, columnList } from './schema.js';
import { resolveTracking, type BigQueryTrackingOptions } from './tracking.js';

export interface BigQueryAlertLogOptions {
  readonly tracking?: BigQueryTrackingOptions | undefined;
  /**
   * Read back each change to detect a lost race: two guards of one processor escalating at
   * the same moment then send one notice, not two. Default false: the read-backs cost a
   * guard check two more query jobs, and this log's own changes already count for itself
   * before queries show them (docs/bigquery.md, "Streamed rows show up late").
   */
  readonly verifyWrites?: boolean | undefined;
  readonly maximumBytesBilled?: number | string | undefined;
}

export const fromRow = (r: Record<string, unknown>): Stamped<AlertRecord> =>
  stampedOf(
    {
      alertKey: readString('alert_key', r['alert_key']),
      processorName: readString('processor_name', r['processor_name']),
      reason: readString('reason', r['reason']) as AlertRecord['reason'],
      runDate: readDate('run_date', r['run_date']),
      missingDates: readDates('missing_dates', r['missing_dates']),
      lastError: readStringOrNull('last_error', r['last_error']),
      openedAt: readMillis('opened_at', r['opened_at']),
      updatedAt: readMillis('updated_at', r['updated_at']),
      lastSentAt: readMillisOrNull('last_sent_at', r['last_sent_at']),
      sendCount: readInt('send_count', r['send_count']),
      resolvedAt: readMillisOrNull('resolved_at', r['resolved_at']),
      // NULL in rows written before these columns existed: nothing failed then.
      sendFailures: r['send_failures'] == null ? 0 : readInt('send_failures', r['send_failures']),
      lastSendError: readStringOrNull('last_send_error', r['last_send_error']),
      lastSendFailedAt: readMillisOrNull('last_send_failed_at', r['last_send_failed_at']),
    },
    r,
  );

const toRow = (a: AlertRecord, meta: EventMeta): Record<string, unknown> => ({
  alert_key: a.alertKey,
  processor_name: a.processorName,
  reason: a.reason,
  run_date: a.runDate,
  missing_dates: [...a.missingDates],
  last_error: a.lastError,
  opened_at: tsOut(a.openedAt),
  updated_at: tsOut(a.updatedAt),
  last_sent_at: tsOut(a.lastSentAt),
  send_count: a.sendCount,
  resolved_at: tsOut(a.resolvedAt),
  send_failures: a.sendFailures ?? 0,
  last_send_error: a.lastSendError ?? null,
  last_send_failed_at: tsOut(a.lastSendFailedAt ?? null),
  ...metaColumns(meta),
});

/** Alerts as an append-only event table plus a latest-state view (`alerts`). */
export const bigQueryAlertLog = (
  conn: BigQueryConnectionOptions | Connection,
  options: BigQueryAlertLogOptions = {},
  /** The store's: its check reader overlays the same own writes. */
  shared?: { readonly own: OwnWrites<AlertRecord, string> },
): AlertLog => {
  const c = connect(conn);
  const tables = resolveTracking(options.tracking, c.projectId);
  const limit = bytesLimit('maximumBytesBilled', options.maximumBytesBilled);
  const verify = options.verifyWrites ?? false;
  const lock = keyedLock();
  const from = quoteTable(tables.alertEvents);
  const cols = columnList(ALERT_EVENTS);
  const latest = `QUALIFY ROW_NUMBER() OVER (PARTITION BY alert_key ORDER BY ${LATEST_ORDER}) = 1`;

  const own = shared?.own ?? ownWrites<AlertRecord, string>();
  const table: EventTable<AlertRecord, string> = {
    table: tables.alertEvents,
    own,
    describe: (key) => `alert ${JSON.stringify(key)}`,
    async readLatest(key) {
      const rows = await runQuery(c, {
        sql: `-- smart-backfill:alerts.get\nSELECT ${cols}\nFROM ${from}\nWHERE alert_key = @alert_key\n${latest}`,
        params: { alert_key: p.string(key) },
        purpose: `reading alert ${JSON.stringify(key)} from ${from}`,
        table: tables.alertEvents,
        maximumBytesBilled: limit,
      });
      return rows.length === 0 ? undefined : fromRow(rows[0]!);
    },
    async readSince(key, version) {
      const rows = await runQuery(c, {
        sql: `-- smart-backfill:alerts.since\nSELECT ${cols}\nFROM ${from}\nWHERE alert_key = @alert_key AND version >= @version`,
        params: { alert_key: p.string(key), version: p.int(version) },
        purpose: `reading back alert ${JSON.stringify(key)} from ${from}`,
        table: tables.alertEvents,
        maximumBytesBilled: limit,
      });
      return rows.map(fromRow);
    },
    eventId: (key, _next, version, event) => insertIdOf(JSON.stringify(['alert', key, version, event])),
    toRow,
  };

  /** A change builds on the record the caller hands over (with its `revision`), else reads it. */
  const opts = (current: AlertRecord | null | undefined) => ({ verify, maxTries: 5, known: knownRow(current) });
  const revised = (w: AlertRecord, version: number): AlertRecord => ({ ...w, revision: version });

  /** A delivery outcome on the alert's latest record (a `healed` notice can fail after `resolve`). */
  const markDelivery = async (
    alertKey: string,
    event: 'sent' | 'send_failed',
    at: number,
    next: (cur: AlertRecord) => AlertRecord,
    current: AlertRecord | null | undefined,
  ) => {
    await lock(alertKey, () =>
      mutate<AlertRecord, string, void>(
        c,
        table,
        alertKey,
        (cur) =>
          cur === undefined
            ? { _tag: 'Done', value: undefined }
            : // A delivery mark records this caller's own send and decides nothing (no single winner
              // hangs on it), so like MarkPublished it is not read back.
              { _tag: 'Write', next: next(cur.state), event, at, result: () => undefined, unverified: true },
        opts(current),
      ),
    );
  };

  return {
    async upsertOpen(alert, options = {}) {
      if (typeof alert?.alertKey !== 'string' || alert.alertKey.length === 0)
        throw inputError('alert.alertKey', 'alert.alertKey must be a non-empty string');
      checkDateInput(alert.runDate, 'alert.runDate');
      return lock(alert.alertKey, () =>
        mutate<AlertRecord, string, { readonly created: boolean; readonly record: AlertRecord }>(
          c,
          table,
          alert.alertKey,
          (cur, lost) => {
            // Another caller opened (or updated) it while we wrote: it is open; only that caller reports created.
            if (lost && cur !== undefined && cur.state.resolvedAt === null)
              return { _tag: 'Done', value: { created: false, record: revised(cur.state, cur.version) } };
            if (cur === undefined || cur.state.resolvedAt !== null) {
              const record = openedAlert(alert);
              return {
                _tag: 'Write',
                next: record,
                event: 'open',
                at: alert.at,
                result: (w, v) => ({ created: true, record: revised(w, v) }),
              };
            }
            const record = updatedAlert(cur.state, alert);
            return {
              _tag: 'Write',
              next: record,
              event: 'update',
              at: alert.at,
              result: (w, v) => ({ created: false, record: revised(w, v) }),
            };
          },
          opts(options.current),
        ),
      );
    },

    markSent: (alertKey, at, options = {}) => markDelivery(alertKey, 'sent', at, (cur) => sentAlert(cur, at), options.current),

    markSendFailed: (alertKey, at, error, options = {}) =>
      markDelivery(alertKey, 'send_failed', at, (cur) => sendFailedAlert(cur, at, error), options.current),

    async resolve(alertKey, at, options = {}): Promise<AlertRecord | undefined> {
      return lock(alertKey, () =>
        mutate<AlertRecord, string, AlertRecord | undefined>(
          c,
          table,
          alertKey,
          (cur) =>
            cur === undefined || cur.state.resolvedAt !== null
              ? { _tag: 'Done', value: undefined }
              : { _tag: 'Write', next: resolvedAlert(cur.state, at), event: 'resolve', at, result: revised },
          opts(options.current),
        ),
      );
    },

    async list(q: {
      readonly processorName?: string | undefined;
      readonly openOnly?: boolean | undefined;
    }): Promise<readonly AlertRecord[]> {
      const params: Record<string, Param> = {};
      let where = 'TRUE';
      if (q.processorName !== undefined) {
        where = 'processor_name = @processor';
        params['processor'] = p.string(q.processorName);
      }
      const outer = q.openOnly === true ? 'WHERE resolved_at IS NULL\n' : '';
      const sql = `-- smart-backfill:alerts.list\nSELECT * FROM (\nSELECT ${cols}\nFROM ${from}\nWHERE ${where}\n${latest}\n) AS latest\n${outer}ORDER BY opened_at DESC, alert_key DESC`;
      // This log's own changes count before queries show them: an alert it opened is not opened (and sent) again.
      const withOwn = (rows: readonly Stamped<AlertRecord>[]): AlertRecord[] =>
        own
          .overlay(
            rows,
            (a) => a.alertKey,
            (a) => (q.processorName === undefined || a.processorName === q.processorName) && (q.openOnly !== true || a.resolvedAt === null),
          )
          .sort((a, b) => b.openedAt - a.openedAt || (a.alertKey < b.alertKey ? 1 : a.alertKey > b.alertKey ? -1 : 0));
      return withOwn(
        (
          await runQuery(c, { sql, params, purpose: `listing alerts from ${from}`, table: tables.alertEvents, maximumBytesBilled: limit })
        ).map(fromRow),
      );
    },
  };
};
