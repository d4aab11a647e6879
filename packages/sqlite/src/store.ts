import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { AlertLog, Clock, RequestTracker, RunLog, ScheduleSource, TargetTable, WindowReader } from '@smart-backfill/core';
import { isBusy, type BusyRetryOptions } from './busy.js';
import { SqliteConfigError, SqliteDamagedError, SqliteStoreError } from './errors.js';
import { isValidIdentifier } from './identifiers.js';
import { damaged, isDamage, quickCheck, refuseEmptyFile } from './integrity.js';
import { migrate, SCHEMA_VERSION } from './schema.js';
import { sqliteAlertLog } from './sqlite-alert-log.js';
import { sqliteBackfillQueue, type SqliteBackfillQueue } from './sqlite-backfill-queue.js';
import { sqliteRequestTracker } from './sqlite-request-tracker.js';
import { sqliteRunLog } from './sqlite-run-log.js';
import { sqliteScheduleSource, type SqliteScheduleSourceOptions } from './sqlite-schedule-source.js';
import { sqliteTargetTable, type SqliteTargetTableOptions } from './sqlite-target-table.js';
import { sqliteWindowReader, type SharedSchedules } from './sqlite-window-reader.js';
import { systemClock } from './system-clock.js';
import { writeBatchFor } from './write-batch.js';

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
  /**
   * The user's tables (schedule, target) in a file of their own, opened read-only:
   * the store never writes to it, migrates it or changes its journal mode.
   * Without it, the user's tables are read from `path`.
   */
  readonly warehouse?: { readonly path: string } | undefined;
  /**
   * A dry run: open nothing for writing, create and migrate nothing. A tracking file
   * that does not exist yet, or holds no tracking tables, reads as empty; one from an
   * older schema is read through an in-memory copy brought up to date.
   */
  readonly readOnly?: boolean | undefined;
  /**
   * `PRAGMA quick_check` on opening an existing tracking file (and over each user table
   * before it is first read), refusing a damaged one with `SqliteDamagedError`.
   * Default true; its cost grows with the file (see docs/performance.md).
   */
  readonly integrityCheck?: boolean | undefined;
}

/** Every port over one SQLite file. */
export interface SqliteStore {
  /** The better-sqlite3 connection to the tracking file: for user tables in the same file, ad-hoc queries and tests. */
  readonly db: Database.Database;
  /** The connection user tables are read through: the read-only warehouse, or `db`. */
  readonly userDb: Database.Database;
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
  /**
   * Run `fn` inside one read transaction on the user's tables, so every window it reads sees
   * the same state of the file, and processors sharing a schedule read it once. Only reads may
   * happen inside; nested calls join the outer one. On a store open for writes over its own
   * file (where a write inside would join the transaction), `fn` simply runs.
   */
  readSnapshot<A>(fn: () => Promise<A>): Promise<A>;
  /** Close the connection. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Open (or create) the store: WAL journal, a busy timeout, foreign keys on, and
 * the schema migrated (`migrate`). Any number of processes may open the same file.
 * An existing file is checked first (`integrityCheck`); a damaged or emptied one is refused.
 *
 * @throws `SqliteDamagedError` for a damaged or zero-length file, `SqliteStoreError` naming
 * the path when the file cannot be opened or migrated.
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
  const warehousePath = options.warehouse?.path;
  if (options.warehouse !== undefined && (typeof warehousePath !== 'string' || warehousePath.length === 0))
    throw new SqliteConfigError('warehouse.path: expected a file path');
  const clock = options.clock ?? systemClock;
  const check = options.integrityCheck !== false;
  const readOnly = options.readOnly === true;
  const path = options.path;

  const tracking = readOnly
    ? openTrackingReadOnly(path, busyTimeoutMs, check)
    : openTrackingForWrites(path, busyTimeoutMs, check, synchronous);
  let userDb: Database.Database;
  try {
    userDb =
      warehousePath !== undefined && warehousePath !== path
        ? openReadOnly(warehousePath, 'warehouse', busyTimeoutMs)
        : (tracking.userDb ?? tracking.db);
  } catch (e) {
    tracking.db.close();
    throw e;
  }
  const userPath = warehousePath ?? path;
  const checkedTables = new Set<string>();
  // Counts can come from an index alone while the table's own pages are garbage: check the table first.
  const checkUserTable = (table: unknown): void => {
    if (!check || !isValidIdentifier(table, true) || checkedTables.has(table)) return;
    const [schema, name] = table.includes('.') ? (table.split('.') as [string, string]) : ['main', table];
    try {
      quickCheck(userDb, userPath, warehousePath !== undefined ? 'warehouse' : 'database', { schema, name });
    } catch (e) {
      if (e instanceof SqliteDamagedError) throw e;
      // not a table (or no such table): building the reader says so, in its own words
    }
    checkedTables.add(table);
  };

  const db = tracking.db;
  const busy: BusyRetryOptions = { file: path, ...(options.busy ?? {}) };
  const queue = sqliteBackfillQueue(db, {
    clock,
    busy,
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
  });
  const userBusy: BusyRetryOptions = { ...busy, file: userPath };
  let closed = false;
  let schedules: SharedSchedules | undefined;
  const readSnapshot = async <A>(fn: () => Promise<A>): Promise<A> => {
    if (schedules !== undefined || (userDb === db && !readOnly) || userDb.inTransaction) return fn();
    userDb.exec('BEGIN');
    schedules = new Map();
    try {
      return await fn();
    } finally {
      schedules = undefined;
      if (userDb.inTransaction) userDb.exec('COMMIT');
    }
  };
  return {
    db,
    userDb,
    path,
    tracker: sqliteRequestTracker(db, { busy }),
    queue,
    runLog: sqliteRunLog(db, { busy }),
    alertLog: sqliteAlertLog(db, { busy }),
    scheduleSource: (o) => {
      checkUserTable(o?.table);
      return sqliteScheduleSource(userDb, { busy: userBusy, ...o });
    },
    targetTable: (o) => {
      checkUserTable(o?.table);
      return sqliteTargetTable(userDb, { busy: userBusy, ...o });
    },
    windowReader: (s, t) => {
      checkUserTable(s?.table);
      checkUserTable(t?.table);
      return sqliteWindowReader(userDb, { busy: userBusy, ...s }, t, () => schedules);
    },
    readSnapshot,
    close: async () => {
      if (closed) return;
      closed = true;
      await queue.close();
      // Writes issued just before close still commit.
      writeBatchFor(db).flush();
      db.close();
      if (userDb !== db && userDb.open) userDb.close();
    },
  };
};

interface OpenedTracking {
  readonly db: Database.Database;
  /** In a dry run over a file without tracking tables: the file itself, for the user's tables. */
  readonly userDb?: Database.Database;
}

