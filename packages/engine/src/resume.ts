import {
  addDays,
  compareDates,
  isActive,
  toEpochDay,
  type Clock,
  type HeldRun,
  type IsoDate,
  type RequestTracker,
  type RunLog,
} from '@smart-backfill/core';
import { errorMessage } from './errors.js';
import type { GuardedProcessor, GuardOutcome } from './guard-types.js';
import { silentLogger, type Logger } from './logger.js';

export interface ResumeDeps {
  readonly tracker: RequestTracker;
  readonly runLog: RunLog;
  readonly clock: Clock;
  readonly guardFor: (processorName: string) => GuardedProcessor | undefined;
  readonly logger?: Logger | undefined;
}

export interface ResumeResult {
  /** Run dates this caller released and re-ran, oldest first. */
  readonly resumed: readonly IsoDate[];
  readonly outcomes: readonly GuardOutcome[];
  /** Dates re-run by the cascade. */
  readonly cascaded: readonly IsoDate[];
}

const MS_PER_DAY = 86_400_000;

/**
 * Re-run held runs of `processorName` whose every awaited date now has a
 * completed backfill and none still active — oldest run date first, each through
 * the guard with trigger `resume`. `runLog.release` has one winner, so two workers
 * finishing the last backfills at once resume a run once. A re-check that still
 * finds a gap holds the run again; later held runs are then left alone (they see
 * the same gap).
 *
 * With `cascade`, later dates that already succeeded while one of `healedDates`
 * was missing are re-run too (trigger `cascade`), at most `lookbackDays` after it.
 */
export const resumeHeldRuns = async (
  deps: ResumeDeps,
  processorName: string,
  opts: {
    readonly onlyRunDate?: IsoDate | undefined;
    /**
     * Dates a backfill just produced. A run held for one of these dates is
     * superseded (the backfill ran it), so it is cancelled rather than re-run.
     */
    readonly producedDates?: readonly IsoDate[] | undefined;
    readonly cascade?: { readonly healedDates: readonly IsoDate[]; readonly lookbackDays: number; readonly healedAt: number } | undefined;
  } = {},
): Promise<ResumeResult> => {
  const log = deps.logger ?? silentLogger;
  const guard = deps.guardFor(processorName);
  if (guard === undefined) {
    log.debug('no guard to resume held runs with', { processor: processorName });
    return { resumed: [], outcomes: [], cascaded: [] };
  }
  let held = (await deps.runLog.heldRuns({ processorName, status: 'held' })).filter(
    (h) => opts.onlyRunDate === undefined || h.runDate === opts.onlyRunDate,
  );
  const produced = new Set(opts.producedDates ?? []);
  if (produced.size > 0) {
    for (const h of held) {
      if (produced.has(h.runDate) && (await deps.runLog.release(processorName, h.runDate, 'cancelled', deps.clock.now()))) {
        log.info('held run superseded by its backfill', { processor: processorName, date: h.runDate });
      }
    }
    held = held.filter((h) => !produced.has(h.runDate));
  }
  const resumed: IsoDate[] = [];
  const outcomes: GuardOutcome[] = [];
  if (held.length > 0) {
    const waited = held.flatMap((h) => h.waitingFor).sort();
    const first = waited[0];
    const last = waited[waited.length - 1];
    const active = new Set<IsoDate>();
    const completed = new Set<IsoDate>();
    if (first !== undefined && last !== undefined) {
      for (const r of await deps.tracker.forWindow({ processorName, start: first, end: last })) {
        if (isActive(r.status)) active.add(r.gameDate);
        else if (r.status === 'completed') completed.add(r.gameDate);
      }
    }
    const ready = held
      .filter((h) => h.waitingFor.every((d) => completed.has(d) && !active.has(d)))
      .sort((a, b) => compareDates(a.runDate, b.runDate));
    for (const h of ready) {
      if (!(await deps.runLog.release(processorName, h.runDate, 'resumed', deps.clock.now()))) continue;
      log.info('resuming held run', { processor: processorName, date: h.runDate });
      const o = await guard.run({ date: h.runDate, trigger: 'resume' });
      resumed.push(h.runDate);
      outcomes.push(o);
      if (o._tag !== 'Ran' && o._tag !== 'BackfillQueuedNotHeld') break;
    }
  }

  const cascaded: IsoDate[] = [];
  if (opts.cascade !== undefined && opts.cascade.healedDates.length > 0) {
    const { healedDates, lookbackDays, healedAt } = opts.cascade;
    const sorted = [...healedDates].sort();
    const earliest = sorted[0] as IsoDate;
    const latest = addDays(sorted[sorted.length - 1] as IsoDate, lookbackDays);
    const runs = await deps.runLog.runs({ processorName, since: toEpochDay(earliest) * MS_PER_DAY });
    const rerunSince = new Map<IsoDate, number>();
    for (const r of runs)
      if (r.outcome === 'succeeded' && !r.isBackfill)
        rerunSince.set(r.runDate, Math.max(rerunSince.get(r.runDate) ?? -Infinity, r.startedAt));
    const already = new Set(resumed);
    const targets = [...rerunSince.entries()]
      // Ran before the heal, after a healed date, inside its lookback, and not re-run since.
      .filter(
        ([d, lastStart]) =>
          lastStart < healedAt && d <= latest && healedDates.some((h) => d > h && d <= addDays(h, lookbackDays)) && !already.has(d),
      )
      .map(([d]) => d)
      .sort();
    for (const d of targets) {
      try {
        const o = await guard.run({ date: d, trigger: 'cascade' });
        cascaded.push(d);
        outcomes.push(o);
      } catch (e) {
        log.warn('cascade re-run failed', { processor: processorName, date: d, error: errorMessage(e) });
      }
    }
  }
  return { resumed, outcomes, cascaded };
};

