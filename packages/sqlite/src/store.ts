import Database from 'better-sqlite3';
import type { AlertLog, Clock, RequestTracker, RunLog, ScheduleSource, TargetTable, WindowReader } from '@smart-backfill/core';
import { isBusy, type BusyRetryOptions } from './busy.js';
import { SqliteConfigError, SqliteStoreError } from './errors.js';
import { migrate } from './schema.js';
import { sqliteAlertLog } from './sqlite-alert-log.js';
import { sqliteBackfillQueue, type SqliteBackfillQueue } from './sqlite-backfill-queue.js';
import { sqliteRequestTracker } from './sqlite-request-tracker.js';
import { sqliteRunLog } from './sqlite-run-log.js';
import { sqliteScheduleSource, type SqliteScheduleSourceOptions } from './sqlite-schedule-source.js';
import { sqliteTargetTable, type SqliteTargetTableOptions } from './sqlite-target-table.js';
import { sqliteWindowReader } from './sqlite-window-reader.js';
import { systemClock } from './system-clock.js';

export interface OpenSqliteStoreOptions {
  /** A file path (created if absent), or `:memory:` for a private, throwaway store. */
  readonly path: string;
  /** Time for queue visibility and leases. Default: the system clock. */
  readonly clock?: Clock | undefined;
  /** How long SQLite itself waits on a lock before `SQLITE_BUSY`. Default 5 000 ms. */
  readonly busyTimeoutMs?: number | undefined;
  /** After the busy timeout, how long (and how) operations keep retrying. Default: up to 60 s. */
  readonly busy?: BusyRetryOptions | undefined;
  /**
   * `NORMAL` (default) is durable across process crashes and, in WAL mode,
   * loses at most the last commits on power loss. `FULL` syncs every commit.
   */
  readonly synchronous?: 'NORMAL' | 'FULL' | undefined;
  /** Queue polling interval for `receive({ waitMs })`. Default 25 ms. */
  readonly pollIntervalMs?: number | undefined;
}

/** Every port over one SQLite file. */
export interface SqliteStore {
  /** The better-sqlite3 connection: for user tables in the same file, ad-hoc queries and tests. */
  readonly db: Database.Database;
  readonly path: string;
  readonly tracker: RequestTracker;
  readonly queue: SqliteBackfillQueue;
  readonly runLog: RunLog;
  readonly alertLog: AlertLog;
  /** A schedule source over a table in this file (or an attached one). */
  scheduleSource(options: SqliteScheduleSourceOptions): ScheduleSource;
  /** A target table over a table in this file (or an attached one). */
  targetTable(options: SqliteTargetTableOptions): TargetTable;
  /** Schedule and counts in one query. */
  windowReader(schedule: SqliteScheduleSourceOptions, target: SqliteTargetTableOptions): WindowReader;
  /** Close the connection. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Open (or create) the store: WAL journal, a busy timeout, foreign keys on, and
 * the schema migrated (`migrate`). Any number of processes may open the same file.
 *
 * @throws `SqliteStoreError` naming the path when the file cannot be opened or migrated.
 */
export const openSqliteStore = (options: OpenSqliteStoreOptions): SqliteStore => {
  if (typeof options !== 'object' || options === null || typeof options.path !== 'string' || options.path.length === 0) {
    throw new SqliteConfigError('path: expected a file path or ":memory:"');
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0)
    throw new SqliteConfigError(`busyTimeoutMs: expected a whole number >= 0, got ${String(busyTimeoutMs)}`);
  const synchronous = options.synchronous ?? 'NORMAL';
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL')
    throw new SqliteConfigError(`synchronous: expected "NORMAL" or "FULL", got ${JSON.stringify(synchronous)}`);
  const clock = options.clock ?? systemClock;

  let db: Database.Database;
  try {
    db = new Database(options.path, { timeout: busyTimeoutMs });
  } catch (cause) {
    throw new SqliteStoreError(`cannot open database "${options.path}": ${(cause as Error).message}`, { cause });
  }
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Setting WAL needs a moment of exclusive access on a fresh file; retry while another process does it.
    retrySync(() => db.pragma('journal_mode = WAL'), busyTimeoutMs);
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('foreign_keys = ON');
    retrySync(() => migrate(db), busyTimeoutMs);
  } catch (cause) {
    db.close();
    if (cause instanceof SqliteStoreError) throw cause;
    throw new SqliteStoreError(`cannot prepare database "${options.path}": ${(cause as Error).message}`, { cause });
  }

  const busy = options.busy ?? {};
  const queue = sqliteBackfillQueue(db, {
    clock,
    busy,
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
  });
  let closed = false;
  return {
    db,
    path: options.path,
    tracker: sqliteRequestTracker(db, { busy }),
    queue,
    runLog: sqliteRunLog(db, { busy }),
    alertLog: sqliteAlertLog(db, { busy }),
    scheduleSource: (o) => sqliteScheduleSource(db, { busy, ...o }),
    targetTable: (o) => sqliteTargetTable(db, { busy, ...o }),
    windowReader: (s, t) => sqliteWindowReader(db, { busy, ...s }, t),
    close: async () => {
      if (closed) return;
      closed = true;
      await queue.close();
      db.close();
    },
  };
};

/** Opening runs before any caller awaits, so its rare busy moments are retried synchronously. */
const retrySync = <A>(fn: () => A, budgetMs: number): A => {
  const until = performance.now() + Math.max(budgetMs, 1_000);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e) || performance.now() > until) throw e;
      Atomics.wait(pause, 0, 0, 5 + Math.random() * 10);
    }
  }
};