const openTrackingForWrites = (path: string, busyTimeoutMs: number, check: boolean, synchronous: 'NORMAL' | 'FULL'): OpenedTracking => {
  const existed = path !== ':memory:' && existsSync(path);
  refuseEmptyFile(path, 'database');
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (cause) {
    throw new SqliteStoreError(`cannot open database "${path}": ${(cause as Error).message}`, { cause });
  }
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    if (existed && check) quickCheck(db, path, 'database');
    // Setting WAL needs a moment of exclusive access on a fresh file; retry while another process does it.
    retrySync(() => db.pragma('journal_mode = WAL'), busyTimeoutMs);
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('foreign_keys = ON');
    retrySync(() => migrate(db), busyTimeoutMs);
  } catch (cause) {
    db.close();
    throw prepareError(path, cause);
  }
  return { db };
};

const openTrackingReadOnly = (path: string, busyTimeoutMs: number, check: boolean): OpenedTracking => {
  if (path === ':memory:' || !existsSync(path)) return { db: emptyTracking() };
  refuseEmptyFile(path, 'database');
  const file = openReadOnly(path, 'database', busyTimeoutMs);
  try {
    if (check) quickCheck(file, path, 'database');
    const version = file.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return { db: file };
    // No tracking tables (a warehouse named as the store): nothing tracked yet; the file serves the user's tables.
    if (version === 0) return { db: emptyTracking(), userDb: file };
    if (version > SCHEMA_VERSION) migrate(file); // throws the "newer schema" message
    const copy = new Database(file.serialize());
    migrate(copy);
    return { db: copy, userDb: file };
  } catch (cause) {
    file.close();
    throw prepareError(path, cause);
  }
};

const emptyTracking = (): Database.Database => {
  const db = new Database(':memory:');
  migrate(db);
  return db;
};

/** A file opened with SQLite's read-only flag: no write, journal-mode change or migration can reach it. */
const openReadOnly = (path: string, role: 'warehouse' | 'database', busyTimeoutMs: number): Database.Database => {
  if (!existsSync(path)) throw new SqliteConfigError(`${role} "${path}" does not exist`);
  refuseEmptyFile(path, role);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
    // Reading the schema touches page 1: a file that is not a database fails here, by name.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (cause) {
    db?.close();
    if (isDamage(cause)) throw damaged(path, role, (cause as Error).message, cause);
    throw new SqliteStoreError(`cannot open ${role} "${path}" read-only: ${(cause as Error).message}`, { cause });
  }
  return db;
};

const prepareError = (path: string, cause: unknown): SqliteStoreError => {
  if (cause instanceof SqliteStoreError) return cause;
  if (isDamage(cause)) return damaged(path, 'database', (cause as Error).message, cause);
  return new SqliteStoreError(`cannot prepare database "${path}": ${(cause as Error).message}`, { cause });
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
