import { hostname } from 'node:os';
import {
  addDays,
  compareDates,
  isActive,
  resumeEvidenceSince,
  resumeReadiness,
  toEpochDay,
  type Clock,
  type HeldRun,
  type IsoDate,
  type RequestTracker,
  type ResumeClaim,
  type ResumeEvidence,
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
  /** Who claims held runs, as `status` shows it. Default `<host>:<pid>`. */
  readonly claimant?: string | undefined;
  /**
   * How long a resume claim lasts (ms, default 15 minutes). A resumer that dies holding one
   * leaves the run `resuming`; once the lease ends, the next resume pass takes it over. A
   * re-run that takes longer than this may be run a second time by that pass.
   */
  readonly resumeLeaseMs?: number | undefined;
}

export interface ResumeResult {
  /** Run dates this caller claimed and re-ran, oldest first. */
  readonly resumed: readonly IsoDate[];
  readonly outcomes: readonly GuardOutcome[];
  /** Dates re-run by the cascade. */
  readonly cascaded: readonly IsoDate[];
}

const MS_PER_DAY = 86_400_000;
const DEFAULT_RESUME_LEASE_MS = 15 * 60_000;

const claimantOf = (deps: ResumeDeps): string => deps.claimant ?? `${hostname()}:${process.pid}`;

/** A re-check that still finds a gap: the later held runs see it too, so they are left for later. */
const stopsTheBatch = (o: GuardOutcome): boolean => o._tag !== 'Ran' && o._tag !== 'BackfillQueuedNotHeld';

/**
 * What `resumeReadiness` needs for these held runs of one processor: the tracker over their
 * dates, and — only when some run awaits no active date — the run log since the oldest hold.
 */
const gatherEvidence = async (deps: ResumeDeps, processorName: string, held: readonly HeldRun[]): Promise<ResumeEvidence> => {
  const dates = held.flatMap((h) => [h.runDate, ...h.waitingFor]).sort();
  const first = dates[0];
  const last = dates[dates.length - 1];
  const active = new Set<IsoDate>();
  const completedAt = new Map<IsoDate, number>();
  if (first !== undefined && last !== undefined) {
    for (const r of await deps.tracker.forWindow({ processorName, start: first, end: last })) {
      if (isActive(r.status)) active.add(r.date);
      else if (r.status === 'completed')
        completedAt.set(r.date, Math.max(completedAt.get(r.date) ?? -Infinity, r.completedAt ?? r.updatedAt));
    }
  }
  const idle = held.filter((h) => h.waitingFor.length > 0 && !h.waitingFor.some((d) => active.has(d)));
  const runs = idle.length === 0 ? [] : await deps.runLog.runs({ processorName, since: resumeEvidenceSince(idle, completedAt) });
  return { active, completedAt, runs };
};

/** Re-run a claimed held run through the guard, then mark it resumed with that run's record. */
const rerun = async (deps: ResumeDeps, guard: GuardedProcessor, claim: ResumeClaim, log: Logger): Promise<GuardOutcome> => {
  const o = await guard.run({ date: claim.runDate, trigger: 'resume' });
  // False when the re-run held it again (it waits anew), or a slow re-run lost its lapsed claim.
  if (!(await deps.runLog.finishResume(claim, { runId: o.runId, at: deps.clock.now() })))
    log.debug('held run not marked resumed', { processor: claim.processorName, date: claim.runDate, outcome: o._tag });
  return o;
};

/**
 * Claim a held run (one winner across resumers; `null` when another has it or it is no longer
 * held), say so with `message`, and re-run it through its guard.
 */
