import { randomUUID } from 'node:crypto';
import {
  addDays,
  builtOnIncompleteInput,
  compareDates,
  downstreamDatesReading,
  isActive,
  upstreamReach,
  type BackfillQueue,
  type HeldRun,
  type IsoDate,
  type NewBackfillRequest,
  type PipelineGraph,
} from '@smart-backfill/core';
import { errorMessage } from './errors.js';
import type { GuardedProcessor, GuardOutcome } from './guard-types.js';
import { silentLogger } from './logger.js';
import { publishTracked } from './publish-tracked.js';
import { claimAndRerun, resumeHeldRuns, type ResumeDeps } from './resume.js';

/** The `triggerReason` of a request that rebuilds a date because an input it read was healed; its run's trigger is `cascade`. */
export const UPSTREAM_HEALED = 'upstream_healed';

/** What a resumer needs (held runs are claimed and re-run as `resumeHeldRuns` does), and the graph and queue to rebuild through. */
export interface HealDownstreamDeps extends ResumeDeps {
  readonly queue: BackfillQueue;
  readonly graph: PipelineGraph;
  readonly ids?: (() => string) | undefined;
}

export interface HealDownstreamResult {
  /** Held runs re-run because an input they waited for is whole. */
  readonly resumed: readonly { readonly processorName: string; readonly runDate: IsoDate }[];
  /** Dates queued for a rebuild: they were built before an input they read was healed. */
  readonly queued: readonly { readonly processorName: string; readonly date: IsoDate }[];
  readonly outcomes: readonly GuardOutcome[];
}

const MS_PER_DAY = 86_400_000;

/**
 * After `upstream`'s `healedDates` were filled (at `healedAt`), let the heal flow one level
 * down; each level's own completions carry it further, so levels heal in dependency order.
 *
 * For each processor that reads `upstream`, over the dates that read a healed date:
 * - a run held for its inputs (it waits for no date of its own) is claimed (`claimResume`:
 *   one winner across workers; a resumer that dies leaves a lapsed claim the periodic pass
 *   takes over) and re-run through its guard with trigger `resume`;
 * - unless `rebuild` is false, a date built before the heal (core's `builtOnIncompleteInput`) is queued as a backfill
 *   with `triggerReason` `upstream_healed` (its run is recorded with trigger `cascade`). The
 *   tracker keeps one active request per date, so racing workers queue it once.
 *
 * A date that also reads an input date whose backfill is still active is left alone: that
 * backfill's completion heals it, so it is rebuilt once, after all it reads.
 */
