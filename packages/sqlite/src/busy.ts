import { setTimeout as delay } from 'node:timers/promises';
import { SqliteBusyError } from './errors.js';

export interface BusyRetryOptions {
  /** Give up (throw `SqliteBusyError`) after retrying this long. Default 60 000 ms. */
  readonly maxWaitMs?: number;
  /** First backoff; doubles up to `maxDelayMs`, with jitter. Default 2 ms. */
  readonly baseDelayMs?: number;
  /** Default 100 ms. */
  readonly maxDelayMs?: number;
  /** The file, named in the busy error and passed to `onWait`. */
  readonly file?: string;
  /**
   * Called once per operation when it has waited `noticeAfterMs` for a lock, so a
   * caller can say what it waits for instead of hanging silently.
   */
  readonly onWait?: (wait: { readonly what: string; readonly file: string | undefined; readonly waitedMs: number }) => void;
  /** Default 2 000 ms. */
  readonly noticeAfterMs?: number;
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
  const noticeAfterMs = options.noticeAfterMs ?? 2_000;
  const started = performance.now();
  let noticed = false;
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e)) throw e;
      const waited = performance.now() - started;
      if (waited >= maxWaitMs) {
        const file = options.file !== undefined ? `"${options.file}"` : 'the database';
        throw new SqliteBusyError(
          `${what}: ${file} stayed locked by another process for ${(waited / 1000).toFixed(1)} s (limit ${maxWaitMs} ms; ${(e as Error).message})`,
          { cause: e },
        );
      }
      if (!noticed && waited >= noticeAfterMs && options.onWait !== undefined) {
        noticed = true;
        options.onWait({ what, file: options.file, waitedMs: waited });
      }
      const backoff = Math.min(cap, base * 2 ** Math.min(attempt, 16));
      await delay(backoff / 2 + Math.random() * (backoff / 2));
    }
  }
};
