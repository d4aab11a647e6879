/**
 * @smart-backfill/bigquery — BigQuery adapters: schedule source, target table,
 * one-job window reader, request tracker / run log / alert log as append-only
 * event tables with latest-state views, and the DDL for them.
 * `@google-cloud/bigquery` (8.x or 9.x) is a peer dependency: bring your client.
 */
export { openBigQueryStore, /** @public */ type BigQueryStoreOptions, type BigQueryStore } from './store.js';
export { /** @public */ type BigQueryConnectionOptions, /** @public */ type Connection } from './client.js';
export { bigQueryScheduleSource, /** @public */ type BigQueryScheduleOptions } from './bigquery-schedule-source.js';
export { bigQueryTargetTable, /** @public */ type BigQueryTargetOptions } from './bigquery-target-table.js';
export { /** @public */ bigQueryWindowReader } from './bigquery-window-reader.js';
export { /** @public */ bigQueryCheckReader, /** @public */ type BigQueryCheckReaderOptions } from './bigquery-check-reader.js';
export { /** @public */ bigQueryRequestTracker, /** @public */ type BigQueryRequestTrackerOptions } from './bigquery-request-tracker.js';
export { /** @public */ bigQueryRunLog, /** @public */ type BigQueryRunLogOptions } from './bigquery-run-log.js';
export { /** @public */ bigQueryAlertLog, /** @public */ type BigQueryAlertLogOptions } from './bigquery-alert-log.js';
export { /** @public */ type DateColumnType, /** @public */ type DateColumnOptions } from './date-column.js';
export { /** @public */ type TableInput, /** @public */ type TableRef } from './identifiers.js';
export {
  /** @public */ type BigQueryTrackingOptions,
  /** @public */ type TrackingTableName,
  /** @public */ type TrackingTables,
} from './tracking.js';
export {
  renderDdl,
  applyDdl,
  /** @public */ ddlStatements,
  /** @public */ type RenderDdlOptions,
  /** @public */ type ApplyDdlOptions,
} from './ddl.js';

export { BigQueryAdapterError, /** @public */ type BigQueryErrorCode } from './errors.js';
