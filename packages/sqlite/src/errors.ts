import { SmartBackfillError, type SmartBackfillErrorCode } from '@smart-backfill/core';

/**
 * Every error this package throws: `[smart-backfill] [sqlite] ...`, with the original error as `cause`.
 * A `SmartBackfillError`: the subclasses below fix the code, so `instanceof` and `code` agree.
 */
export class SqliteStoreError extends SmartBackfillError {
  override readonly name: string = 'SqliteStoreError';
  constructor(
    message: string,
    options?: { readonly cause?: unknown; readonly code?: SmartBackfillErrorCode; readonly field?: string | undefined },
  ) {
    super(options?.code ?? 'unavailable', message, { origin: 'sqlite', cause: options?.cause, field: options?.field });
  }
}

/** A table, column or option the user named is wrong: fix the configuration (`invalid_config`). */
export class SqliteConfigError extends SqliteStoreError {
  override readonly name: string = 'SqliteConfigError';
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, { cause: options?.cause, code: 'invalid_config' });
  }
}

/** A value handed to a port method is unusable (a date that is not `YYYY-MM-DD`, a negative limit): `invalid_input`. */
export class SqliteInputError extends SqliteStoreError {
  override readonly name: string = 'SqliteInputError';
  declare readonly field: string;
  constructor(field: string, problem: string, options?: { readonly cause?: unknown }) {
    super(`${field}: ${problem}`, { cause: options?.cause, code: 'invalid_input', field });
  }
}

/**
 * The database stayed locked by other processes longer than the retry budget (`contention`).
 * Ordinary contention never surfaces: `SQLITE_BUSY` is retried with backoff first.
 */
export class SqliteBusyError extends SqliteStoreError {
  override readonly name: string = 'SqliteBusyError';
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, { cause: options?.cause, code: 'contention' });
  }
}

/**
 * The file is not a healthy database: cut short, overwritten, or empty where a history was (`corrupt`).
 * Nothing was read from it or written to it; the message says what to do.
 */
export class SqliteDamagedError extends SqliteStoreError {
  override readonly name: string = 'SqliteDamagedError';
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, { cause: options?.cause, code: 'corrupt' });
  }
}
