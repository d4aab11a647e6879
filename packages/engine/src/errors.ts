import { SmartBackfillError, isSmartBackfillError, type SmartBackfillErrorCode } from '@smart-backfill/core';

// Re-exported so engine users need not import core for the one error class every package throws.
export { SmartBackfillError, isSmartBackfillError, type SmartBackfillErrorCode };

/**
 * Which step of the engine failed: kept as the error's `detail`, beside the
 * shared `code` a caller branches on.
 */
export type EngineErrorReason =
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

const CODE_OF: Readonly<Record<EngineErrorReason, SmartBackfillErrorCode>> = {
  invalid_message: 'invalid_input',
  unknown_processor: 'invalid_config',
  read_failed: 'unavailable',
  tracker_failed: 'unavailable',
  publish_failed: 'unavailable',
  processor_failed: 'processor_failed',
  alert_failed: 'unavailable',
  stale_attempt: 'contention',
  invalid_config: 'invalid_config',
  schedule_mismatch: 'invalid_config',
  not_filled: 'processor_failed',
};

/**
 * The engine's edge error: `[smart-backfill] [engine] <message>`, a `SmartBackfillError`
 * whose `detail` is the step that failed. The engine does no I/O of its own, so a step
 * coded `unavailable` is a store or service failing: when that failure is a smart-backfill
 * error its code says more, and is kept (a damaged SQLite file read by the guard stays `corrupt`).
 */
export const engineError = (reason: EngineErrorReason, message: string, options?: { readonly cause?: unknown }): SmartBackfillError => {
  const cause = options?.cause;
  const own = CODE_OF[reason];
  const code = own === 'unavailable' && isSmartBackfillError(cause) ? cause.code : own;
  return new SmartBackfillError(code, message, { origin: 'engine', detail: reason, cause });
};

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

/**
 * A port call as a promise, even when the port throws before returning one. Reads started
 * together (`Promise.all`) must each be a promise: a synchronous throw from the second would
 * leave the first one's rejection unhandled, which ends a Node process.
 */
export const settle = <T>(call: () => T | PromiseLike<T>): Promise<T> => new Promise<T>((resolve) => resolve(call()));
