import { randomUUID } from 'node:crypto';
import type { BackfillQueue, Clock, PipelineGraph, RequestTracker, RunLog } from '@smart-backfill/core';
import { engineError } from './errors.js';
import { isGuardedProcessor, type GuardedProcessor } from './guard-types.js';
import { silentLogger, type Logger } from './logger.js';
import { registryNames, type ProcessorRegistry } from './processor.js';
import { createSoloGate, type SoloGate } from './solo-gate.js';
import { pipelineGraph } from './upstream.js';
import { policyResolver, type WorkerPolicy } from './worker-policy.js';
import type { ResumeOptions, WorkerDeps } from './worker-types.js';

/**
 * What the loop changes under a delivery in flight: `stop({ drain: false })` sets
 * `releasing` and aborts every `running` backfill, so deliveries not yet claimed
 * are given back and running ones end as `Released`.
 */
export interface Shutdown {
  releasing: boolean;
  readonly running: Set<AbortController>;
}

/**
 * The worker's settings with every default filled in, plus the two things the loop
 * owns and one delivery reads: the gate (concurrency, suspects alone) and the shutdown
 * state. Resolved once, so the handling of a delivery and the loop read one answer.
 */
export interface WorkerContext {
  readonly log: Logger;
  readonly clock: Clock;
  readonly tracker: RequestTracker;
  readonly runLog: RunLog;
  readonly queue: BackfillQueue;
  readonly registry: ProcessorRegistry;
  readonly pipeline: PipelineGraph | undefined;
  readonly workerId: string;
  readonly maxLeaseLapses: number;
  readonly resumeSweepMs: number;
  readonly alertRetrySweepMs: number;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  readonly batchSize: number;
  readonly concurrency: number;
  readonly idleMs: number;
  readonly resume: ResumeOptions;
  readonly resumeEnabled: boolean;
  readonly guardFor: (processorName: string) => GuardedProcessor | undefined;
  readonly policyOf: (processorName: string) => WorkerPolicy;
  readonly gate: SoloGate;
  readonly shutdown: Shutdown;
}

/** @throws SmartBackfillError (`invalid_config`) for a setting no worker can run with, at start-up rather than on the first delivery. */
export const createWorkerContext = (deps: WorkerDeps): WorkerContext => {
  const maxLeaseLapses = deps.maxLeaseLapses ?? 10;
  // Short and kept alive by heartbeats: a worker that dies mid-backfill frees its request within a minute.
  const leaseMs = deps.leaseMs ?? 60_000;
  const heartbeatMs = deps.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 3));
  const concurrency = deps.concurrency ?? Number.POSITIVE_INFINITY;
  const resume: ResumeOptions = typeof deps.resume === 'object' ? deps.resume : { enabled: deps.resume ?? true };
  const guardedEntry = (name: string): GuardedProcessor | undefined => {
    const p = deps.registry.get(name);
    return p !== undefined && isGuardedProcessor(p) ? p : undefined;
  };
  // Each processor is retried as its own guard counts failures: never one bound for all.
  const policyOf = policyResolver(deps.policy, deps.policyFor ?? ((name) => (guardedEntry(name) ?? deps.guardFor?.(name))?.policy));
  if (!Number.isInteger(maxLeaseLapses) || maxLeaseLapses < 0)
    throw engineError('invalid_config', `maxLeaseLapses must be a whole number >= 0, got ${String(maxLeaseLapses)}`);
  if (concurrency !== Number.POSITIVE_INFINITY && (!Number.isInteger(concurrency) || concurrency < 1))
    throw engineError('invalid_config', `concurrency must be a whole number >= 1, got ${String(concurrency)}`);
  if (heartbeatMs >= leaseMs) throw engineError('invalid_config', `heartbeatMs (${heartbeatMs}) must be shorter than leaseMs (${leaseMs})`);
  // The inputs its guards declare make a graph: refused here, by the CLI's rule, when it has a cycle or an unknown name.
  const listed = registryNames(deps.registry);
  if (listed.some((n) => (guardedEntry(n)?.dependsOn ?? []).length > 0))
    pipelineGraph(listed.map((name) => ({ name, dependsOn: guardedEntry(name)?.dependsOn })));
  return {
    log: deps.logger ?? silentLogger,
    clock: deps.clock,
    tracker: deps.tracker,
    runLog: deps.runLog,
    queue: deps.queue,
    registry: deps.registry,
    pipeline: deps.pipeline,
    workerId: deps.workerId ?? `worker-${randomUUID()}`,
    maxLeaseLapses,
    resumeSweepMs: deps.resumeSweepMs ?? 300_000,
    alertRetrySweepMs: deps.alertRetrySweepMs ?? 60_000,
    leaseMs,
    heartbeatMs,
    backoff: deps.backoff ?? { baseMs: 30_000, maxMs: 1_800_000 },
    batchSize: deps.batchSize ?? 10,
    concurrency,
    idleMs: deps.idleMs ?? 1_000,
    resume,
    resumeEnabled: resume.enabled ?? true,
    guardFor: deps.guardFor ?? guardedEntry,
    policyOf,
    // Claim-and-run of a request with a lapsed claim happens alone (see `claimAndRun`);
    // the others at most `concurrency` at once, whatever arrived together.
    gate: createSoloGate(concurrency),
    shutdown: { releasing: false, running: new Set() },
  };
};
