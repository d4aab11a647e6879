import type { BackfillRequest, NewBackfillRequest, RequestEvent, RequestStatus, TransitionError } from '../request-lifecycle.js';
import type { Result } from '../result.js';
import type { WindowQuery } from './window.js';

export interface CreateRequestsResult {
  /** Requests recorded by this call, in input order. */
  readonly created: readonly BackfillRequest[];
  /** For inputs not recorded: the request already active (queued/processing) for that (processor, date). */
  readonly existing: readonly BackfillRequest[];
}

export type TrackerError = TransitionError | { readonly _tag: 'NotFound'; readonly requestId: string; readonly message: string };

export interface RequestListQuery {
  readonly processorName?: string | undefined;
  readonly statuses?: readonly RequestStatus[] | undefined;
  /** `requestedAt >= since` (epoch ms). */
  readonly since?: number | undefined;
  readonly limit?: number | undefined;
}

/**
 * The durable record of every backfill request and its status: the seed's
 * `backfill_requests` table. It is also the outbox: a request is recorded
 * before it is published, and `publishedAt` stays `null` until the queue confirms.
 */
export interface RequestTracker {
  /**
   * Record new requests (status `queued`). Guarantees at most one active
   * (queued or processing) request per (processorName, date), even when
   * many callers race: a losing input is returned in `existing` with the
   * winner's request. Inputs whose `requestId` already exists are idempotent
   * (returned in `existing`).
   *
   * `options.seen`: every request of the inputs' (processor, date)s as the caller read them
   * moments ago (a check's `requests`, whose window holds every date it queues). A store whose
   * reads are costly may build on it instead of reading; the guarantee above still holds.
   */
  create(
    requests: readonly NewBackfillRequest[],
    options?: { readonly seen?: readonly BackfillRequest[] | undefined },
  ): Promise<CreateRequestsResult>;

  get(requestId: string): Promise<BackfillRequest | undefined>;

  /**
   * Every request, in any status, for `processorName` with `date` in the
   * window — one round trip per check. The guard derives active dates and
   * failed-attempt counts from it.
   */
  forWindow(query: WindowQuery): Promise<readonly BackfillRequest[]>;

  /**
   * Apply a lifecycle event atomically: read, `transition`, write only if the
   * stored state is still the one read (compare-and-set). An illegal or stale
   * event is an `Err` value and changes nothing.
   *
   * `options.current`: the request as the caller got it moments ago (from `create`); a store
   * whose reads are costly may build on it, where it carries a `revision`, instead of reading.
   */
  apply(
    requestId: string,
    event: RequestEvent,
    options?: { readonly current?: BackfillRequest | undefined },
  ): Promise<Result<TrackerError, BackfillRequest>>;

  /**
   * Queued requests never confirmed published, requested at or before `olderThan`,
   * oldest first: the outbox relay's work list.
   */
  unpublished(query: { readonly olderThan: number; readonly limit: number }): Promise<readonly BackfillRequest[]>;

  /** Processing requests whose lease expired at or before `now`: the sweeper's work list. */
  expiredLeases(query: { readonly now: number; readonly limit: number }): Promise<readonly BackfillRequest[]>;

  /** Newest first. For status pages, metrics and the CLI. */
  list(query: RequestListQuery): Promise<readonly BackfillRequest[]>;
}