export const healDownstream = async (
  deps: HealDownstreamDeps,
  upstream: string,
  healedDates: readonly IsoDate[],
  healedAt: number,
  opts: {
    /** Queue rebuilds of dates built before the heal (default true); false resumes held runs only. */
    readonly rebuild?: boolean | undefined;
  } = {},
): Promise<HealDownstreamResult> => {
  const log = deps.logger ?? silentLogger;
  const resumed: { processorName: string; runDate: IsoDate }[] = [];
  const queued: { processorName: string; date: IsoDate }[] = [];
  const outcomes: GuardOutcome[] = [];
  const healed = [...healedDates].sort(compareDates);
  if (healed.length === 0) return { resumed, queued, outcomes };
  const dependents = deps.graph.order.flatMap((n) =>
    (deps.graph.dependsOn.get(n) ?? [])
      .filter((d) => d.processor === upstream)
      .map((d) => ({ processor: n, lookbackDays: d.lookbackDays })),
  );
  for (const dep of dependents) {
    const name = dep.processor;
    const reading = new Set(healed.flatMap((x) => downstreamDatesReading(dep, x)));
    const blocked = await inputsBusy(deps, name, [...reading]);
    const candidates = [...reading].filter((d) => !blocked.has(d)).sort(compareDates);
    if (candidates.length === 0) continue;

    const allHeld = await deps.runLog.heldRuns({ processorName: name, status: 'held' });
    const held = allHeld.filter((h) => h.waitingFor.length === 0 && reading.has(h.runDate) && !blocked.has(h.runDate));
    // Own dates a held run waits for that were not queued because their inputs were missing (the guard's
    // `waiting`); not one with a held run of its own: its resume builds it once what it waits for is there.
    const ownHeld = new Set(allHeld.map((h) => h.runDate));
    const awaited = new Set(allHeld.flatMap((h) => h.waitingFor).filter((d) => candidates.includes(d) && !ownHeld.has(d)));
    // Only while still missing: one filled meanwhile (its own backfill won a race) is not built twice.
    for (const d of awaited) if (!((await deps.guardFor(name)?.verifyFilled(d)) instanceof Error)) awaited.delete(d);
    const heldDates = new Set(held.map((h) => h.runDate));
    const produced: IsoDate[] = [];
    const guard = deps.guardFor(name);
    if (guard !== undefined) {
      for (const h of held.sort((a, b) => compareDates(a.runDate, b.runDate))) {
        const o = await claimAndRerun(deps, guard, h, log, 'resuming a run held for its input', { upstream });
        if (o === null) continue;
        resumed.push({ processorName: name, runDate: h.runDate });
        outcomes.push(o);
        if (o._tag === 'Ran') produced.push(h.runDate);
      }
    }

    async function queueRebuilds(stale: readonly IsoDate[]): Promise<void> {
      const now = deps.clock.now();
      const fresh: NewBackfillRequest[] = stale.map((date) => ({
        requestId: (deps.ids ?? randomUUID)(),
        processorName: name,
        date,
        requestType: 'auto',
        priority: 'normal',
        requestedAt: now,
        requestedBy: 'smart_backfill_detection',
        triggerReason: UPSTREAM_HEALED,
        metadata: { pattern: 'smart_backfill', upstream, upstream_dates: healed },
      }));
      try {
        const res = await deps.tracker.create(fresh);
        await publishTracked(
          { tracker: deps.tracker, queue: deps.queue, clock: deps.clock, logger: log, logFields: { processor: name, upstream } },
          res.created,
        );
        for (const r of res.created) queued.push({ processorName: name, date: r.date });
        if (res.created.length > 0)
          log.info('queued rebuilds of dates built before their input healed', {
            processor: name,
            upstream,
            dates: res.created.map((r) => r.date),
          });
      } catch (e) {
        log.warn('could not queue downstream rebuilds', { processor: name, upstream, error: errorMessage(e) });
      }
    }

    // Only a rebuild reads the run log (a person's backfill without its downstream never does),
    // and only when some date that reads the heal is neither held nor waiting on another input.
    let stale: IsoDate[] = [];
    if (opts.rebuild !== false && candidates.some((d) => !heldDates.has(d))) {
      // The runs of the dates that read the heal, whenever they ran: not every run since the first
      // healed date, which made a year of `--with-downstream` backfills read the year once per date.
      const lastBuiltAt = new Map<IsoDate, number>();
      const sorted = [...reading].sort(compareDates);
      for (const r of await deps.runLog.runs({ processorName: name, runDateFrom: sorted[0], runDateTo: sorted[sorted.length - 1] })) {
        if (r.outcome === 'succeeded') lastBuiltAt.set(r.runDate, Math.max(lastBuiltAt.get(r.runDate) ?? -Infinity, r.startedAt));
      }
      stale = builtOnIncompleteInput(
        [{ processor: upstream, lookbackDays: dep.lookbackDays }],
        lastBuiltAt,
        new Map([[upstream, new Map(healed.map((x) => [x, healedAt]))]]),
      ).filter((d) => !heldDates.has(d) && !blocked.has(d));
    }
    // Awaited dates were never built (left unqueued while their input was missing): they are queued
    // after any heal, a person's backfill without its downstream too, or nothing would build them.
    const due = [...new Set([...stale, ...[...awaited].filter((d) => !heldDates.has(d))])].sort(compareDates);
    // A date that still reads a missing or held input (another day of it, say) would only fail
    // its backfill until it gave up: the heal of that input queues it.
    const ready: IsoDate[] = [];
    for (const d of due) {
      const unready = guard === undefined ? undefined : await unreadyInputsOf(guard, d);
      if (unready === undefined || unready.length === 0) ready.push(d);
    }
    if (ready.length > 0) await queueRebuilds(ready);
    if (produced.length > 0) {
      // Later runs of this processor held for those dates (its own window) resume now, not at the next pass.
      await resumeHeldRuns({ ...deps, logger: log }, name).catch((e: unknown) =>
        log.warn('could not resume held runs', { processor: name, error: errorMessage(e) }),
      );
      // A resumed run produced its date: the heal goes on down from here, as after a backfill.
      const next = await healDownstream(deps, name, produced, deps.clock.now());
      resumed.push(...next.resumed);
      queued.push(...next.queued);
      outcomes.push(...next.outcomes);
    }
  }
  return { resumed, queued, outcomes };
};

/**
 * Dates of `name` among `dates` that read, directly or through the levels between, a date with
 * an active backfill (the healed dates are complete, so only other dates count). That backfill's
 * completion heals its way down to them; rebuilt now, they would read a level between that is
 * about to change (a diamond: one branch healed, the other not yet), and be rebuilt again after it.
 */
const inputsBusy = async (deps: HealDownstreamDeps, name: string, dates: readonly IsoDate[]): Promise<Set<IsoDate>> => {
  const busy = new Set<IsoDate>();
  const sorted = [...dates].sort(compareDates);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (first === undefined || last === undefined) return busy;
  const wanted = new Set(dates);
  for (const [ancestor, reach] of upstreamReach(deps.graph, name)) {
    const active = (await deps.tracker.forWindow({ processorName: ancestor, start: addDays(first, -reach), end: last }))
      .filter((r) => isActive(r.status))
      .map((r) => r.date);
    for (const a of active) for (const d of downstreamDatesReading({ lookbackDays: reach }, a)) if (wanted.has(d)) busy.add(d);
  }
  return busy;
};

