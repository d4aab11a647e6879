/**
 * What went wrong, as a small closed set a caller can branch on: each code says
 * what the user does next, whichever package threw it.
 */
export type SmartBackfillErrorCode =
  /** A value handed to a method is unusable (a date that is not `YYYY-MM-DD`, an empty name, a negative limit): fix the caller. */
  | 'invalid_input'
  /** An option, table, column, processor or status filter is wrong: fix the configuration. Nothing was attempted. */
  | 'invalid_config'
  /** A store or service could not be reached, or failed on its side: retrying later may help. */
  | 'unavailable'
  /** Concurrent writers kept winning (a locked database, a lost compare-and-set): retry. */
  | 'contention'
  /** Stored data is damaged or not what smart-backfill wrote: restore it or look at it; nothing was changed. */
  | 'corrupt'
  /** The store refused a statement because of the data it met (a failed cast, a bytes limit, a row that is not a date). */
  | 'query_failed'
  /** Your processor threw, or succeeded without filling its date. */
  | 'processor_failed';

/** Every code, in the order docs list them. */
export const SMART_BACKFILL_ERROR_CODES: readonly SmartBackfillErrorCode[] = [
  'invalid_input',
  'invalid_config',
  'unavailable',
  'contention',
  'corrupt',
  'query_failed',
  'processor_failed',
];

export interface SmartBackfillErrorOptions {
  /** The original error. */
  readonly cause?: unknown;
  /** The package or adapter that threw (`sqlite`, `bigquery`): the message starts `[smart-backfill] [<origin>] `. */
  readonly origin?: string | undefined;
  /** For `invalid_input` and `invalid_config`: the field at fault (`query.start`, `tracking.dataset`). */
  readonly field?: string | undefined;
  /** The finer reason within the code, as the throwing package names it (`schedule_mismatch`, `insert_failed`). */
  readonly detail?: string | undefined;
}

/*
 * Checked by the type guard as well as `instanceof`: a second copy of core in
 * node_modules (two adapter versions side by side) would fail `instanceof`.
 */
const BRAND = Symbol.for('@smart-backfill/error');

/**
 * The one error every package throws at its edge (adapters subclass it and keep
 * their own names). Core's pure functions never throw it: they return problems
 * as values, and the package that calls them decides to throw.
 */
export class SmartBackfillError extends Error {
  override readonly name: string = 'SmartBackfillError';
  readonly code: SmartBackfillErrorCode;
  readonly field: string | undefined;
  readonly detail: string | undefined;
  readonly [BRAND] = true;

  constructor(code: SmartBackfillErrorCode, message: string, options: SmartBackfillErrorOptions = {}) {
    super(
      options.origin === undefined ? message : `[smart-backfill] [${options.origin}] ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.field = options.field;
    this.detail = options.detail;
  }
}

/** Whether `e` is a smart-backfill error (of `code`, when given), from any package. */
export const isSmartBackfillError = (e: unknown, code?: SmartBackfillErrorCode): e is SmartBackfillError =>
  typeof e === 'object' &&
  e !== null &&
  (e as { [BRAND]?: unknown })[BRAND] === true &&
  (code === undefined || (e as SmartBackfillError).code === code);

/**
 * A bad value handed to an adapter's method: `[smart-backfill] [<origin>] <field>: <problem>`.
 * The message names the field so the caller knows what to fix.
 */
export const invalidInput = (origin: string, field: string, problem: string, cause?: unknown): SmartBackfillError =>
  new SmartBackfillError('invalid_input', `${field}: ${problem}`, { origin, field, cause });
