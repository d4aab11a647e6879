/**
 * @smart-backfill/sqlite — the embedded, durable default store: every port in one
 * SQLite file (better-sqlite3, WAL). Safe for many processes on one file.
 *
 * Timestamps are stored as epoch-millisecond integers; dates as `YYYY-MM-DD` text.
 */
export { type OpenSqliteStoreOptions, type SqliteStore, openSqliteStore } from './store.js';
export { migrate, SCHEMA_VERSION, STORE_TABLES } from './schema.js';
export { SqliteStoreError, SqliteConfigError, SqliteInputError, SqliteBusyError, SqliteDamagedError } from './errors.js';
export { type DateColumnType } from './date-column.js';
export { type SqliteScheduleSourceOptions, sqliteScheduleSource } from './sqlite-schedule-source.js';
export { type SqliteTargetTableOptions, sqliteTargetTable } from './sqlite-target-table.js';
export { sqliteWindowReader } from './sqlite-window-reader.js';
export { type SqliteRequestTrackerOptions, sqliteRequestTracker } from './sqlite-request-tracker.js';
export {
  type SqliteBackfillQueueOptions,
  type SqliteBackfillQueue,
  type QueueMessageState,
  type StoredQueueMessage,
  type QueueDepth,
  sqliteBackfillQueue,
} from './sqlite-backfill-queue.js';
export { type SqliteRunLogOptions, sqliteRunLog } from './sqlite-run-log.js';
export { type SqliteAlertLogOptions, sqliteAlertLog } from './sqlite-alert-log.js';
export { type BusyRetryOptions } from './busy.js';
export { isValidIdentifier, quoteIdentifier } from './identifiers.js';