export const claimAndRerun = async (
  deps: ResumeDeps,
  guard: GuardedProcessor,
  h: Pick<HeldRun, 'processorName' | 'runDate'>,
  log: Logger,
  message: string,
  fields: Record<string, unknown> = {},
): Promise<GuardOutcome | null> => {
  const claim = await deps.runLog.claimResume(h.processorName, h.runDate, {
    claimant: claimantOf(deps),
    at: deps.clock.now(),
    leaseMs: deps.resumeLeaseMs ?? DEFAULT_RESUME_LEASE_MS,
  });
  if (claim === null) return null;
  log.info(message, { processor: h.processorName, date: h.runDate, ...fields });
  return rerun(deps, guard, claim, log);
};

interface Settled {
  readonly resumed: IsoDate[];
  readonly cancelled: IsoDate[];
  readonly outcomes: GuardOutcome[];
}

/**
 * Judge each held run with `resumeReadiness`; cancel the superseded, then claim and re-run
 * the ready ones oldest run date first. A claim has one winner, so racing resumers re-run a
 * run once; a resumer that dies after claiming leaves it for `createResumer` to take over.
 */
const settleHeld = async (
  deps: ResumeDeps,
  guard: GuardedProcessor,
  held: readonly HeldRun[],
  ev: ResumeEvidence,
  log: Logger,
  message: string,
): Promise<Settled> => {
  const out: Settled = { resumed: [], cancelled: [], outcomes: [] };
  const ready: HeldRun[] = [];
  for (const h of held) {
    const r = resumeReadiness(h, ev);
    if (r._tag === 'Cancel') {
      if (await deps.runLog.release(h.processorName, h.runDate, 'cancelled', deps.clock.now())) {
        log.info('held run superseded by its backfill', { processor: h.processorName, date: h.runDate });
        out.cancelled.push(h.runDate);
      }
    } else if (r._tag === 'Resume') ready.push(h);
  }
  ready.sort((a, b) => compareDates(a.runDate, b.runDate));
  for (const h of ready) {
    const o = await claimAndRerun(deps, guard, h, log, message);
    if (o === null) continue;
    out.resumed.push(h.runDate);
    out.outcomes.push(o);
    if (stopsTheBatch(o)) break;
  }
  return out;
};

/**
 * Re-run the held runs of `processorName` that `resumeReadiness` finds ready — oldest run
 * date first, each through the guard with trigger `resume` — and cancel those whose own date
 * was backfilled after they were held. Each re-run is claimed first (`runLog.claimResume`, one
 * winner) and marked resumed only once its outcome is recorded (`finishResume`), so two
 * workers finishing the last backfills at once resume a run once, and a worker that dies
 * mid-way leaves the run claimed for the periodic pass (`createResumer`) to take over. A
 * re-check that still finds a gap holds the run again; later held runs are then left alone
 * (they see the same gap).
 *
 * With `cascade`, later dates that already succeeded while one of `healedDates` was missing
 * are re-run too (trigger `cascade`), at most `lookbackDays` after it.
 */