/**
 * The periodic safety net for runs held for their inputs: a worker that died between a
 * backfill's completion and `healDownstream` left them held, and they wait for no date of
 * their own, so the same-processor resume pass never picks them up. A run is re-run (claimed,
 * one winner) once none of the input dates it reads has an active backfill and one of them
 * was completed (a backfill) or produced (a run) after it was held; a run whose inputs are unchanged since it was held is left
 * alone, so an escalated input does not make it re-run on every pass.
 */
export const resumeHeldForInputs = async (deps: HealDownstreamDeps): Promise<HealDownstreamResult> => {
  const log = deps.logger ?? silentLogger;
  const resumed: { processorName: string; runDate: IsoDate }[] = [];
  const queued: { processorName: string; date: IsoDate }[] = [];
  const outcomes: GuardOutcome[] = [];
  const held = (await deps.runLog.heldRuns({ status: 'held' })).filter(
    (h) => h.waitingFor.length === 0 && (deps.graph.dependsOn.get(h.processorName) ?? []).length > 0,
  );
  for (const h of held) {
    const changed = await lastInputChange(deps, h);
    if (changed === 'busy') continue;
    const guard = deps.guardFor(h.processorName);
    if (guard === undefined) continue;
    // Inputs filled outside smart-backfill (rows loaded by hand) leave no completion or run to see:
    // a run whose inputs are whole now is resumed all the same (asked only when nothing was recorded).
    if (changed <= h.heldAt && !(await inputsWhole(guard, h.runDate))) continue;
    const o = await claimAndRerun(deps, guard, h, log, 'resuming a run held for its input, missed at completion');
    if (o === null) continue;
    resumed.push({ processorName: h.processorName, runDate: h.runDate });
    outcomes.push(o);
    if (o._tag === 'Ran') {
      const next = await healDownstream(deps, h.processorName, [h.runDate], deps.clock.now());
      resumed.push(...next.resumed);
      queued.push(...next.queued);
      outcomes.push(...next.outcomes);
    }
  }
  // A worker that died between a backfill's completion and its heal left the dates that read it
  // stale, and nothing marks them (they are not held). Heal the last day's completions again, in
  // dependency order: a date rebuilt since is built after the completion and left alone, one
  // being rebuilt has its active request (the tracker keeps one per date), so this queues only what was missed.
  const now = deps.clock.now();
  const rank = new Map(deps.graph.order.map((n, i) => [n, i]));
  const completed = (await deps.tracker.list({ statuses: ['completed'], since: now - 2 * MS_PER_DAY }))
    .filter((r) => (r.completedAt ?? r.updatedAt) >= now - MS_PER_DAY && (deps.graph.dependents.get(r.processorName) ?? []).length > 0)
    .sort((a, b) => (rank.get(a.processorName) ?? 0) - (rank.get(b.processorName) ?? 0) || compareDates(a.date, b.date));
  for (const r of completed) {
    const next = await healDownstream(deps, r.processorName, [r.date], r.completedAt ?? r.updatedAt, {
      rebuild: r.requestType === 'auto' || r.metadata['with_downstream'] === true,
    });
    resumed.push(...next.resumed);
    queued.push(...next.queued);
    outcomes.push(...next.outcomes);
  }
  return { resumed, queued, outcomes };
};

/** The input dates a run of `date` reads that are not ready (the guard's own rule); `undefined`: it cannot say, or the read failed. */
const unreadyInputsOf = async (guard: GuardedProcessor, date: IsoDate): Promise<readonly string[] | undefined> => {
  try {
    return await guard.inputsNotReady?.(date);
  } catch {
    return undefined;
  }
};

/** Whether every input date a run of `date` reads is whole now; one it cannot say, or a failed read, is "no". */
const inputsWhole = async (guard: GuardedProcessor, date: IsoDate): Promise<boolean> => (await unreadyInputsOf(guard, date))?.length === 0;

/**
 * When an input date a held run reads was last completed (a backfill) or produced (a run),
 * or `'busy'` as soon as one has an active backfill: the run waits for it whatever else
 * changed, so the remaining inputs (and that input's run log) are not read.
 */
const lastInputChange = async (deps: HealDownstreamDeps, h: HeldRun): Promise<number | 'busy'> => {
  let completed = -Infinity;
  for (const input of deps.graph.dependsOn.get(h.processorName) ?? []) {
    const start = addDays(h.runDate, -input.lookbackDays);
    const requests = await deps.tracker.forWindow({ processorName: input.processor, start, end: h.runDate });
    if (requests.some((r) => isActive(r.status))) return 'busy';
    for (const r of requests) if (r.status === 'completed') completed = Math.max(completed, r.completedAt ?? r.updatedAt);
    // An input date may also have been produced by a run (a resumed one, as a level above heals).
    for (const r of await deps.runLog.runs({ processorName: input.processor, since: h.heldAt, runDateFrom: start, runDateTo: h.runDate }))
      if (r.outcome === 'succeeded' && r.runDate >= start && r.runDate <= h.runDate) completed = Math.max(completed, r.finishedAt);
  }
  return completed;
};
