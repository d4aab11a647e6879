/** Exponential backoff settings for webhook retries. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. Default 500 ms. */
  readonly baseMs?: number | undefined;
  /** No computed delay exceeds this. Default 30 s. */
  readonly maxMs?: number | undefined;
}

export const DEFAULT_BACKOFF = { baseMs: 500, maxMs: 30_000 } as const;

/**
 * Delay before retry number `retry` (1 for the first retry): `base·2^(retry−1)`,
 * capped at `maxMs`, then "equal jitter" — uniformly within its upper half — so
 * many guards that failed together do not retry in lockstep, yet each wait still
 * grows.
 */
export const backoffDelay = (retry: number, options: BackoffOptions = {}, random: () => number = Math.random): number => {
  const base = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const max = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const ceiling = Math.min(max, base * 2 ** Math.max(0, retry - 1));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
};

/**
 * A `Retry-After` header in milliseconds: either delay-seconds (`120`) or an
 * HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`, measured from `nowMs`). `undefined`
 * when absent or unreadable; never negative.
 */
export const parseRetryAfter = (value: string | null | undefined, nowMs: number): number | undefined => {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
};

/** Statuses worth retrying: rate limits and server errors. */
export const isRetryableStatus = (status: number): boolean => status === 429 || (status >= 500 && status <= 599);
