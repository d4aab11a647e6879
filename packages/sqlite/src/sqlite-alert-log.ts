import type Database from 'better-sqlite3';
import type { AlertLog, AlertReason, AlertRecord, IsoDate } from '@smart-backfill/core';
import { Filters } from './filters.js';
import { statementCache } from './statement-cache.js';
import { withBusyRetry, type BusyRetryOptions } from './busy.js';
import { SqliteInputError } from './errors.js';
import { checkDate, checkInstant, checkNonEmpty, checkObject, checkString, fromJson } from './values.js';

export interface SqliteAlertLogOptions {
  readonly busy?: BusyRetryOptions;
}

interface Row {
  id: number;
  alert_key: string;
  processor_name: string;
  reason: string;
  run_date: string;
  missing_dates: string;
  last_error: string | null;
  opened_at: number;
  updated_at: number;
  last_sent_at: number | null;
  send_count: number;
  resolved_at: number | null;
  send_failures: number;
  last_send_error: string | null;
  last_send_failed_at: number | null;
}

const toRecord = (r: Row): AlertRecord => ({
  alertKey: r.alert_key,
  processorName: r.processor_name,
  reason: r.reason as AlertReason,
  runDate: r.run_date as IsoDate,
  missingDates: fromJson<IsoDate[]>(r.missing_dates, `backfill_alerts.missing_dates of ${r.alert_key}`),
  lastError: r.last_error,
  openedAt: r.opened_at,
  updatedAt: r.updated_at,
  lastSentAt: r.last_sent_at,
  sendCount: r.send_count,
  resolvedAt: r.resolved_at,
  sendFailures: r.send_failures,
  lastSendError: r.last_send_error,
  lastSendFailedAt: r.last_send_failed_at,
});

/**
 * Alerts in `backfill_alerts`: at most one open row per `alert_key` (a partial
 * unique index), so concurrent guards open an alert once.
 */
export const sqliteAlertLog = (db: Database.Database, options: SqliteAlertLogOptions = {}): AlertLog => {
  const busy = options.busy ?? {};
  const prepared = statementCache(db);
  const open = db.prepare(`SELECT * FROM backfill_alerts WHERE alert_key = ? AND resolved_at IS NULL`);
  const insert = db.prepare(
    `INSERT INTO backfill_alerts (alert_key, processor_name, reason, run_date, missing_dates, last_error, opened_at, updated_at, last_sent_at, send_count, resolved_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, NULL) RETURNING *`,
  );
  const refresh = db.prepare(
    `UPDATE backfill_alerts SET run_date = ?, missing_dates = ?, last_error = ?, updated_at = ? WHERE id = ? RETURNING *`,
  );
  // The open alert if any, else the latest one: a notice may be confirmed after the gap healed.
  const markSent = db.prepare(
    `UPDATE backfill_alerts SET send_count = send_count + 1, last_sent_at = ?, updated_at = MAX(updated_at, ?),
       send_failures = 0, last_send_error = NULL
     WHERE id = (SELECT id FROM backfill_alerts WHERE alert_key = ? ORDER BY resolved_at IS NULL DESC, id DESC LIMIT 1)`,
  );
  const markFailed = db.prepare(
    `UPDATE backfill_alerts SET send_failures = send_failures + 1, last_send_error = ?, last_send_failed_at = ?, updated_at = MAX(updated_at, ?)
     WHERE id = (SELECT id FROM backfill_alerts WHERE alert_key = ? ORDER BY resolved_at IS NULL DESC, id DESC LIMIT 1)`,
  );
  const resolve = db.prepare(
    `UPDATE backfill_alerts SET resolved_at = ?, updated_at = MAX(updated_at, ?) WHERE alert_key = ? AND resolved_at IS NULL RETURNING *`,
  );

  const upsertTx = db.transaction((a: Parameters<AlertLog['upsertOpen']>[0]) => {
    const missing = JSON.stringify(a.missingDates);
    const current = open.get(a.alertKey) as Row | undefined;
    if (current !== undefined) {
      return {
        created: false,
        record: toRecord(refresh.get(a.runDate, missing, a.lastError, Math.max(current.updated_at, a.at), current.id) as Row),
      };
    }
    return {
      created: true,
      record: toRecord(insert.get(a.alertKey, a.processorName, a.reason, a.runDate, missing, a.lastError, a.openedAt, a.at) as Row),
    };
  });

  return {
    upsertOpen: (alert) =>
      withBusyRetry(
        'alertLog.upsertOpen',
        () => {
          checkObject(alert, 'alert');
          checkNonEmpty(alert.alertKey, 'alertKey');
          checkString(alert.processorName, 'processorName');
          checkNonEmpty(alert.reason, 'reason');
          checkDate(alert.runDate, 'runDate');
          if (!Array.isArray(alert.missingDates)) throw new SqliteInputError('missingDates', 'expected an array of dates');
          alert.missingDates.forEach((d, i) => checkDate(d, `missingDates[${i}]`));
          if (alert.lastError !== null) checkString(alert.lastError, 'lastError');
          checkInstant(alert.openedAt, 'openedAt');
          checkInstant(alert.at, 'at');
          return upsertTx.immediate(alert);
        },
        busy,
      ),

    markSent: (alertKey, at) =>
      withBusyRetry(
        'alertLog.markSent',
        () => {
          checkString(alertKey, 'alertKey');
          markSent.run(checkInstant(at, 'at'), at, alertKey);
        },
        busy,
      ),

    markSendFailed: (alertKey, at, error) =>
      withBusyRetry(
        'alertLog.markSendFailed',
        () => {
          checkString(alertKey, 'alertKey');
          markFailed.run(checkString(error, 'error'), checkInstant(at, 'at'), at, alertKey);
        },
        busy,
      ),

    resolve: (alertKey, at) =>
      withBusyRetry(
        'alertLog.resolve',
        () => {
          checkString(alertKey, 'alertKey');
          const row = resolve.get(checkInstant(at, 'at'), at, alertKey) as Row | undefined;
          return row === undefined ? undefined : toRecord(row);
        },
        busy,
      ),

    list: (query) =>
      withBusyRetry(
        'alertLog.list',
        () => {
          checkObject(query, 'query');
          const f = new Filters();
          if (query.processorName !== undefined) f.add('processor_name = ?', checkString(query.processorName, 'processorName'));
          if (query.openOnly === true) f.add('resolved_at IS NULL');
          const sql = `SELECT * FROM backfill_alerts${f.sql} ORDER BY opened_at DESC, id DESC`;
          return (prepared(sql).all(...f.params) as Row[]).map(toRecord);
        },
        busy,
      ),
  };
};
