import type {
  Alerter,
  AlertLog,
  Backfill,
  BackfillRequest,
  Clock,
  Decision,
  Dependency,
  Escalate,
  GapAnalysis,
  GapPolicy,
  IsoDate,
  Proceed,
  RequestTracker,
  BackfillQueue,
  RunLog,
  RunMetadata,
  ScheduleSource,
  TargetTable,
  WindowReader,
} from '@smart-backfill/core';
import type { AlertUpkeep } from './alerts.js';
import type { Logger } from './logger.js';
import type { Processor, RunOptions } from './processor.js';
import type { UpstreamInput, UpstreamWait } from './upstream.js';

/** Everything the guard reads and writes. Only `window`, `tracker`, `queue`, `runLog` and `clock` are required. */
export interface GuardDeps {
  /**
   * One round trip per check (a `WindowReader`), or a schedule and a target read in parallel.
   * A `WindowReader` that is also a `CheckReader` (BigQuery's `store.window`) answers the
   * whole check — requests, alerts and held runs too — in one call; it must read the same
   * store as `tracker`, `runLog` and `alertLog`.
   */
  readonly window: WindowReader | { readonly schedule: ScheduleSource; readonly target: TargetTable };
  readonly tracker: RequestTracker;
  readonly queue: BackfillQueue;
  readonly runLog: RunLog;
  readonly clock: Clock;
  /** Missing fields come from `DEFAULT_POLICY`. Validated when the guard is built (throws `SmartBackfillError`). */
  readonly policy?: Partial<GapPolicy> | undefined;
  /** Where escalations go. Without an `alertLog`, dedupe is per guard instance only (not durable). */
  readonly alerter?: Alerter | undefined;
  readonly alertLog?: AlertLog | undefined;
  /** Re-send an open alert as a `reminder` after this long (ms). Default: never. */
  readonly reminderIntervalMs?: number | undefined;
  /**
   * The longest a run waits for an alert to be delivered (ms, default 5 s). Past
   * it the send is aborted and recorded as failed, and the run goes on; the
   * worker retries the delivery (see `GuardedProcessor.alerts`).
   */
  readonly alertDeadlineMs?: number | undefined;
  /** Request and run ids. Default `crypto.randomUUID`. */
  readonly ids?: (() => string) | undefined;
  readonly logger?: Logger | undefined;
  /** Written to `requestedBy` of auto requests. Default `smart_backfill_detection` (the seed's value). */
  readonly requestedBy?: string | undefined;
  /**
   * The processors whose output this one reads (its `dependsOn`, each with the upstream's own
   * window and policy). Before a run that would proceed, the dates it reads from each are
   * checked; a missing one holds the run and queues (or escalates) on the upstream.
   */
  readonly upstream?: readonly UpstreamInput[] | undefined;
}

/** The run went ahead (no gap, a backfill, or only old gaps under `blockOn: 'critical'`). */
export interface Ran {
  readonly _tag: 'Ran';
  readonly reason: Proceed['reason'];
  /** What the processor's `run` resolved with. */
  readonly result: unknown;
  /** Absent for backfills (they are not checked). */
  readonly analysis?: GapAnalysis | undefined;
  /** What the user should know although the run went ahead (e.g. the schedule had no rows in the window). */
  readonly warnings?: readonly string[] | undefined;
  readonly runId: string;
}

/** Backfills were queued (or are in flight) and the run was held; it resumes when the gap closes. */
export interface Held {
  readonly _tag: 'Held';
  readonly analysis: GapAnalysis;
  readonly decision: Backfill;
  /** Requests this run created (and published, or left to the relay). */
  readonly queued: readonly BackfillRequest[];
  /** Missing dates already being backfilled (including races lost to another guard). */
  readonly inFlight: readonly IsoDate[];
  /** Held for its inputs: what it waits for on each upstream processor (its own window was whole). */
  readonly upstream?: readonly UpstreamWait[] | undefined;
  readonly runId: string;
}

/** `blockOn: 'critical'`: old gaps were queued, and the run went ahead anyway. */
export interface BackfillQueuedNotHeld {
  readonly _tag: 'BackfillQueuedNotHeld';
  readonly analysis: GapAnalysis;
  readonly decision: Backfill;
  readonly queued: readonly BackfillRequest[];
  readonly inFlight: readonly IsoDate[];
  readonly result: unknown;
  readonly runId: string;
}

