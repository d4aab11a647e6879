import type { IsoDate } from './iso-date.js';
import type { HeldRun, RunRecord } from './ports/run-log.js';

/** What the tracker and the run log say about the dates one held run involves. */
export interface ResumeEvidence {
  /** Dates with an active (queued or processing) request. */
  readonly active: ReadonlySet<IsoDate>;
  /** Latest completion (epoch ms) of a completed request, per date. */
  readonly completedAt: ReadonlyMap<IsoDate, number>;
  /**
   * Runs of the processor started since the hold or since the earliest completion of an
   * awaited date, whichever is older. Read only once no awaited date is active: before
   * that the answer never depends on them, so a caller may pass `[]`.
   */
  readonly runs: readonly Pick<RunRecord, 'runDate' | 'isBackfill' | 'outcome' | 'startedAt' | 'finishedAt'>[];
}

export type ResumeReadiness =
  /** Re-run it: every awaited date closed (the latest at `closedAt`) and nobody has judged that yet. */
  | { readonly _tag: 'Resume'; readonly closedAt: number }
  /** Its own date was backfilled after it was held: the backfill ran it, so it is superseded. */
  | { readonly _tag: 'Cancel'; readonly backfilledAt: number }
  | { readonly _tag: 'Wait'; readonly reason: WaitReason; readonly dates: readonly IsoDate[] };

export type WaitReason =
  /** It waits for no date (never resumed by itself). */
  | 'nothing_awaited'
  /** A backfill of these dates is queued or running. */
  | 'awaited_active'
  /** Nothing has closed these dates yet. */
  | 'awaited_open'
  /** A check of the run date started after the last closing: that check already held it again. */
  | 'already_judged';

const latest = (m: Map<IsoDate, number>, d: IsoDate, t: number): void => {
  m.set(d, Math.max(m.get(d) ?? -Infinity, t));
};

/**
 * When a held run may resume — the one rule every resume path uses (the worker after a
 * completion, its periodic pass, the guard's re-check after holding).
 *
 * - Its own date was backfilled after the hold (a completed request, or a successful
 *   backfill run) and is not being backfilled again → `Cancel`.
 * - It waits for nothing, or for a date still active → `Wait`.
 * - An awaited date is closed by a completed request, or by a successful run of that
 *   date after the hold (a backfill whose worker died before `Complete`, a resumed run of
 *   that date); all must be closed, else `Wait`.
 * - A check of the run date that started after the latest closing has already judged the
 *   closed gap (it held the run again: the backfill produced nothing, the gap escalated):
 *   `Wait` until a new closing. This keeps such a run from re-running on every pass.
 * - Otherwise `Resume`.
 */
export const resumeReadiness = (held: Pick<HeldRun, 'runDate' | 'heldAt' | 'waitingFor'>, ev: ResumeEvidence): ResumeReadiness => {
  const ownCompleted = ev.completedAt.get(held.runDate);
  const ownActive = ev.active.has(held.runDate);
  if (ownCompleted !== undefined && ownCompleted > held.heldAt && !ownActive) return { _tag: 'Cancel', backfilledAt: ownCompleted };
  if (held.waitingFor.length === 0) return { _tag: 'Wait', reason: 'nothing_awaited', dates: [] };
  const busy = held.waitingFor.filter((d) => ev.active.has(d));
  if (busy.length > 0) return { _tag: 'Wait', reason: 'awaited_active', dates: busy };

  const producedAt = new Map<IsoDate, number>();
  const backfilledAt = new Map<IsoDate, number>();
  for (const r of ev.runs) {
    if (r.outcome !== 'succeeded') continue;
    latest(producedAt, r.runDate, r.finishedAt);
    if (r.isBackfill) latest(backfilledAt, r.runDate, r.finishedAt);
  }
  const ownBackfilled = backfilledAt.get(held.runDate);
  if (ownBackfilled !== undefined && ownBackfilled > held.heldAt && !ownActive) return { _tag: 'Cancel', backfilledAt: ownBackfilled };

  const closed = held.waitingFor.map((d) => {
    const completed = ev.completedAt.get(d);
    if (completed !== undefined) return completed;
    const produced = producedAt.get(d);
    return produced !== undefined && produced > held.heldAt ? produced : undefined;
  });
  const open = held.waitingFor.filter((_, i) => closed[i] === undefined);
  if (open.length > 0) return { _tag: 'Wait', reason: 'awaited_open', dates: open };
  const closedAt = Math.max(...(closed as number[]));
  if (ev.runs.some((r) => r.runDate === held.runDate && !r.isBackfill && r.startedAt > closedAt))
    return { _tag: 'Wait', reason: 'already_judged', dates: [...held.waitingFor] };
  return { _tag: 'Resume', closedAt };
};

/** The instant from which `ResumeEvidence.runs` must reach back for these held runs. */
export const resumeEvidenceSince = (
  held: readonly Pick<HeldRun, 'heldAt' | 'waitingFor'>[],
  completedAt: ReadonlyMap<IsoDate, number>,
): number =>
  Math.min(...held.flatMap((h) => [h.heldAt, ...h.waitingFor.flatMap((d) => (completedAt.has(d) ? [completedAt.get(d) as number] : []))]));
