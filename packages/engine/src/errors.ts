/**
 * What went wrong, as a stable code a caller can branch on. The message says
 * what to do about it; `cause` keeps the original error.
 */
export type SmartBackfillErrorCode =
  | 'invalid_message'
  | 'unknown_processor'
  | 'read_failed'
  | 'tracker_failed'
  | 'publish_failed'
  | 'processor_failed'
  | 'alert_failed'
  | 'stale_attempt'
  | 'invalid_config'
  /** The schedule has rows in the window, but its status filter accepts none of them (a config mistake). */
  | 'schedule_mismatch'
  /** A backfill's processor succeeded but its date is still below `minRecordsPerDate`. */
  | 'not_filled';

/** The engine's edge error: `[smart-backfill] [engine] <message>`, with the original as `cause`. */
export class SmartBackfillError extends Error {
  override readonly name = 'SmartBackfillError';
  readonly code: SmartBackfillErrorCode;

  constructor(code: SmartBackfillErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(`[smart-backfill] [engine] ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Any thrown value as an `Error` (processors may throw strings). */
export const toError = (e: unknown): Error =>
  e instanceof Error ? e : new Error(typeof e === 'string' ? e : (JSON.stringify(e) ?? String(e)));

/** The message of any thrown value. */
export const errorMessage = (e: unknown): string => toError(e).message;

/**
 * Thrown by a processor (or any error with `retryable === false`) to say that
 * retrying will not help: the worker fails the request for good at once.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  readonly retryable = false as const;
}

/** `false` when the error says retrying is pointless (`retryable: false`). */
export const isRetryable = (e: unknown): boolean =>
  !(typeof e === 'object' && e !== null && (e as { retryable?: unknown }).retryable === false);
