import type { BigQuery } from '@google-cloud/bigquery';
import { clientOf } from './default-client.js';
import type {
  AlertLog,
  AlertRecord,
  BackfillRequest,
  CheckReader,
  HeldRun,
  RequestTracker,
  RunLog,
  ScheduleSource,
  TargetTable,
  WindowReader,
} from '@smart-backfill/core';
import { connect, type BigQueryConnectionOptions, type Connection } from './client.js';
import { BigQueryAdapterError, configError } from './errors.js';
import { bigQueryAlertLog } from './bigquery-alert-log.js';
import { bigQueryRequestTracker } from './bigquery-request-tracker.js';
import { bigQueryRunLog, type HeldKey } from './bigquery-run-log.js';
import { bigQueryScheduleSource, type BigQueryScheduleOptions } from './bigquery-schedule-source.js';
import { bigQueryTargetTable, type BigQueryTargetOptions } from './bigquery-target-table.js';
import { bigQueryCheckReader } from './bigquery-check-reader.js';
import { echoes, ownWrites } from './event-table.js';
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
   * Schedule and counts in one query job (`readWindow`), and a whole guard check — schedule,
   * counts, the window's requests, the processor's alerts and held runs — in one query job
   * (`readCheck`, core's `CheckReader`, which the guard uses when its `window` offers it).
   */
  window(schedule: BigQueryScheduleOptions, target: BigQueryTargetOptions): WindowReader & CheckReader;
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
  // Removed with the run log's and alert log's read reuse: a check now reads what its changes build on in one job (`CheckReader`).
  if ('reuseWindowReadMs' in options)
    throw configError('reuseWindowReadMs is no longer an option: a guard check reads everything it needs in one query job; remove it');
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
  // Each port's own writes count for it before queries show them; the check reader reads the same rows, so it overlays them too.
  const own = {
    requests: ownWrites<BackfillRequest, string>(),
    held: ownWrites<HeldRun, HeldKey>(),
    alerts: ownWrites<AlertRecord, string>(),
  };
  // A guard's hold, streamed, is written again by DML in its create script: a worker in another process sees it at once.
  const echo = echoes();
  const common = { tracking: options.tracking, verifyWrites: options.verifyWrites, maximumBytesBilled: options.maximumBytesBilled };
  return {
    connection: conn,
    tables,
    tracker: whileOpen('tracker', bigQueryRequestTracker(conn, common, echo, { own: own.requests })),
    runLog: whileOpen('runLog', bigQueryRunLog(conn, common, echo, { own: own.held })),
    alertLog: whileOpen('alertLog', bigQueryAlertLog(conn, common, { own: own.alerts })),
    schedule: (o) => whileOpen('schedule', bigQueryScheduleSource(conn, o)),
    target: (o) => whileOpen('target', bigQueryTargetTable(conn, o)),
    window: (s, t) =>
      whileOpen(
        'window',
        bigQueryCheckReader(conn, s, t, { tracking: options.tracking, maximumBytesBilled: options.maximumBytesBilled }, own),
      ),
    async close() {
      closed = true;
    },
  };
};
