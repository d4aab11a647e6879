import type { BackfillQueue, Clock, Delivery, GapPolicy, PipelineGraph, RequestTracker, RunLog } from '@smart-backfill/core';
import type { GuardedProcessor } from './guard-types.js';
import type { Logger } from './logger.js';
import type { ProcessorRegistry } from './processor.js';

/** Re-running held runs when their gap closes. */
export interface ResumeOptions {
  /** Default true. */
  readonly enabled?: boolean | undefined;
  /**
   * Also re-run later dates that already succeeded while the gap was open
   * (trigger `cascade`), at most the processor's `lookbackDays` after the healed date. Default false.
   */
  readonly cascade?: boolean | undefined;
}

export interface WorkerDeps {
  readonly queue: BackfillQueue;
  readonly tracker: RequestTracker;
  readonly runLog: RunLog;
  /** The allowlist: messages naming anything else fail their request and are never run. */
  readonly registry: ProcessorRegistry;
  readonly clock: Clock;
  /**
   * The policy for processors {@link WorkerDeps.policyFor} says nothing about (and
   * for the fields its answer leaves out). Only `maxAttempts` (default 3) and
   * `lookbackDays` (cascade bound) are read. `maxAttempts` bounds real failures
   * (the processor threw), not claims: a claim whose worker died or lost its lease
   * does not use one up.
   */
  readonly policy?: Partial<GapPolicy> | undefined;
  /**
   * Each processor's own policy: its requests are retried up to its `maxAttempts`
   * and its cascade is bounded by its `lookbackDays`, so a worker serving several
   * processors treats each as its guard does (the guard counts the same failures
   * against the same `maxAttempts` when it decides to re-queue or escalate).
   * Fields it leaves out (or an `undefined` answer) fall back to `policy`, then to
   * `DEFAULT_POLICY`. Default: the registry entry's `policy` when it is a guarded
   * processor, else that of `guardFor`'s guard, else nothing. Asked once per
   * delivery, before the claim; an invalid answer (say `maxAttempts: 0`) claims
   * nothing and comes back as an `Error` outcome naming the processor.
   */
  readonly policyFor?: ((processorName: string) => Partial<GapPolicy> | GapPolicy | undefined) | undefined;
  /**
   * The poison bound: once this many claims of one request ended with neither a
   * result nor a recorded failure (the worker died, was stopped, or lost its
   * lease), the next claim fails it for good without running it, and the guard
   * escalates its date (`backfill_keeps_failing`). A request that has lapsed once
   * runs alone in its worker from then on (nothing else in flight), so a crash it
   * causes is charged to it only; a healthy batch-mate lapses at most once, beside
   * the poison job's first run. Default 10: a lapse costs a lease length before the
   * sweeper requeues it, and some lapses are nobody's fault (a deploy, a lost node).
   */
  readonly maxLeaseLapses?: number | undefined;
  /**
   * How often `runOnce` (and so `start()`'s loop) also runs a resume pass over
   * held runs whose awaited backfills all completed but which were never re-run
   * — the resume of a worker that died between `Complete` and resuming (ms,
   * default 5 minutes; 0 disables). See `createResumer`.
   */
  readonly resumeSweepMs?: number | undefined;
  /**
   * How often `runOnce` also sends again the alert notices that reached nobody
   * (each alert waits `deliveryRetryDelayMs` after its last failure; ms, default
   * 1 minute; 0 disables). Uses each registry entry's guard (`alerts`).
   */
  readonly alertRetrySweepMs?: number | undefined;
  /**
   * Request lease and delivery lease (ms). Default 60 s, extended every `heartbeatMs`
   * (a third of it) while the backfill runs: a worker killed mid-backfill holds its
   * request (and its Pub/Sub message) for at most a minute.
   */
  readonly leaseMs?: number | undefined;
  /** Heartbeat period (ms). Default `leaseMs / 3`. */
  readonly heartbeatMs?: number | undefined;
  /** Retry delay `min(maxMs, baseMs * 2^(attempt-1))`. Default 30 s, capped at 30 min. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number } | undefined;
  /** Lease owner written to the tracker. Default a random id. */
  readonly workerId?: string | undefined;
  /** Default `true` (resume on, cascade off). */
  readonly resume?: boolean | ResumeOptions | undefined;
  /** The guard a held run is re-run through. Default: the registry entry when it is a guarded processor. */
  readonly guardFor?: ((processorName: string) => GuardedProcessor | undefined) | undefined;
  /**
   * The processors' dependency graph. With it, a completed backfill heals what reads it:
   * runs held for that input resume, and dates built before it are queued for a rebuild
   * (see `healDownstream`). Without it, a completion touches only its own processor.
   */
  readonly pipeline?: PipelineGraph | undefined;
  /**
   * At most this many backfills run at once in this worker, however many deliveries
   * `receive` returned together or `handleDelivery` was given. `runOnce` receives no
   * more than this many; a delivery handed to `handleDelivery` beyond it waits its
   * turn with its lease kept (extended every `heartbeatMs`). Default: no bound beyond
   * one batch.
   */
  readonly concurrency?: number | undefined;
  /** Deliveries per `receive` (default 10) and how long `start()` waits when idle (default 1 s). */
  readonly batchSize?: number | undefined;
  readonly idleMs?: number | undefined;
  readonly logger?: Logger | undefined;
}

