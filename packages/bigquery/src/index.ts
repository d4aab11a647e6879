/**
 * @smart-backfill/bigquery — BigQuery adapters: schedule source, target table,
 * one-job window reader, request tracker / run log / alert log as append-only
 * event tables with latest-state views, and the DDL for them.
 * `@google-cloud/bigquery` (8.x or 9.x) is a peer dependency: bring your client.
 */
export { openBigQueryStore, type BigQueryStoreOptions, type BigQueryStore } from './store.js';
export { connect, type BigQueryConnectionOptions, type Connection } from './client.js';
export { bigQueryScheduleSource, type BigQueryScheduleOptions } from './bigquery-schedule-source.js';
export { bigQueryTargetTable, type BigQueryTargetOptions } from './bigquery-target-table.js';
export { bigQueryWindowReader } from './bigquery-window-reader.js';
export { bigQueryCheckReader, type BigQueryCheckReaderOptions } from './bigquery-check-reader.js';
export { bigQueryRequestTracker, type BigQueryRequestTrackerOptions } from './bigquery-request-tracker.js';
export { bigQueryRunLog, type BigQueryRunLogOptions } from './bigquery-run-log.js';
export { bigQueryAlertLog, type BigQueryAlertLogOptions } from './bigquery-alert-log.js';
export { type DateColumnType, type DateColumnOptions } from './date-column.js';
export { type TableInput, type TableRef } from './identifiers.js';
export { DEFAULT_TABLE_NAMES, type BigQueryTrackingOptions, type TrackingTableName, type TrackingTables } from './tracking.js';
export { renderDdl, applyDdl, ddlStatements, type RenderDdlOptions, type ApplyDdlOptions } from './ddl.js';
export { TABLE_DEFS, LATEST_ORDER, type TableDef, type ColumnDef } from './schema.js';
export { BigQueryAdapterError, type BigQueryErrorCode } from './errors.js';
