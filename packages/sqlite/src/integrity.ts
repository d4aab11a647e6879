import { existsSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { SqliteDamagedError } from './errors.js';

/** SQLite's result codes for a file that is not (or no longer) a readable database. */
export const isDamage = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB'));
};

const SKIP_HINT = 'store.integrityCheck: false skips this check';

/**
 * An existing file of 0 bytes: SQLite would silently start a new, empty history in it.
 * A tracking file never stays empty (opening migrates it at once), so an empty one was cut.
 */
export const refuseEmptyFile = (path: string, role: string): void => {
  if (path === ':memory:' || !existsSync(path)) return;
  // Another process may have just created the file and not yet written its first page:
  // give it a moment before calling an empty file a lost history.
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < 500 && existsSync(path) && statSync(path).size === 0; waited += 25) Atomics.wait(pause, 0, 0, 25);
  if (existsSync(path) && statSync(path).size === 0) {
    throw new SqliteDamagedError(
      `${role} "${path}" is empty (0 bytes) where a database was expected; restore it from a backup, or delete it to start a new, empty history`,
    );
  }
};

/**
 * `PRAGMA quick_check` (optionally over one table and its indexes): reads every page,
 * so a cut file or garbage over a page is found before anything reads counts from an
 * index or writes into the damage. Throws `SqliteDamagedError` naming the file.
 */
export const quickCheck = (db: Database.Database, path: string, role: string, table?: { schema: string; name: string }): void => {
  let rows: unknown[];
  try {
    if (table === undefined) checkLength(db, path, role);
    rows =
      table === undefined
        ? db.prepare('PRAGMA quick_check(4)').pluck().all()
        : db.prepare('SELECT quick_check FROM pragma_quick_check(?, ?) LIMIT 4').pluck().all(table.name, table.schema);
  } catch (cause) {
    if (!isDamage(cause)) throw cause;
    throw damaged(path, role, (cause as Error).message, cause);
  }
  const findings = rows.map(String).filter((r) => !r.startsWith('***'));
  if (findings.length !== 1 || findings[0] !== 'ok') throw damaged(path, role, findings[0] ?? 'no result');
};

/**
 * A file cut short, even by part of its last page, may still pass `quick_check` when the
 * lost bytes were free space: the file's length must be whole pages, and (with no WAL
 * holding newer pages) at least the page count the header promises.
 */
const checkLength = (db: Database.Database, path: string, role: string): void => {
  if (path === ':memory:' || !existsSync(path)) return;
  // Inside one read transaction: another process migrating or checkpointing the same file
  // cannot shrink the WAL or half-write the file under the snapshot the sizes are read for,
  // so a healthy file racing its first open is never taken for a cut one.
  const { size, pageSize, pageCount, walHoldsPages } = db.transaction(() => {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    const wal = `${path}-wal`;
    return {
      size: statSync(path).size,
      pageSize: db.pragma('page_size', { simple: true }) as number,
      pageCount: db.pragma('page_count', { simple: true }) as number,
      walHoldsPages: existsSync(wal) && statSync(wal).size > 0,
    };
  })();
  if (size % pageSize !== 0 || (!walHoldsPages && size < pageCount * pageSize)) {
    throw damaged(
      path,
      role,
      `the file is ${size} bytes, not the ${pageCount} whole pages of ${pageSize} bytes its header promises; it was cut short`,
    );
  }
};

export const damaged = (path: string, role: string, finding: string, cause?: unknown): SqliteDamagedError =>
  new SqliteDamagedError(
    `${role} "${path}" is damaged (${finding.split('\n')[0]}); restore it from a backup or move it aside (${SKIP_HINT})`,
    cause === undefined ? undefined : { cause },
  );