export interface ResumerDeps extends ResumeDeps {
  /** Held runs read per pass (default 500). */
  readonly limit?: number | undefined;
}

export interface ResumerResult {
  /** Held runs this pass released and re-ran. */
  readonly resumed: readonly { readonly processorName: string; readonly runDate: IsoDate }[];
  /** Held runs cancelled because a backfill of their own date completed after they were held. */
  readonly cancelled: readonly { readonly processorName: string; readonly runDate: IsoDate }[];
  readonly outcomes: readonly GuardOutcome[];
}

export interface Resumer {
  /** One pass over every held run. Safe on several machines: `release` has one winner. */
  runOnce(): Promise<ResumerResult>;
}

/**
 * The periodic resume pass: the safety net for a resume that never happened
 * because the worker that completed the last awaited backfill died (or lost its
 * tracker) before `resumeHeldRuns` ran. Only the next completion for that
 * processor would otherwise retry it — perhaps never.
 *
 * A held run is resumed when every date it waits for is closed — it has a
 * completed request, or a run of that date succeeded after the hold (its own
 * held run was resumed, or a backfill ran whose worker died before `Complete`)
 * — none is active, and no check of its run date started after the latest of
 * those closings (nobody has judged the closed gap yet). The last rule keeps a run
 * that a re-check held again (a backfill that completed but produced nothing, an
 * escalated gap) from being re-run on every pass; a new completion makes it
 * eligible again. A held run whose own date was backfilled after it was held is
 * cancelled, as the worker does. Each pass reads, per processor with idle held
 * runs, the tracker over their dates and the run log since the oldest hold. The worker runs this every `resumeSweepMs`.
 */
