import type { BackfillQueue, BackfillRequest, Clock, IsoDate, NewBackfillRequest, RequestTracker } from '@smart-backfill/core';
import { engineError, errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import { publishTracked } from './publish-tracked.js';

export interface AutoBackfillDeps {
  readonly tracker: RequestTracker;
  readonly queue: BackfillQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ids: () => string;
  /** Written to `requestedBy`. Default `smart_backfill_detection` (the seed's value). */
  readonly requestedBy?: string | undefined;
}

/** The guarded run that found the gap, and which of its missing dates are critical. */
export interface AutoBackfillCause {
  readonly runDate: IsoDate;
  readonly runId: string;
  /** Queued `high`; the other dates `normal`. */
  readonly critical: ReadonlySet<IsoDate>;
  /** Set when the dates are an input's, found by this downstream processor's run. */
  readonly downstream?: string | undefined;
  /** Every request of the dates' (processor, date)s as the caller just read them, handed to `RequestTracker.create`. */
  readonly seen?: readonly BackfillRequest[] | undefined;
}

/**
 * A guard's automatic backfills of `processorName`'s `dates`, for its own gap or an input's:
 * recorded first, then published (the outbox). The tracker keeps one active request per
 * date, so a date another guard queued meanwhile comes back in `lost`, never twice.
 *
 * @throws SmartBackfillError (detail `tracker_failed`) when the requests cannot be recorded; nothing was published.
 */
export const queueAutoBackfills = async (
  deps: AutoBackfillDeps,
  processorName: string,
  dates: readonly IsoDate[],
  cause: AutoBackfillCause,
): Promise<{ readonly created: readonly BackfillRequest[]; readonly lost: readonly IsoDate[] }> => {
  if (dates.length === 0) return { created: [], lost: [] };
  const { runDate, runId, critical, downstream, seen } = cause;
  const now = deps.clock.now();
  const fresh: NewBackfillRequest[] = dates.map((day) => ({
    requestId: deps.ids(),
    processorName,
    date: day,
    requestType: 'auto',
    priority: critical.has(day) ? 'high' : 'normal',
    requestedAt: now,
    requestedBy: deps.requestedBy ?? 'smart_backfill_detection',
    triggerReason: 'auto_backfill',
    metadata: {
      pattern: 'smart_backfill',
      auto_queued: true,
      ...(downstream === undefined ? {} : { downstream }),
      run_date: runDate,
      run_id: runId,
    },
  }));
  let res;
  try {
    res = await deps.tracker.create(fresh, { seen });
  } catch (e) {
    const of = downstream === undefined ? '' : `, an input of ${downstream}`;
    throw engineError(
      'tracker_failed',
      `could not record backfill requests for ${processorName} (${dates.join(', ')})${of}: ${errorMessage(e)}`,
      {
        cause: e,
      },
    );
  }
  const logFields = downstream === undefined ? { processor: processorName } : { processor: processorName, downstream };
  await publishTracked({ tracker: deps.tracker, queue: deps.queue, clock: deps.clock, logger: deps.logger, logFields }, res.created);
  return { created: res.created, lost: res.existing.map((r) => r.date) };
};
