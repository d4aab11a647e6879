import { setTimeout as delay } from 'node:timers/promises';
import { SqliteBusyError } from './errors.js';

export interface BusyRetryOptions {
  /** Give up (throw `SqliteBusyError`) after retrying this long. Default 60 000 ms. */
  readonly maxWaitMs?: number;
  /** First backoff; doubles up to `maxDelayMs`, with jitter. Default 2 ms. */
  readonly baseDelayMs?: number;
  /** Default 100 ms. */
  readonly maxDelayMs?: number;
}

/** `SQLITE_BUSY*` or `SQLITE_LOCKED*`: another connection holds the lock; worth retrying. */
export const isBusy = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
};

/**
 * Run `fn`, retrying while SQLite reports the file busy or locked. The
 * connection's busy timeout already waits inside SQLite; this catches what it
 * cannot (a lock held past the timeout, WAL recovery by another process), so
 * `SQLITE_BUSY` never reaches a caller. Backoff uses real time, never the
 * injected clock: a manual clock would never advance it.
 */
export const withBusyRetry = async <A>(what: string, fn: () => A, options: BusyRetryOptions = {}): Promise<A> => {
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const base = options.baseDelayMs ?? 2;
  const cap = options.maxDelayMs ?? 100;
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e)) throw e;
      const waited = performance.now() - started;
      if (waited >= maxWaitMs) {
        throw new SqliteBusyError(
          `${what}: the database stayed locked for ${Math.round(waited)} ms (${(e as Error).message}); another process holds a long write transaction`,
          { cause: e },
        );
      }
      const backoff = Math.min(cap, base * 2 ** Math.min(attempt, 16));
      await delay(backoff / 2 + Math.random() * (backoff / 2));
    }
  }
};
