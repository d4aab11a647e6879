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

/** A run the guard held until a gap closes. At most one per (processorName, runDate). */
export interface HeldRun {
  readonly processorName: string;
  readonly runDate: IsoDate;
  readonly heldAt: number;
  readonly reason: SkipReason;
  /** The missing dates it waits for. */
  readonly waitingFor: readonly IsoDate[];
  readonly status: 'held' | 'resumed' | 'cancelled';
  readonly releasedAt: number | null;
}

export interface RunQuery {
  readonly processorName?: string | undefined;
  /** `startedAt >= since` (epoch ms). */
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly limit?: number | undefined;
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
   * Record a held run, or refresh the one already held for (processorName, runDate)
   * (`waitingFor` and `reason` replaced, `heldAt` kept). A resumed or cancelled
   * run held again becomes `held`.
   */
  hold(run: Omit<HeldRun, 'status' | 'releasedAt'>): Promise<void>;
  /** Oldest run date first. */
  heldRuns(query: {
    readonly processorName?: string | undefined;
    readonly status?: HeldRun['status'] | undefined;
  }): Promise<readonly HeldRun[]>;
  /**
   * Move a `held` run to `resumed` or `cancelled`. Returns `true` only for the one
   * caller that changed it, so two workers finishing the last backfill at once
   * resume the run once.
   */
  release(processorName: string, runDate: IsoDate, status: 'resumed' | 'cancelled', at: number): Promise<boolean>;
}
