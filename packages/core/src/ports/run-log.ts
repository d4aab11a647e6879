import type { IsoDate } from '../iso-date.js';

export type RunOutcome = 'succeeded' | 'failed' | 'skipped';
/** The seed's `skip_reason` values, which its monitoring queries filter on. */
export type SkipReason = 'backfill_queued' | 'waiting_for_backfill' | 'gap_escalated';
/** Why the run happened: the daily schedule, a backfill, a held run resumed, a person, or a cascade re-run. */
export type RunTrigger = 'scheduled' | 'backfill' | 'resume' | 'manual' | 'cascade';

/**
 * Keys the seed's monitoring queries read (`$.gap_size`, `$.missing_dates[0]`)
 * plus ours. Stored as JSON.
 */
export interface RunMetadata {
  readonly gap_size?: number;
  readonly missing_dates?: readonly IsoDate[];
  readonly critical_missing?: readonly IsoDate[];
  readonly in_flight?: readonly IsoDate[];
  readonly queued?: readonly IsoDate[];
  readonly decision?: string;
  readonly request_id?: string;
  readonly [key: string]: unknown;
}

/** One row of the seed's `analytics_processor_runs`. */
export interface RunRecord {
  readonly runId: string;
  readonly processorName: string;
  /** The date the run is for. */
  readonly runDate: IsoDate;
  readonly trigger: RunTrigger;
  readonly isBackfill: boolean;
  readonly outcome: RunOutcome;
  readonly skipReason: SkipReason | null;
  readonly errorMessage: string | null;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly durationMs: number;
  readonly metadata: RunMetadata;
}

/**
 * Where a held run is. `held` waits for its gap; `resuming` is claimed by one resumer
 * (until `leaseUntil`); `resumed` was re-run (`resumeRunId` names the run record);
 * `cancelled` will not be re-run (its own date was backfilled, or queueing failed).
 */
export type HeldRunStatus = 'held' | 'resuming' | 'resumed' | 'cancelled';

/** A run the guard held until a gap closes. At most one per (processorName, runDate). */
export interface HeldRun {
  readonly processorName: string;
  readonly runDate: IsoDate;
  readonly heldAt: number;
  readonly reason: SkipReason;
  /** The missing dates it waits for. */
  readonly waitingFor: readonly IsoDate[];
  readonly status: HeldRunStatus;
  /** When it became `resumed` or `cancelled`; null otherwise. */
  readonly releasedAt: number | null;
  /** Who holds, or last held, the resume claim since the run was last held; null if nobody claimed it. */
  readonly claimedBy: string | null;
  readonly claimedAt: number | null;
  /** End of the claim's lease: past it, another resumer may take the run over. */
  readonly leaseUntil: number | null;
  /** Claims ever made on this run (never reset, also not by `hold`): the fencing token of `ResumeClaim.attempt`. */
  readonly claims: number;
  /** The run record (`RunRecord.runId`) of the re-run that resumed it; null unless `resumed` by `finishResume`. */
  readonly resumeRunId: string | null;
  /**
   * The store's version of this record, where it keeps one (BigQuery's append-only tables), on
   * records a `CheckReader` or `hold` returned. `hold` given this record as `current` builds
   * on it instead of reading the record again. Other stores leave it out.
   */
  readonly revision?: number | undefined;
}

/** What `claimResume` hands its one winner; `finishResume` takes it back. */
export interface ResumeClaim {
  readonly processorName: string;
  readonly runDate: IsoDate;
  readonly claimant: string;
  /** `HeldRun.claims` after this claim: a later claim (a takeover) has a higher one. */
  readonly attempt: number;
  readonly claimedAt: number;
  readonly leaseUntil: number;
}

export interface RunQuery {
  readonly processorName?: string | undefined;
  /** `startedAt >= since` (epoch ms). */
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  /**
   * `runDate >= runDateFrom` and `runDate <= runDateTo` (both inclusive): the runs of some dates,
   * whenever they ran. A heal reads the runs of the few dates it touches this way, not every run
   * since the oldest of them (which makes a year of `--with-downstream` backfills quadratic).
   */
  readonly runDateFrom?: IsoDate | undefined;
  readonly runDateTo?: IsoDate | undefined;
  readonly limit?: number | undefined;
}

/** What `RunLog.lastBuilds` is asked. */
export interface LastBuildQuery {
  /** The processors asked about; runs of others are left out. */
  readonly processorNames: readonly string[];
  /** Only runs with `startedAt >= since` (epoch ms) count, as in `RunQuery.since`. */
  readonly since: number;
}

