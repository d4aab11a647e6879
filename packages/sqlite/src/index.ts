/**
 * @smart-backfill/sqlite — the embedded, durable default store: every port in one
 * SQLite file (better-sqlite3, WAL). Safe for many processes on one file.
 *
 * Timestamps are stored as epoch-millisecond integers; dates as `YYYY-MM-DD` text.
 */
export { /** @public */ type OpenSqliteStoreOptions, type SqliteStore, openSqliteStore } from './store.js';
export { migrate, SCHEMA_VERSION, /** @public */ STORE_TABLES } from './schema.js';
export { SqliteStoreError, SqliteConfigError, SqliteInputError, SqliteBusyError, SqliteDamagedError } from './errors.js';
export { /** @public */ type DateColumnType } from './date-column.js';
export { /** @public */ type SqliteScheduleSourceOptions, sqliteScheduleSource } from './sqlite-schedule-source.js';
export { /** @public */ type SqliteTargetTableOptions, sqliteTargetTable } from './sqlite-target-table.js';
export { sqliteWindowReader } from './sqlite-window-reader.js';
export { /** @public */ type SqliteRequestTrackerOptions, /** @public */ sqliteRequestTracker } from './sqlite-request-tracker.js';
export {
  /** @public */ type SqliteBackfillQueueOptions,
  /** @public */ type SqliteBackfillQueue,
  /** @public */ type QueueMessageState,
  /** @public */ type StoredQueueMessage,
  /** @public */ type QueueDepth,
  /** @public */ sqliteBackfillQueue,
} from './sqlite-backfill-queue.js';
export { /** @public */ type SqliteRunLogOptions, sqliteRunLog } from './sqlite-run-log.js';
export { /** @public */ type SqliteAlertLogOptions, /** @public */ sqliteAlertLog } from './sqlite-alert-log.js';
export { /** @public */ type BusyRetryOptions } from './busy.js';