export const resumeHeldRuns = async (
  deps: ResumeDeps,
  processorName: string,
  opts: {
    readonly onlyRunDate?: IsoDate | undefined;
    /**
     * The held runs to judge, as the caller just recorded them (the guard hands over the run
     * it held), instead of reading the processor's held runs.
     */
    readonly held?: readonly HeldRun[] | undefined;
    /**
     * Dates a backfill just produced. No longer needed: a held run whose own date has a
     * completed request newer than its hold is cancelled by `resumeReadiness` itself.
     * @deprecated
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
  const held = (opts.held ?? (await deps.runLog.heldRuns({ processorName, status: 'held' }))).filter(
    (h) => h.status === 'held' && (opts.onlyRunDate === undefined || h.runDate === opts.onlyRunDate),
  );
  const settled =
    held.length === 0
      ? { resumed: [], cancelled: [], outcomes: [] }
      : await settleHeld(deps, guard, held, await gatherEvidence(deps, processorName, held), log, 'resuming held run');
  const resumed: IsoDate[] = settled.resumed;
  const outcomes: GuardOutcome[] = settled.outcomes;

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
  /** Held runs this pass re-ran (or, for a taken-over claim whose re-run was already recorded, marked resumed). */
  readonly resumed: readonly { readonly processorName: string; readonly runDate: IsoDate }[];
  /** Held runs cancelled because a backfill of their own date completed after they were held. */
  readonly cancelled: readonly { readonly processorName: string; readonly runDate: IsoDate }[];
  readonly outcomes: readonly GuardOutcome[];
}

export interface Resumer {
  /** One pass over every held run and every lapsed resume claim. Safe on several machines: a claim has one winner. */
  runOnce(): Promise<ResumerResult>;
}

/**
 * The periodic resume pass: the safety net for a resume that never happened or never
 * finished — the worker that completed the last awaited backfill died (or lost its
 * tracker) before `resumeHeldRuns` ran, or died while re-running a run it had claimed.
 * Only the next completion for that processor would otherwise retry it — perhaps never.
 *
 * Held runs are judged by `resumeReadiness`, the same rule as at completion. A run whose
 * resume claim lapsed (`resuming`, lease over) is taken over without being judged again: it
 * was ready when claimed, and its re-run goes through the guard, which holds it again if a
 * gap is back. If a dead resumer's re-run was already recorded (a `resume` run of that date
 * started since the hold), that record finishes the claim and nothing runs twice. The worker
 * runs this every `resumeSweepMs`.
 */
export const createResumer = (deps: ResumerDeps): Resumer => {
  const log = deps.logger ?? silentLogger;
  return {
    async runOnce() {
      const resumed: { processorName: string; runDate: IsoDate }[] = [];
      const cancelled: { processorName: string; runDate: IsoDate }[] = [];
      const outcomes: GuardOutcome[] = [];
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
        const ev = await gatherEvidence(deps, name, held);
        const s = await settleHeld(deps, guard, held, ev, log, 'resuming held run missed at completion');
        for (const d of s.cancelled) cancelled.push({ processorName: name, runDate: d });
        for (const d of s.resumed) resumed.push({ processorName: name, runDate: d });
        outcomes.push(...s.outcomes);
      }

      const now = deps.clock.now();
      const lapsed = (await deps.runLog.heldRuns({ status: 'resuming' })).filter((h) => h.leaseUntil !== null && h.leaseUntil <= now);
      for (const h of lapsed.slice(0, deps.limit ?? 500)) {
        const guard = deps.guardFor(h.processorName);
        if (guard === undefined) continue;
        const claim = await deps.runLog.claimResume(h.processorName, h.runDate, {
          claimant: claimantOf(deps),
          at: deps.clock.now(),
          leaseMs: deps.resumeLeaseMs ?? DEFAULT_RESUME_LEASE_MS,
        });
        if (claim === null) continue;
        // Any re-run recorded since this hold counts, not only one after the latest claim: a
        // resumer may itself die right after taking over from one whose re-run was recorded.
        // A re-run that held the run again was followed by a new hold (and a new `heldAt`).
        const done = (await deps.runLog.runs({ processorName: h.processorName, since: h.heldAt }))
          .filter((r) => r.runDate === h.runDate && r.trigger === 'resume' && r.outcome !== 'skipped')
          .at(-1);
        if (done !== undefined) {
          // It ran and was recorded; only the mark was lost with its resumer.
          await deps.runLog.finishResume(claim, { runId: done.runId, at: deps.clock.now() });
          log.info('finished a resume whose resumer died after recording it', {
            processor: h.processorName,
            date: h.runDate,
            runId: done.runId,
          });
          resumed.push({ processorName: h.processorName, runDate: h.runDate });
          continue;
        }
        log.warn('taking over a held run whose resumer died', {
          processor: h.processorName,
          date: h.runDate,
          claimedBy: h.claimedBy,
          leaseUntil: h.leaseUntil,
        });
        outcomes.push(await rerun(deps, guard, claim, log));
        resumed.push({ processorName: h.processorName, runDate: h.runDate });
      }
      return { resumed, cancelled, outcomes };
    },
  };
};