/**
 * When one date of a processor was last built: of its succeeded runs (within the query's
 * `since`), the latest start and the latest end. They can come from different runs (a run that
 * started later may have finished sooner); each is what one side of the stale-input rule
 * (`builtOnIncompleteInput`) compares.
 */
export interface LastBuild {
  readonly processorName: string;
  readonly runDate: IsoDate;
  readonly startedAt: number;
  readonly finishedAt: number;
}

/**
 * Every run, held or not: the rows the seed's monitoring queries read, and the
 * list of held runs that resume when their gap closes.
 */
export interface RunLog {
  /** Append one run. Idempotent on `runId`. */
  append(run: RunRecord): Promise<void>;
  /** Oldest first. */
  runs(query: RunQuery): Promise<readonly RunRecord[]>;
  /**
   * Optional: per (processor, run date), the last successful build (`LastBuild`), one row per
   * date that has a succeeded run started at or after `query.since`, ordered by processor name,
   * then run date. The same answer as folding `runs({ processorName, since })` of each processor
   * with core's `lastBuildsOf`, in one read that returns neither metadata nor the failed and
   * skipped runs: a plan over a year of a hundred processors reads tens of thousands of run
   * records otherwise. A store whose read is no cheaper than `runs` leaves it out; callers then
   * fall back to `runs`.
   */
  lastBuilds?(query: LastBuildQuery): Promise<readonly LastBuild[]>;
  /**
   * Record a held run, or refresh the one already held for (processorName, runDate)
   * (`waitingFor` and `reason` replaced, `heldAt` kept). A run in any other state held
   * again becomes `held` with this `heldAt`, and loses its claim (`claims` is kept): a
   * re-run that finds a gap holds its run again, and the claim behind it can no longer finish.
   *
   * Returns the run as now recorded, so the caller can hand it on (to resume) without reading
   * it back. `options.current` is the record as the caller read it moments ago (a check's
   * `heldRuns`; `null`: none existed); a store whose reads are costly may build on it instead of
   * reading. Stores that change the record in one atomic step ignore it.
   */
  hold(
    run: Pick<HeldRun, 'processorName' | 'runDate' | 'heldAt' | 'reason' | 'waitingFor'>,
    options?: { readonly current?: HeldRun | null | undefined },
  ): Promise<HeldRun>;
  /** Oldest run date first. */
  heldRuns(query: {
    readonly processorName?: string | undefined;
    readonly status?: HeldRunStatus | undefined;
  }): Promise<readonly HeldRun[]>;
  /**
   * Move a `held` run to `cancelled` (or, for a caller that ran it some other way, `resumed`).
   * Returns `true` only for the one caller that changed it. A run being resumed (`resuming`)
   * is left alone: only its claimant finishes it.
   */
  release(processorName: string, runDate: IsoDate, status: 'resumed' | 'cancelled', at: number): Promise<boolean>;
  /**
   * Claim a run for resuming, so that it is re-run exactly once even if the resumer dies.
   *
   * - `held` → `resuming`, claimed by `claimant` until `at + leaseMs`.
   * - `resuming` whose lease has ended (`leaseUntil <= at`) → taken over: same move, and the
   *   previous claim can no longer finish.
   * - anything else (a live claim, `resumed`, `cancelled`, unknown) → `null`.
   *
   * Single winner: of callers racing on one run, at most one gets a claim; each claim has an
   * `attempt` higher than every earlier claim of that run. A resumer that dies holding a claim
   * leaves the run `resuming`, visible with its lapsed lease, until another resumer takes it
   * over; it is never lost and never silently marked done. `hold` drops a claim (the re-run
   * found a gap and held the run again).
   */
  claimResume(
    processorName: string,
    runDate: IsoDate,
    claim: { readonly claimant: string; readonly at: number; readonly leaseMs: number },
  ): Promise<ResumeClaim | null>;
  /**
   * Mark a claimed run `resumed` once its re-run's outcome is recorded, naming that run
   * record. Succeeds only while `claim` is the run's current claim (status `resuming`, same
   * `attempt`) — also after its lease ended, as long as nobody took it over. Returns `false`
   * when the claim was taken over or the run was held again meanwhile; the run is then left
   * as it is.
   */
  finishResume(claim: ResumeClaim, done: { readonly runId: string; readonly at: number }): Promise<boolean>;
}