/**
 * What became of one delivery, and what was done with it:
 * - `Completed`: ran, `Complete` applied, acked.
 * - `Retrying`: ran and threw; `Fail` + `Retry(notBefore)` applied; nacked with `delayMs`.
 * - `FailedPermanently`: ran and threw for the `maxAttempts`-th time (or a non-retryable error); `Fail` applied; acked.
 *   Or (`poison: true`) not run at all: `maxLeaseLapses` earlier claims ended without a result; `Fail` applied; dead-lettered (or acked).
 * - `AlreadyDone`: the request is completed or failed for good; acked without running.
 * - `Busy`: another worker holds a live lease, or (`waitingFor`, with a pipeline) an input date it reads has an
 *   active backfill, so it is built after that one instead of before and again; nacked with `delayMs`, no attempt spent.
 * - `NotYetDue`: backing off until `notBefore`; nacked with `delayMs`.
 * - `Duplicate`: a different request is already active for that (processor, date); acked.
 * - `Stale`: this worker lost its lease meanwhile; its result was refused (fencing); acked.
 * - `Rejected`: unknown processor; the request is failed with the reason; dead-lettered (or acked).
 * - `DeadLettered`: the message does not decode; dead-lettered (or acked) with the reason; nothing ran.
 * - `Released`: the worker stopped without draining; nacked at once, the lease lapses and the sweeper requeues
 *   (or, when it was still waiting to run alone, nothing was claimed and only the message comes back).
 * - `Error`: the tracker could not be reached; nacked with `delayMs` so the message comes back.
 */
export type DeliveryOutcome =
  | { readonly _tag: 'Completed'; readonly requestId: string; readonly attempt: number; readonly resumed: readonly string[] }
  | {
      readonly _tag: 'Retrying';
      readonly requestId: string;
      readonly attempt: number;
      readonly failures: number;
      readonly error: string;
      readonly delayMs: number;
    }
  | {
      readonly _tag: 'FailedPermanently';
      readonly requestId: string;
      readonly attempt: number;
      /** The request's `failures` after this `Fail` (this one included; for a poison job, its give-up). */
      readonly failures: number;
      readonly error: string;
      /** Failed without running: its claims kept lapsing (`maxLeaseLapses`). */
      readonly poison?: boolean | undefined;
    }
  | { readonly _tag: 'AlreadyDone'; readonly requestId: string; readonly status: 'completed' | 'failed' }
  | {
      readonly _tag: 'Busy';
      readonly requestId: string;
      readonly delayMs: number;
      /** The input dates (`processor date`) with an active backfill it waits for. */
      readonly waitingFor?: readonly string[] | undefined;
    }
  | { readonly _tag: 'NotYetDue'; readonly requestId: string; readonly delayMs: number }
  | { readonly _tag: 'Duplicate'; readonly requestId: string; readonly activeRequestId: string }
  | { readonly _tag: 'Stale'; readonly requestId: string; readonly attempt: number; readonly reason: string }
  | { readonly _tag: 'Rejected'; readonly requestId: string; readonly reason: string }
  | { readonly _tag: 'DeadLettered'; readonly reason: string }
  | { readonly _tag: 'Released'; readonly requestId: string }
  | { readonly _tag: 'Error'; readonly requestId: string | null; readonly error: string; readonly delayMs: number };

export interface WorkerTick {
  readonly received: number;
  readonly outcomes: readonly DeliveryOutcome[];
}

export interface Worker {
  /** Receive one batch (no waiting), handle every delivery, resolve with what happened. */
  runOnce(opts?: { readonly max?: number | undefined }): Promise<WorkerTick>;
  /**
   * Handle one delivery (push handlers and streaming pulls call this). Never throws.
   * Calls may overlap; a request whose earlier claim lapsed waits until it can run alone.
   */
  handleDelivery(d: Delivery): Promise<DeliveryOutcome>;
  /** Loop until `stop()`. */
  start(): void;
  /**
   * Stop the loop. By default in-flight work finishes first; with `{ drain: false }`
   * running processors are aborted and their deliveries released (nacked).
   */
  stop(opts?: { readonly drain?: boolean | undefined }): Promise<void>;
  readonly workerId: string;
}