/** A person was (or already had been) told; the run was held unless `decision.holdRun` is false. */
export interface Escalated {
  readonly _tag: 'Escalated';
  readonly analysis: GapAnalysis;
  readonly decision: Escalate;
  /** A notice was delivered by this run (opening or reminder). */
  readonly alerted: boolean;
  /**
   * A person has the alert: delivered by this run or by an earlier one. False
   * when no notice got through yet (`deliveryError` says why); the alert stays
   * recorded as undelivered and the worker retries it.
   */
  readonly told: boolean;
  /** Why this run's delivery failed, or why the alert is still undelivered; `null` when all went well. */
  readonly deliveryError: string | null;
  readonly alertKey: string;
  /** Set when the run went ahead (`holdRun: false`). */
  readonly result?: unknown;
  /** `holdRun: false`, but an input it reads held the run: what it waits for on each. */
  readonly upstream?: readonly UpstreamWait[] | undefined;
  readonly runId: string;
}

/**
 * The check could not read its inputs (nothing was guessed, nothing ran), the schedule's
 * status filter matched none of its rows (`SmartBackfillError` code `invalid_config`, detail `schedule_mismatch`),
 * the processor threw, or a backfill's processor succeeded without filling its date
 * (code `not_filled`).
 */
export interface Failed {
  readonly _tag: 'Failed';
  readonly error: Error;
  readonly stage: 'check' | 'run';
  readonly runId: string;
}

/** What a guarded run did. Unlike the seed's `True`, every case says which. */
export type GuardOutcome = Ran | Held | BackfillQueuedNotHeld | Escalated | Failed;

/** The dry run: the same reads and decision as `run`, nothing written. */
export interface CheckReport {
  readonly processorName: string;
  readonly date: IsoDate;
  readonly analysis: GapAnalysis;
  readonly decision: Decision;
  /** Dates `run` would queue now (already deduped against requests in flight). */
  readonly wouldQueue: readonly IsoDate[];
  readonly inFlight: readonly IsoDate[];
  /** Whether `run` would hold (skip) the processor: for its own window, or for an input (`upstream`). */
  readonly wouldHold: boolean;
  /** A run that would go ahead by its own window but is held by its inputs: what it would wait for on each. */
  readonly upstream?: readonly UpstreamWait[] | undefined;
  readonly failedAttempts: ReadonlyMap<IsoDate, number>;
  readonly lastError: ReadonlyMap<IsoDate, string>;
  /** The effective policy. */
  readonly policy: GapPolicy;
  /** What the user should know (e.g. the schedule had no rows in the window, so nothing was checked). */
  readonly warnings: readonly string[];
}

/** A processor with the check in front of it. Same interface, typed outcome. */
export interface GuardedProcessor extends Processor {
  run(opts: RunOptions): Promise<GuardOutcome>;
  check(date: IsoDate): Promise<CheckReport>;
  /**
   * Re-count `date` as a finished backfill must leave it: an `Error` (code `not_filled`,
   * with the numbers) when it is scheduled and still below `minRecordsPerDate`, else
   * metadata for the run record. A guarded backfill does this itself; the worker calls
   * it after running a plain processor that has a guard.
   */
  verifyFilled(date: IsoDate): Promise<Error | RunMetadata>;
  /**
   * The input dates a backfill of `date` reads that are missing or held (`processor date`):
   * empty when it may be built. A rebuild is not queued while this is not empty: it would only fail.
   */
  inputsNotReady?(date: IsoDate): Promise<readonly string[]>;
  /** The processor it wraps. */
  readonly inner: Processor;
  /** The inputs it reads (`GuardDeps.upstream`, by name): a worker checks the graph they make. */
  readonly dependsOn?: readonly Dependency[] | undefined;
  readonly policy: GapPolicy;
  /** Alert upkeep between runs (the worker calls it); absent when the guard has no alerting. */
  readonly alerts?: AlertUpkeep | undefined;
}

/**
 * Marks the outcomes a guard returns, so a processor whose own result happens to look
 * like one (`{ _tag: 'Failed', runId }`) is never read as a guard's. Non-enumerable:
 * invisible to equality, spreading and JSON. `Symbol.for`, so two copies of the engine
 * in one process agree.
 */
const GUARD_OUTCOME = Symbol.for('@smart-backfill/engine/guard-outcome');

/** Brand an outcome as the guard's own (the guard calls it on every outcome it returns). */
export const brandOutcome = (o: GuardOutcome): GuardOutcome => Object.defineProperty(o, GUARD_OUTCOME, { value: true });

/** True for values a guarded `run` returned (the worker uses it to see a `Failed` outcome as failure). */
export const isGuardOutcome = (u: unknown): u is GuardOutcome =>
  typeof u === 'object' && u !== null && (u as { readonly [GUARD_OUTCOME]?: unknown })[GUARD_OUTCOME] === true;

/** True for a processor built by `withSmartBackfill`. */
export const isGuardedProcessor = (p: Processor): p is GuardedProcessor =>
  typeof (p as Partial<GuardedProcessor>).check === 'function' && typeof (p as Partial<GuardedProcessor>).inner === 'object';