export const createResumer = (deps: ResumerDeps): Resumer => {
  const log = deps.logger ?? silentLogger;
  return {
    async runOnce() {
      const resumed: { processorName: string; runDate: IsoDate }[] = [];
      const cancelled: { processorName: string; runDate: IsoDate }[] = [];
      const outcomes: GuardOutcome[] = [];
      const cancel = async (processorName: string, runDate: IsoDate): Promise<void> => {
        if (await deps.runLog.release(processorName, runDate, 'cancelled', deps.clock.now())) {
          log.info('held run superseded by its backfill', { processor: processorName, date: runDate });
          cancelled.push({ processorName, runDate });
        }
      };
      const all = (await deps.runLog.heldRuns({ status: 'held' })).slice(0, deps.limit ?? 500);
      const byProcessor = new Map<string, HeldRun[]>();
      for (const h of all) {
        const list = byProcessor.get(h.processorName);
        if (list === undefined) byProcessor.set(h.processorName, [h]);
        else list.push(h);
      }
      for (const [name, held] of byProcessor) {
        const guard = deps.guardFor(name);
        if (guard === undefined) continue;
        const dates = held.flatMap((h) => [h.runDate, ...h.waitingFor]).sort();
        const first = dates[0];
        const last = dates[dates.length - 1];
        if (first === undefined || last === undefined) continue;
        const active = new Set<IsoDate>();
        const completedAt = new Map<IsoDate, number>();
        for (const r of await deps.tracker.forWindow({ processorName: name, start: first, end: last })) {
          if (isActive(r.status)) active.add(r.gameDate);
          else if (r.status === 'completed')
            completedAt.set(r.gameDate, Math.max(completedAt.get(r.gameDate) ?? -Infinity, r.completedAt ?? r.updatedAt));
        }
        const idle: HeldRun[] = [];
        for (const h of held) {
          const own = completedAt.get(h.runDate);
          if (own !== undefined && own > h.heldAt && !active.has(h.runDate)) {
            await cancel(name, h.runDate);
            continue;
          }
          if (h.waitingFor.length > 0 && !h.waitingFor.some((d) => active.has(d))) idle.push(h);
        }
        if (idle.length === 0) continue;
        const since = Math.min(...idle.flatMap((h) => [h.heldAt, ...h.waitingFor.flatMap((d) => completedAt.get(d) ?? [])]));
        const runs = await deps.runLog.runs({ processorName: name, since });
        // A date can be produced without a completed request: by its own (resumed) run, or by a
        // backfill run whose worker died before `Complete` and whose request later failed.
        const producedAt = new Map<IsoDate, number>();
        const backfilledAt = new Map<IsoDate, number>();
        for (const r of runs) {
          if (r.outcome !== 'succeeded') continue;
          producedAt.set(r.runDate, Math.max(producedAt.get(r.runDate) ?? -Infinity, r.finishedAt));
          if (r.isBackfill) backfilledAt.set(r.runDate, Math.max(backfilledAt.get(r.runDate) ?? -Infinity, r.finishedAt));
        }
        const ready: { readonly h: HeldRun; readonly closedAt: number }[] = [];
        for (const h of idle) {
          if ((backfilledAt.get(h.runDate) ?? -Infinity) > h.heldAt && !active.has(h.runDate)) {
            await cancel(name, h.runDate);
            continue;
          }
          const closed = h.waitingFor.map(
            (d) => completedAt.get(d) ?? ((producedAt.get(d) ?? -Infinity) > h.heldAt ? (producedAt.get(d) as number) : undefined),
          );
          if (closed.every((t) => t !== undefined)) ready.push({ h, closedAt: Math.max(...(closed as number[])) });
        }
        const unjudged = ready
          .filter(({ h, closedAt }) => !runs.some((r) => r.runDate === h.runDate && !r.isBackfill && r.startedAt > closedAt))
          .sort((a, b) => compareDates(a.h.runDate, b.h.runDate));
        for (const { h } of unjudged) {
          if (!(await deps.runLog.release(name, h.runDate, 'resumed', deps.clock.now()))) continue;
          log.info('resuming held run missed at completion', { processor: name, date: h.runDate });
          const o = await guard.run({ date: h.runDate, trigger: 'resume' });
          resumed.push({ processorName: name, runDate: h.runDate });
          outcomes.push(o);
          // A re-check that still finds a gap: the later runs see it too; the next pass takes them.
          if (o._tag !== 'Ran' && o._tag !== 'BackfillQueuedNotHeld') break;
        }
      }
      return { resumed, cancelled, outcomes };
    },
  };
};
