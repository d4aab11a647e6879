import type { IsoDate } from './iso-date.js';
import { err, ok, type Result } from './result.js';

/**
 * A backfill request moves `queued → processing → completed | failed`;
 * `failed → queued` is a retry and `processing → queued` a lapsed lease.
 * Nothing else. Timestamps are epoch milliseconds; absent values are `null`
 * (not omitted) so every store holds the same columns.
 */
export type RequestStatus = 'queued' | 'processing' | 'completed' | 'failed';
export type RequestType = 'auto' | 'manual';
export type RequestPriority = 'high' | 'normal' | 'low';

export const ACTIVE_STATUSES: readonly RequestStatus[] = ['queued', 'processing'];
export const isActive = (s: RequestStatus): boolean => s === 'queued' || s === 'processing';

export interface NewBackfillRequest {
  /** Stable id chosen by the creator; the queue message and every event carry it. */
  readonly requestId: string;
  readonly processorName: string;
  /** The date to backfill (the seed's `game_date`). */
  readonly date: IsoDate;
  readonly requestType: RequestType;
  readonly priority: RequestPriority;
  readonly requestedAt: number;
  /** Who asked: `smart_backfill_detection` (the seed's value) for the guard, a user name for manual ones. */
  readonly requestedBy: string;
  /** The wire message's `trigger_reason`, e.g. `auto_backfill` or `manual_backfill`. */
  readonly triggerReason: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface BackfillRequest extends NewBackfillRequest {
  readonly status: RequestStatus;
  /**
   * How many times the request has been claimed. It is also the fencing token:
   * a worker holding attempt `k` cannot complete or fail attempt `k + 1`.
   */
  readonly attempt: number;
  /**
   * How many times the request really failed: one per `Fail`, and nothing else
   * changes it. Unlike `attempt` it does not count claims whose lease lapsed (a
   * worker that died or was stopped), so it is the count a retry budget
   * (`maxAttempts`) is measured against.
   */
  readonly failures: number;
  /**
   * The last `Fail` was `final`: whoever failed it gave up on the request for
   * good whatever its `failures` (e.g. a poison job whose claims kept lapsing),
   * so its date's retry budget counts as spent. `Retry` clears it.
   */
  readonly gaveUp: boolean;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  readonly errorMessage: string | null;
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: number | null;
  /** When the queue confirmed the message; `null` means the outbox relay must (re)publish it. */
  readonly publishedAt: number | null;
  /** A retried request is not to be run before this instant (backoff). */
  readonly notBefore: number | null;
  readonly updatedAt: number;
  /**
   * The store's version of this record, where it keeps one (BigQuery's append-only tables), on
   * requests `create` returned: `apply` given it as `current` builds on it without reading.
   */
  readonly revision?: number | undefined;
}

export type RequestEvent =
  | { readonly _tag: 'Claim'; readonly at: number; readonly owner: string; readonly leaseMs: number }
  | { readonly _tag: 'Heartbeat'; readonly at: number; readonly attempt: number; readonly leaseMs: number }
  | { readonly _tag: 'Complete'; readonly at: number; readonly attempt: number }
  | {
      readonly _tag: 'Fail';
      readonly at: number;
      readonly attempt: number;
      readonly error: string;
      /** Give up for good: sets `gaveUp` (see {@link BackfillRequest.gaveUp}). Absent means `false`. */
      readonly final?: boolean;
    }
  | { readonly _tag: 'Retry'; readonly at: number; readonly notBefore: number }
  | { readonly _tag: 'LeaseExpired'; readonly at: number }
  | { readonly _tag: 'MarkPublished'; readonly at: number };

export type TransitionError =
  | {
      readonly _tag: 'IllegalTransition';
      readonly from: RequestStatus;
      readonly event: RequestEvent['_tag'];
      readonly message: string;
    }
  | {
      readonly _tag: 'StaleAttempt';
      readonly current: number;
      readonly given: number;
      readonly message: string;
    }
  | { readonly _tag: 'LeaseNotExpired'; readonly leaseExpiresAt: number; readonly message: string }
  | { readonly _tag: 'NotYetDue'; readonly notBefore: number; readonly message: string };

/** A request as first recorded: queued, never claimed, not yet published. */
export const newRequest = (r: NewBackfillRequest): BackfillRequest => ({
  ...r,
  status: 'queued',
  attempt: 0,
  failures: 0,
  gaveUp: false,
  startedAt: null,
  completedAt: null,
  errorMessage: null,
  leaseOwner: null,
  leaseExpiresAt: null,
  publishedAt: null,
  notBefore: null,
  updatedAt: r.requestedAt,
});

const illegal = (r: BackfillRequest, e: RequestEvent): Result<TransitionError, BackfillRequest> =>
  err({
    _tag: 'IllegalTransition',
    from: r.status,
    event: e._tag,
    message: `request ${r.requestId} (${r.processorName} ${r.date}) is ${r.status}; ${e._tag} is not allowed from there`,
  });

const stale = (r: BackfillRequest, given: number): Result<TransitionError, BackfillRequest> =>
  err({
    _tag: 'StaleAttempt',
    current: r.attempt,
    given,
    message: `request ${r.requestId} is on attempt ${r.attempt}; attempt ${given} lost its lease and may not change it`,
  });

/** The only way a request changes. Pure: adapters store what it returns, compare-and-set on the old state. */
export const transition = (r: BackfillRequest, e: RequestEvent): Result<TransitionError, BackfillRequest> => {
  switch (e._tag) {
    case 'Claim':
      if (r.status !== 'queued') return illegal(r, e);
      if (r.notBefore !== null && e.at < r.notBefore) {
        return err({
          _tag: 'NotYetDue',
          notBefore: r.notBefore,
          message: `request ${r.requestId} is backing off until ${new Date(r.notBefore).toISOString()}`,
        });
      }
      return ok({
        ...r,
        status: 'processing',
        attempt: r.attempt + 1,
        startedAt: e.at,
        completedAt: null,
        leaseOwner: e.owner,
        leaseExpiresAt: e.at + e.leaseMs,
        notBefore: null,
        updatedAt: e.at,
      });
    case 'Heartbeat':
      if (r.status !== 'processing') return illegal(r, e);
      if (e.attempt !== r.attempt) return stale(r, e.attempt);
      return ok({ ...r, leaseExpiresAt: e.at + e.leaseMs, updatedAt: e.at });
    case 'Complete':
      if (r.status !== 'processing') return illegal(r, e);
      if (e.attempt !== r.attempt) return stale(r, e.attempt);
      return ok({
        ...r,
        status: 'completed',
        completedAt: e.at,
        errorMessage: null,
        leaseOwner: null,
        leaseExpiresAt: null,
        updatedAt: e.at,
      });
    case 'Fail':
      if (r.status !== 'processing') return illegal(r, e);
      if (e.attempt !== r.attempt) return stale(r, e.attempt);
      return ok({
        ...r,
        status: 'failed',
        failures: r.failures + 1,
        gaveUp: e.final === true,
        completedAt: e.at,
        errorMessage: e.error,
        leaseOwner: null,
        leaseExpiresAt: null,
        updatedAt: e.at,
      });
    case 'Retry':
      if (r.status !== 'failed') return illegal(r, e);
      return ok({ ...r, status: 'queued', gaveUp: false, completedAt: null, notBefore: e.notBefore, updatedAt: e.at });
    case 'LeaseExpired':
      if (r.status !== 'processing') return illegal(r, e);
      if (r.leaseExpiresAt !== null && e.at < r.leaseExpiresAt) {
        return err({
          _tag: 'LeaseNotExpired',
          leaseExpiresAt: r.leaseExpiresAt,
          message: `request ${r.requestId} is leased until ${new Date(r.leaseExpiresAt).toISOString()}`,
        });
      }
      return ok({ ...r, status: 'queued', leaseOwner: null, leaseExpiresAt: null, updatedAt: e.at });
    case 'MarkPublished':
      return ok(r.publishedAt !== null ? r : { ...r, publishedAt: e.at, updatedAt: Math.max(r.updatedAt, e.at) });
  }
};

/**
 * From every request of a window (one `RequestTracker.forWindow` read): which dates
 * have an active request, how many times each date's backfills really failed
 * (the `failures` of its failed requests — lapsed claims do not count), and each
 * date's last error. Requests of a date that later completed do not count as failures.
 */
export const summarizeRequests = (
  requests: Iterable<BackfillRequest>,
): {
  readonly active: ReadonlyMap<IsoDate, BackfillRequest>;
  readonly failedAttempts: ReadonlyMap<IsoDate, number>;
  readonly lastError: ReadonlyMap<IsoDate, string>;
} => {
  const active = new Map<IsoDate, BackfillRequest>();
  const failedAttempts = new Map<IsoDate, number>();
  const lastError = new Map<IsoDate, string>();
  const lastErrorAt = new Map<IsoDate, number>();
  const completedAt = new Map<IsoDate, number>();
  const list = [...requests];
  for (const r of list) {
    if (r.status === 'completed') completedAt.set(r.date, Math.max(completedAt.get(r.date) ?? 0, r.completedAt ?? r.updatedAt));
  }
  for (const r of list) {
    if (isActive(r.status)) {
      active.set(r.date, r);
      continue;
    }
    if (r.status !== 'failed') continue;
    const failedAt = r.completedAt ?? r.updatedAt;
    // A date healed after this failure starts its count afresh.
    if ((completedAt.get(r.date) ?? -Infinity) >= failedAt) continue;
    failedAttempts.set(r.date, (failedAttempts.get(r.date) ?? 0) + r.failures);
    if (failedAt >= (lastErrorAt.get(r.date) ?? -Infinity) && r.errorMessage !== null) {
      lastError.set(r.date, r.errorMessage);
      lastErrorAt.set(r.date, failedAt);
    }
  }
  return { active, failedAttempts, lastError };
};
