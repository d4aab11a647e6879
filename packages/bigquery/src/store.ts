import type { BigQuery } from '@google-cloud/bigquery';
import { clientOf } from './default-client.js';
import type { AlertLog, RequestTracker, RunLog, ScheduleSource, TargetTable, WindowReader } from '@smart-backfill/core';
import { connect, type BigQueryConnectionOptions, type Connection } from './client.js';
import { BigQueryAdapterError, configError } from './errors.js';
import { bigQueryAlertLog } from './bigquery-alert-log.js';
import { bigQueryRequestTracker } from './bigquery-request-tracker.js';
import { bigQueryRunLog } from './bigquery-run-log.js';
import { bigQueryScheduleSource, type BigQueryScheduleOptions } from './bigquery-schedule-source.js';
import { bigQueryTargetTable, type BigQueryTargetOptions } from './bigquery-target-table.js';
import { bigQueryWindowReader } from './bigquery-window-reader.js';
import { checkBatcher } from './check-batch.js';
import { echoes } from './event-table.js';
import { resolveTracking, type BigQueryTrackingOptions, type TrackingTables } from './tracking.js';

export interface BigQueryStoreOptions extends Omit<BigQueryConnectionOptions, 'client'> {
  /** Your client. Omitted: `new BigQuery({ projectId, location, keyFilename })` with Application Default Credentials. */
  readonly client?: BigQuery | undefined;
  /** Service-account key file, only when the store builds the client. */
  readonly keyFilename?: string | undefined;
  readonly tracking?: BigQueryTrackingOptions | undefined;
  /**
   * Read back each tracker / run log / alert log change to detect lost races. Default: on
   * for the tracker's transitions and held-run releases (workers), off for alert changes
   * (a guard check's budget). Request creation needs none: it is atomic (docs/bigquery.md).
   */
  readonly verifyWrites?: boolean | undefined;
  /**
   * How long (ms) a row read moments ago may stand in for a read, once: the check's held
   * runs and open alerts for the changes that follow (`reuseReadMs` of the run log and
   * alert log; the tracker's `create` reads inside its own transaction). Default 30000; 0 always reads. The check's own reads are never reused:
   * they share one job instead (docs/bigquery.md, "What a check costs").
   */
  readonly reuseWindowReadMs?: number | undefined;
}

export interface BigQueryStore {
  readonly connection: Connection;
  /** Fully qualified names of every tracking table and view. */
  readonly tables: TrackingTables;
  readonly tracker: RequestTracker;
  readonly runLog: RunLog;
  readonly alertLog: AlertLog;
  schedule(options: BigQueryScheduleOptions): ScheduleSource;
  target(options: BigQueryTargetOptions): TargetTable;
  /**
   * Schedule and counts in one query job per check. The store's tracker `forWindow` and
   * alert log `list({ processorName, openOnly: true })` called in the same turn (as the
   * guard does) are answered by that same job.
   */
  window(schedule: BigQueryScheduleOptions, target: BigQueryTargetOptions): WindowReader;
  /** Nothing to release (the client keeps no sockets open between requests); later calls throw. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Every BigQuery adapter over one client and one tracking dataset. Validates all
 * names up front and sends nothing until a port method is called.
 */
export const openBigQueryStore = (options: BigQueryStoreOptions): BigQueryStore => {
  if (typeof options !== 'object' || options === null)
    throw configError('openBigQueryStore needs options like { projectId, tracking: { dataset } }');
  const client = clientOf(options);
  const conn = connect({ ...options, client });
  const tables = resolveTracking(options.tracking, conn.projectId);
  let closed = false;
  const whileOpen = <T extends object>(name: string, port: T): T =>
    new Proxy(port, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (closed)
            return Promise.reject(new BigQueryAdapterError('unavailable', `${name}.${String(prop)}() called after the store was closed`));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  // A guard check's window, request and open-alert reads, issued together, share one query job.
  const batch = checkBatcher(conn);
  // A guard's hold, streamed, is written again by DML in its create script: a worker in another process sees it at once.
  const echo = echoes();
  const common = { tracking: options.tracking, verifyWrites: options.verifyWrites, maximumBytesBilled: options.maximumBytesBilled };
  return {
    connection: conn,
    tables,
    tracker: whileOpen('tracker', bigQueryRequestTracker(conn, { ...common, reuseWindowReadMs: options.reuseWindowReadMs }, batch, echo)),
    runLog: whileOpen('runLog', bigQueryRunLog(conn, { ...common, reuseReadMs: options.reuseWindowReadMs }, batch, echo)),
    alertLog: whileOpen('alertLog', bigQueryAlertLog(conn, { ...common, reuseReadMs: options.reuseWindowReadMs }, batch)),
    schedule: (o) => whileOpen('schedule', bigQueryScheduleSource(conn, o)),
    target: (o) => whileOpen('target', bigQueryTargetTable(conn, o)),
    window: (s, t) => whileOpen('window', bigQueryWindowReader(conn, s, t, {}, batch)),
    async close() {
      closed = true;
    },
  };
};
