import { dateProblem, SmartBackfillError, type SmartBackfillErrorCode } from '@smart-backfill/core';

/**
 * The shared codes this package throws: `invalid_config` (bad option, caught before any
 * request), `invalid_input` (a bad value handed to a port method, caught before any
 * request), `query_failed` (BigQuery refused a query or insert: a failed cast, a bytes
 * limit, a rejected row, a missing table), `unavailable` (BigQuery could not be reached or
 * failed on its side), `contention` (a write kept losing to concurrent writers, or BigQuery
 * cancelled a transaction for a concurrent update), `corrupt`
 * (a stored row is not what smart-backfill wrote).
 */
export type BigQueryErrorCode = SmartBackfillErrorCode;

/**
 * Every error this package throws: `[smart-backfill] [bigquery] <what> failed: <why>`,
 * naming the table and the purpose of the statement, with the client's error as `cause`.
 * `detail` says which kind of statement failed (`query_failed`, `insert_failed`).
 */
export class BigQueryAdapterError extends SmartBackfillError {
  override readonly name: string = 'BigQueryAdapterError';
  /** The fully qualified table involved, when there is one (`project.dataset.table`). */
  readonly table: string | undefined;
  /** BigQuery's reasons (`invalidQuery`, `quotaExceeded`, `invalid`, `stopped`...) found in the cause. */
  readonly reasons: readonly string[];

  constructor(
    code: BigQueryErrorCode,
    message: string,
    options: {
      readonly cause?: unknown;
      readonly table?: string | undefined;
      readonly reasons?: readonly string[];
      readonly field?: string | undefined;
      readonly detail?: string | undefined;
    } = {},
  ) {
    super(code, message, { origin: 'bigquery', cause: options.cause, field: options.field, detail: options.detail });
    this.table = options.table;
    this.reasons = options.reasons ?? [];
  }
}

export const configError = (message: string): BigQueryAdapterError => new BigQueryAdapterError('invalid_config', message);

/** A bad value handed to a port method; `message` names `field`. */
export const inputError = (field: string, message: string): BigQueryAdapterError =>
  new BigQueryAdapterError('invalid_input', message, { field });

/** Refuse a value core's input rule (`dateProblem`, `releaseStatusProblem`, …) finds unusable, naming the field. */
export const checkInput = (problemOf: (v: unknown) => string | undefined, value: unknown, field: string): void => {
  const problem = problemOf(value);
  if (problem !== undefined) throw inputError(field, `${field}: ${problem}`);
};

/** Refuse a value that is not a `YYYY-MM-DD` date before it reaches a query as a DATE parameter. */
export const checkDateInput = (value: unknown, field: string): void => checkInput(dateProblem, value, field);

/** A row BigQuery returned is not what smart-backfill wrote or asked for. */
export const corruptError = (message: string): BigQueryAdapterError => new BigQueryAdapterError('corrupt', message);

interface ClientErrorShape {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly errors?: ReadonlyArray<{
    readonly reason?: unknown;
    readonly message?: unknown;
    readonly errors?: ReadonlyArray<{ readonly reason?: unknown; readonly message?: unknown }>;
  }>;
}

/** The `reason`s an ApiError or PartialFailureError carries, deduplicated. */
export const reasonsOf = (e: unknown): string[] => {
  if (typeof e !== 'object' || e === null) return [];
  const out = new Set<string>();
  for (const item of (e as ClientErrorShape).errors ?? []) {
    if (typeof item.reason === 'string') out.add(item.reason);
    for (const inner of item.errors ?? []) if (typeof inner.reason === 'string') out.add(inner.reason);
  }
  return [...out];
};

const messageOf = (e: unknown): string => {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && typeof (e as ClientErrorShape).message === 'string') return (e as { message: string }).message;
  return String(e);
};

const TRANSIENT_REASONS = ['backendError', 'internalError', 'rateLimitExceeded', 'quotaExceeded'];

/**
 * BigQuery failing on its side (5xx, `backendError`, a quota), or never answering (a
 * socket error: `ECONNREFUSED`, `ETIMEDOUT`), is `unavailable`: retrying later may help.
 * Everything BigQuery refused because of the statement or the data it met is `query_failed`.
 */
const isTransient = (reasons: readonly string[], status: unknown): boolean =>
  reasons.some((r) => TRANSIENT_REASONS.includes(r)) ||
  (typeof status === 'number' && status >= 500) ||
  (typeof status === 'string' && /^E[A-Z]+$/.test(status));

/**
 * BigQuery cancelling the loser of two concurrent transactions on one table ("Transaction
 * is aborted due to concurrent update", "could not serialize access"): `contention`, the
 * statement itself was fine and running it again may pass.
 */
const isConcurrentUpdate = (message: string): boolean => /concurrent update|could not serialize access/i.test(message);

/** A hint for the errors people hit first, so the message says what to do. */
const hintFor = (reasons: readonly string[], message: string, code: unknown): string => {
  if (/streaming buffer/i.test(message))
    return ' (rows still in the streaming buffer cannot be updated or deleted for up to ~90 minutes; smart-backfill only appends, so this comes from a statement of your own)';
  if (reasons.includes('bytesBilledLimitExceeded'))
    return " (raise maximumBytesBilled, or check that the query is pruned to the window's partitions)";
  if (reasons.includes('quotaExceeded') || reasons.includes('rateLimitExceeded'))
    return ' (a BigQuery quota was hit; the client already retried rate limits — slow down or ask for more quota)';
  if (reasons.includes('notFound') || code === 404) return ' (does the table exist? run `smart-backfill init --bigquery` to print the DDL)';
  if (reasons.includes('accessDenied') || code === 403) return ' (check the IAM roles in docs/bigquery.md)';
  return '';
};

/**
 * Wrap a client error: `[smart-backfill] [bigquery] reading counts from \`p.d.t\` failed: <message>`.
 */
export const wrapClientError = (
  kind: 'query_failed' | 'insert_failed',
  purpose: string,
  table: string | undefined,
  e: unknown,
): BigQueryAdapterError => {
  if (e instanceof BigQueryAdapterError) return e;
  const reasons = reasonsOf(e);
  const message = messageOf(e);
  const status = typeof e === 'object' && e !== null ? (e as ClientErrorShape).code : undefined;
  return new BigQueryAdapterError(
    isTransient(reasons, status) ? 'unavailable' : isConcurrentUpdate(message) ? 'contention' : 'query_failed',
    `${purpose} failed: ${message}${reasons.length > 0 ? ` [${reasons.join(', ')}]` : ''}${hintFor(reasons, message, status)}`,
    {
      cause: e,
      table,
      reasons,
      detail: kind,
    },
  );
};
