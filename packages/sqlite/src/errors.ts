/** Every error this package throws: `[smart-backfill] [sqlite] ...`, with the original error as `cause`. */
export class SqliteStoreError extends Error {
  override readonly name: string = 'SqliteStoreError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`[smart-backfill] [sqlite] ${message}`, options);
  }
}

/** A table, column or option the user named is wrong: fix the configuration. */
export class SqliteConfigError extends SqliteStoreError {
  override readonly name: string = 'SqliteConfigError';
}

/** A value handed to a port method is unusable (a date that is not `YYYY-MM-DD`, a negative limit). */
export class SqliteInputError extends SqliteStoreError {
  override readonly name: string = 'SqliteInputError';
  constructor(
    readonly field: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${problem}`, options);
  }
}

/**
 * The database stayed locked by other processes longer than the retry budget.
 * Ordinary contention never surfaces: `SQLITE_BUSY` is retried with backoff first.
 */
export class SqliteBusyError extends SqliteStoreError {
  override readonly name: string = 'SqliteBusyError';
}

/**
 * The file is not a healthy database: cut short, overwritten, or empty where a history was.
 * Nothing was read from it or written to it; the message says what to do.
 */
export class SqliteDamagedError extends SqliteStoreError {
  override readonly name: string = 'SqliteDamagedError';
}
