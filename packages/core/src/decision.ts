import type { IsoDate } from './iso-date.js';
import type { GapAnalysis } from './gap-analysis.js';
import type { GapPolicy } from './policy.js';

/** Run the processor now. */
export interface Proceed {
  readonly _tag: 'Proceed';
  /**
   * `is_backfill`: the run is itself a backfill (the seed's bypass: a backfill must not wait for itself).
   * `no_gaps`: the window is complete.
   * `gaps_outside_critical_window`: with `blockOn: 'critical'`, the only gaps are older than the
   * critical window and all of them are already being backfilled.
   */
  readonly reason: 'is_backfill' | 'no_gaps' | 'gaps_outside_critical_window';
}

/** A small gap: queue what is not already queued, and usually hold the run. */
export interface Backfill {
  readonly _tag: 'Backfill';
  /** Dates to queue now, oldest first. Never a date that is already queued or processing. */
  readonly toQueue: readonly IsoDate[];
  /** Missing dates that already have an active (queued/processing) request. */
  readonly inFlight: readonly IsoDate[];
  /** Hold (skip and defer) the run until the gap closes. */
  readonly holdRun: boolean;
}

/** A gap a person must look at. Nothing is queued. */
export interface Escalate {
  readonly _tag: 'Escalate';
  readonly dates: readonly IsoDate[];
  /**
   * `gap_exceeds_threshold`: more missing dates than `autoBackfillThreshold`.
   * `backfill_keeps_failing`: some dates already failed `maxAttempts` times; re-queueing them
   * forever (as the seed would) hides the problem, so the circuit opens instead.
   */
  readonly reason: 'gap_exceeds_threshold' | 'backfill_keeps_failing';
  readonly holdRun: boolean;
}

export type Decision = Proceed | Backfill | Escalate;

export interface DecideContext {
  /** The run is a backfill itself: never check, never hold. */
  readonly isBackfill?: boolean;
  /** Dates that already have a queued or processing request for this processor. */
  readonly activeRequests?: Iterable<IsoDate>;
  /** Failed attempts so far per date (only for dates whose latest request failed). */
  readonly failedAttempts?: ReadonlyMap<IsoDate, number> | Readonly<Record<string, number>>;
  /**
   * Missing dates that wait for their inputs (`datesWaitingForInputs`): their data is missing
   * because an input upstream is, so the gap is that input's to escalate, not this processor's.
   * They count toward neither the threshold nor the failing dates, are never queued, and are
   * reported in flight (they are produced once the input heals).
   */
  readonly waitingForInputs?: ReadonlySet<IsoDate>;
}

const attemptsOf = (fa: DecideContext['failedAttempts'], d: IsoDate): number =>
  fa === undefined ? 0 : fa instanceof Map ? (fa.get(d) ?? 0) : ((fa as Readonly<Record<string, number>>)[d] ?? 0);

/**
 * What to do about a gap analysis. Order of rules: a backfill always proceeds;
 * no gaps proceeds; dates whose backfill keeps failing escalate; a gap over
 * the threshold escalates; otherwise backfill what is not already in flight.
 * Dates that wait for their inputs take part in none of these rules but the last:
 * they are in flight, and an escalation names only the processor's own dates.
 */
export const decide = (
  analysis: GapAnalysis,
  policy: Pick<GapPolicy, 'autoBackfillThreshold' | 'blockOn' | 'maxAttempts'>,
  context: DecideContext = {},
): Decision => {
  if (context.isBackfill === true) return { _tag: 'Proceed', reason: 'is_backfill' };
  if (!analysis.hasGaps) return { _tag: 'Proceed', reason: 'no_gaps' };

  const holdRun = policy.blockOn === 'any' || analysis.criticalGapSize > 0;
  const waiting = context.waitingForInputs ?? new Set<IsoDate>();
  const own = analysis.missingDates.filter((d) => !waiting.has(d));
  const failing = own.filter((d) => attemptsOf(context.failedAttempts, d) >= policy.maxAttempts);
  if (failing.length > 0) return { _tag: 'Escalate', dates: failing, reason: 'backfill_keeps_failing', holdRun };
  if (own.length > policy.autoBackfillThreshold) {
    return { _tag: 'Escalate', dates: own, reason: 'gap_exceeds_threshold', holdRun };
  }

  const active = new Set<IsoDate>(context.activeRequests ?? []);
  const toQueue: IsoDate[] = [];
  const inFlight: IsoDate[] = [];
  for (const d of analysis.missingDates) (active.has(d) || waiting.has(d) ? inFlight : toQueue).push(d);
  if (!holdRun && toQueue.length === 0) return { _tag: 'Proceed', reason: 'gaps_outside_critical_window' };
  return { _tag: 'Backfill', toQueue, inFlight, holdRun };
};
