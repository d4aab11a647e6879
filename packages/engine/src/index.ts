/**
 * @smart-backfill/engine — the effects around the pure core: the guard that
 * wraps a processor, the backfill worker, resume of held runs, the outbox relay,
 * the lease sweeper and the wire codec. Everything is exported by hand here.
 */
export {
  type BackfillMessage,
  type DecodeProblem,
  MAX_MESSAGE_BYTES,
  MAX_RANGE_DAYS,
  decodeBackfillMessage,
  formatProblems,
  queueMessageForRequest,
} from './codec.js';
export { type Processor, type RunOptions, type ProcessorRegistry, processorRegistry } from './processor.js';
export {
  type GuardDeps,
  type GuardOutcome,
  type Ran,
  type Held,
  type BackfillQueuedNotHeld,
  type Escalated,
  type Failed,
  type CheckReport,
  type GuardedProcessor,
} from './guard-types.js';
export { withSmartBackfill, healCommand } from './guard.js';
export { undeliveredNotice, type AlertUpkeep } from './alerts.js';
export { type ResumeOptions, type WorkerDeps, type DeliveryOutcome, type WorkerTick, type Worker } from './worker-types.js';
export { createWorker } from './worker.js';
export {
  type ResumeDeps,
  type ResumeResult,
  resumeHeldRuns,
  type ResumerDeps,
  type ResumerResult,
  type Resumer,
  createResumer,
} from './resume.js';
export { isPoison } from './failures.js';
export { type RelayDeps, type RelayResult, type Relay, createRelay } from './relay.js';
export { type SweeperDeps, type SweepResult, type Sweeper, createSweeper } from './sweeper.js';
export { systemClock } from './clock.js';
export { type Logger, silentLogger, consoleJsonLogger } from './logger.js';
export { type SmartBackfillErrorCode, type EngineErrorReason, SmartBackfillError, isSmartBackfillError, PermanentError } from './errors.js';
// Pipelines: a guard that looks upstream, and healing that flows down (issue 16).
export { type UpstreamInput, type UpstreamWait, pipelineGraph } from './upstream.js';
export { type HealDownstreamDeps, type HealDownstreamResult, UPSTREAM_HEALED, healDownstream, resumeHeldForInputs } from './downstream.js';
