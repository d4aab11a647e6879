import { randomUUID } from 'node:crypto';
import {
  dateRange,
  type BackfillRequest,
  type Delivery,
  type IsoDate,
  type NewBackfillRequest,
  type TrackerError,
  type Result,
  type RunTrigger,
} from '@smart-backfill/core';
import { decodeBackfillMessage, formatProblems, wellFormed, type BackfillMessage } from './codec.js';
import { engineError, errorMessage, isRetryable, toError } from './errors.js';
import { isGuardedProcessor, isGuardOutcome, type GuardedProcessor } from './guard-types.js';
import { silentLogger } from './logger.js';
import { registryNames, type Processor } from './processor.js';
import { lapsesBefore, poisonMessage } from './failures.js';
import { createResumer, resumeHeldRuns } from './resume.js';
import { healDownstream, resumeHeldForInputs, UPSTREAM_HEALED } from './downstream.js';
import { createSoloGate } from './solo-gate.js';
import { pipelineGraph } from './upstream.js';
import { policyResolver, type WorkerPolicy } from './worker-policy.js';
import type { DeliveryOutcome, ResumeOptions, Worker, WorkerDeps, WorkerTick } from './worker-types.js';

/** `min(maxMs, baseMs · 2^(attempt−1))`: 30 s, 1 min, 2 min, … with the defaults. */
export const backoffDelay = (attempt: number, backoff: { readonly baseMs: number; readonly maxMs: number }): number =>
  Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));

/** A rebuild because an input healed is a cascade re-run, and its records say so. */
const triggerOf = (m: BackfillMessage): RunTrigger => (m.trigger_reason === UPSTREAM_HEALED ? 'cascade' : 'backfill');

/** A fixed reason: `abort()` without one builds a `DOMException`, stack trace and all, twice per backfill. */
const DONE = new Error('done');

/** Python's `isoformat()` has no zone and means UTC; `Date.parse` would read it as local time. */
const parseRequestedAt = (s: string): number | undefined => {
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(s) ? s : `${s}Z`;
  const ms = Date.parse(zoned);
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * The backfill worker (the seed's Cloud Function, made safe): decode, allowlist,
 * claim with a fenced lease, run with `isBackfill: true`, heartbeat, complete or
 * fail with backoff, then resume held runs whose gap just closed.
 * See {@link DeliveryOutcome} for how each delivery is acked, nacked or dead-lettered.
 */
export const createWorker = (deps: WorkerDeps): Worker => {
  const log = deps.logger ?? silentLogger;
  const clock = deps.clock;
  const tracker = deps.tracker;
  const maxLeaseLapses = deps.maxLeaseLapses ?? 10;
  const resumeSweepMs = deps.resumeSweepMs ?? 300_000;
  // Short and kept alive by heartbeats: a worker that dies mid-backfill frees its request within a minute.
  const leaseMs = deps.leaseMs ?? 60_000;
  const heartbeatMs = deps.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 3));
  const backoff = deps.backoff ?? { baseMs: 30_000, maxMs: 1_800_000 };
  const workerId = deps.workerId ?? `worker-${randomUUID()}`;
  const batchSize = deps.batchSize ?? 10;
  const concurrency = deps.concurrency ?? Number.POSITIVE_INFINITY;
  const idleMs = deps.idleMs ?? 1_000;
  const resume: ResumeOptions = typeof deps.resume === 'object' ? deps.resume : { enabled: deps.resume ?? true };
  const resumeEnabled = resume.enabled ?? true;
  const guardedEntry = (name: string): GuardedProcessor | undefined => {
    const p = deps.registry.get(name);
    return p !== undefined && isGuardedProcessor(p) ? p : undefined;
  };
  const guardFor = deps.guardFor ?? guardedEntry;
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

  let stopping = false;
  let releasing = false;
  const running = new Set<AbortController>();
  const handling = new Set<Promise<DeliveryOutcome>>();
  let loopAbort = new AbortController();
  let loop: Promise<void> | undefined;
  // Claim-and-run of a request with a lapsed claim happens alone (see `claimAndRun`);
  // the others at most `concurrency` at once, whatever arrived together.
  const gate = createSoloGate(concurrency);

  const settle = async (what: string, requestId: string | null, op: () => Promise<void>): Promise<void> => {
    try {
      await op();
    } catch (e) {
      // The transport redelivers an unacked message; nothing else to do here.
      log.warn(`could not ${what} the delivery`, { requestId, error: errorMessage(e) });
    }
  };
  const ack = (d: Delivery, id: string | null) => settle('ack', id, () => d.ack());
  const nack = (d: Delivery, id: string | null, delayMs: number) => settle('nack', id, () => d.nack(Math.max(0, Math.round(delayMs))));
  // V8's error texts quote single UTF-16 units (`Unexpected token '\ud83d'`): a lone
  // surrogate that a UTF-8 store refuses, which would leave the message undead.
  const deadLetter = (d: Delivery, id: string | null, reason: string) =>
    settle('dead-letter', id, () => (d.deadLetter !== undefined ? d.deadLetter(wellFormed(reason)) : d.ack()));
  /**
   * The tracker refused this worker's `Complete`/`Fail` (fencing): another claim owns
   * the request, or the sweeper requeued it. The delivery is given back when the request
   * is still waiting for a claim — it may be the only message behind it (the sweeper's
   * republish can fail, and a queue may keep one message per request) — and acked otherwise.
   */
  const stale = async (d: Delivery, id: string, attempt: number, what: 'result' | 'failure', reason: string): Promise<DeliveryOutcome> => {
    log.warn(`${what} refused: this worker lost the request`, { requestId: id, attempt, reason });
    let latest: BackfillRequest | undefined;
    try {
      latest = await tracker.get(id);
    } catch (e) {
      log.warn('could not read the request after a refused result', { requestId: id, error: errorMessage(e) });
      await nack(d, id, 0);
      return { _tag: 'Stale', requestId: id, attempt, reason };
    }
    if (latest?.status === 'queued') await nack(d, id, Math.max(0, (latest.notBefore ?? 0) - clock.now()));
    else await ack(d, id);
    return { _tag: 'Stale', requestId: id, attempt, reason };
  };

  /**
   * Keep a received delivery's lease while it waits its turn inside this worker (for
   * a slot under `concurrency`, to run alone, or behind a copy of its request), so
   * waiting here never lets it lapse and reach another worker.
   */
  const keepLeaseWhile = async <A>(d: Delivery, id: string | null, wait: () => Promise<A>): Promise<A> => {
    const done = new AbortController();
    const keeping = (async () => {
      for (;;) {
        try {
          await clock.sleep(heartbeatMs, done.signal);
        } catch {
          return;
        }
        if (done.signal.aborted) return;
        await settle('extend the lease of', id, () => d.extendLease(leaseMs));
      }
    })();
    try {
      return await wait();
    } finally {
      done.abort(DONE);
      await keeping;
    }
  };

  /** The tracked request for a message, created when missing (a hand-published or lost message). */
  const ensureRequest = async (
    m: BackfillMessage,
    d: Delivery,
  ): Promise<{ request: BackfillRequest } | { duplicateOf: BackfillRequest }> => {
    const found = await tracker.get(m.request_id);
    if (found !== undefined) return { request: found };
    const now = clock.now();
    const fresh: NewBackfillRequest = {
      requestId: m.request_id,
      processorName: m.processor_name,
      date: m.start_date,
      requestType: /auto/i.test(m.trigger_reason) ? 'auto' : 'manual',
      priority: 'normal',
      requestedAt: parseRequestedAt(m.requested_at) ?? now,
      requestedBy: 'backfill_worker',
      triggerReason: m.trigger_reason,
      metadata: { source: 'untracked_message', end_date: m.end_date, delivery_id: d.deliveryId },
    };
    const res = await tracker.create([fresh]);
    const created = res.created[0];
    if (created !== undefined) {
      log.info('tracking a message that had no request', { requestId: m.request_id, processor: m.processor_name, date: m.start_date });
      const marked = await tracker.apply(created.requestId, { _tag: 'MarkPublished', at: now });
      return { request: marked._tag === 'Ok' ? marked.value : created };
    }
    const existing = res.existing[0];
    if (existing === undefined) throw engineError('tracker_failed', `tracker.create returned nothing for request ${m.request_id}`);
    return existing.requestId === m.request_id ? { request: existing } : { duplicateOf: existing };
  };

  /** Claim, taking over a lapsed lease first. */
  const claim = async (r: BackfillRequest): Promise<Result<TrackerError, BackfillRequest>> => {
    const now = clock.now();
    if (r.status === 'processing') {
      const expired = await tracker.apply(r.requestId, { _tag: 'LeaseExpired', at: now });
      if (expired._tag === 'Err') return expired;
    }
    return tracker.apply(r.requestId, { _tag: 'Claim', at: now, owner: workerId, leaseMs });
  };

  const busyDelay = (r: BackfillRequest | undefined): number => {
    const now = clock.now();
    if (r?.leaseExpiresAt != null && r.leaseExpiresAt > now) return r.leaseExpiresAt - now;
    if (r?.notBefore != null && r.notBefore > now) return r.notBefore - now;
    return Math.min(leaseMs, 5_000);
  };

  /** Heartbeat until `stop` aborts; a refused heartbeat (lease lost) aborts the run. */
  const heartbeat = (d: Delivery, requestId: string, attempt: number, run: AbortController, stop: AbortSignal): Promise<void> =>
    (async () => {
      for (;;) {
        try {
          await clock.sleep(heartbeatMs, stop);
        } catch {
          return;
        }
        if (stop.aborted) return;
        let res: Result<TrackerError, BackfillRequest>;
        try {
          res = await tracker.apply(requestId, { _tag: 'Heartbeat', at: clock.now(), attempt, leaseMs });
        } catch (e) {
          log.warn('heartbeat failed; will try again', { requestId, attempt, error: errorMessage(e) });
          continue;
        }
        if (res._tag === 'Err') {
          log.warn('lease lost; aborting the backfill', { requestId, attempt, reason: res.error.message });
          run.abort(engineError('stale_attempt', res.error.message));
          return;
        }
        await settle('extend the lease of', requestId, () => d.extendLease(leaseMs));
      }
    })();

  const appendRun = async (
    m: BackfillMessage,
    date: IsoDate,
    requestId: string,
    attempt: number,
    startedAt: number,
    error: string | null,
  ): Promise<void> => {
    const finishedAt = clock.now();
    try {
      await deps.runLog.append({
        runId: randomUUID(),
        processorName: m.processor_name,
        runDate: date,
        trigger: triggerOf(m),
        isBackfill: true,
        outcome: error === null ? 'succeeded' : 'failed',
        skipReason: null,
        errorMessage: error,
        startedAt,
        finishedAt,
        durationMs: finishedAt - startedAt,
        metadata: { decision: 'Proceed:is_backfill', request_id: requestId, attempt },
      });
    } catch (e) {
      log.warn('could not append run record', { requestId, error: errorMessage(e) });
    }
  };

  const execute = async (
    d: Delivery,
    m: BackfillMessage,
    processor: Processor,
    policy: WorkerPolicy,
    claimed: BackfillRequest,
  ): Promise<DeliveryOutcome> => {
    const { maxAttempts, lookbackDays } = policy;
    const id = claimed.requestId;
    const attempt = claimed.attempt;
    const dates = dateRange(m.start_date, m.end_date);
    const run = new AbortController();
    const stopBeat = new AbortController();
    running.add(run);
    await settle('extend the lease of', id, () => d.extendLease(leaseMs));
    const beating = heartbeat(d, id, attempt, run, stopBeat.signal);
    // A guarded processor writes its own run record; a plain one gets one from here.
    const recordRuns = !isGuardedProcessor(processor);
    const trigger = triggerOf(m);
    let failure: unknown;
    let failed = false;
    try {
      for (const date of dates) {
        const startedAt = clock.now();
        try {
          const out = await processor.run({ date, isBackfill: true, trigger, requestId: id, attempt, signal: run.signal });
          // A guarded processor reports a failure as a value, not a throw.
          if (isGuardOutcome(out) && out._tag === 'Failed') throw out.error;
          // "Succeeded" is not "filled": a plain processor's date is re-counted by its guard (a guarded one re-counts itself).
          const unfilled = recordRuns ? await guardFor(m.processor_name)?.verifyFilled(date) : undefined;
          if (unfilled instanceof Error) throw unfilled;
          if (recordRuns) await appendRun(m, date, id, attempt, startedAt, null);
        } catch (e) {
          if (recordRuns) await appendRun(m, date, id, attempt, startedAt, toError(e).message);
          throw e;
        }
      }
    } catch (e) {
      failed = true;
      failure = e;
    } finally {
      stopBeat.abort(DONE);
      await beating;
      running.delete(run);
    }

    if (releasing && run.signal.aborted) {
      await nack(d, id, 0);
      return { _tag: 'Released', requestId: id };
    }

    const now = clock.now();
    if (!failed) {
      const done = await tracker.apply(id, { _tag: 'Complete', at: now, attempt });
      if (done._tag === 'Err') return stale(d, id, attempt, 'result', done.error.message);
      await ack(d, id);
      log.info('backfill completed', { requestId: id, processor: m.processor_name, date: m.start_date, attempt });
      let resumed: readonly string[] = [];
      if (resumeEnabled) {
        try {
          const r = await resumeHeldRuns({ tracker, runLog: deps.runLog, clock, guardFor, logger: log }, m.processor_name, {
            producedDates: dates,
            cascade: resume.cascade === true ? { healedDates: dates, lookbackDays, healedAt: now } : undefined,
          });
          resumed = r.resumed;
        } catch (e) {
          log.warn('could not resume held runs', { processor: m.processor_name, error: errorMessage(e) });
        }
        if (deps.pipeline !== undefined) {
          await healDownstream(
            { tracker, queue: deps.queue, runLog: deps.runLog, clock, graph: deps.pipeline, guardFor, logger: log },
            m.processor_name,
            dates,
            now,
            // A person's backfill rebuilds what reads it only when asked (--with-downstream); a gap's always does.
            { rebuild: claimed.requestType === 'auto' || claimed.metadata['with_downstream'] === true },
          ).catch((e: unknown) => log.warn('could not heal downstream', { processor: m.processor_name, error: errorMessage(e) }));
        }
      }
      await healAlertsOf(m.processor_name);
      return { _tag: 'Completed', requestId: id, attempt, resumed };
    }

    const error = toError(failure).message;
    // Claims that lapsed are not failures: the request counts only the times the processor threw.
    const fail = await tracker.apply(id, { _tag: 'Fail', at: now, attempt, error });
    if (fail._tag === 'Err') return stale(d, id, attempt, 'failure', fail.error.message);
    const failures = fail.value.failures;
    if (isRetryable(failure) && failures < maxAttempts) {
      const delayMs = backoffDelay(failures, backoff);
      const retry = await tracker.apply(id, { _tag: 'Retry', at: now, notBefore: now + delayMs });
      if (retry._tag === 'Ok') {
        log.warn('backfill failed; retrying', { requestId: id, attempt, failures, maxAttempts, delayMs, error });
        await nack(d, id, delayMs);
        return { _tag: 'Retrying', requestId: id, attempt, failures, error, delayMs };
      }
      log.warn('could not schedule the retry', { requestId: id, reason: retry.error.message });
    }
    log.error('backfill failed for good', {
      requestId: id,
      processor: m.processor_name,
      date: m.start_date,
      attempt,
      failures,
      maxAttempts,
      error,
    });
    await ack(d, id);
    return { _tag: 'FailedPermanently', requestId: id, attempt, failures, error };
  };

  /**
   * A request whose claims keep ending without a result (it crashes or hangs its
   * worker) is failed for good instead of being run again: a poison job must
   * end, and its date must reach a person. The `Fail` is `final` (the request
   * records `gaveUp`), so the guard counts its date's retry budget as spent
   * whatever its real failures so far.
   */
  const failPoison = async (d: Delivery, claimed: BackfillRequest, lapses: number): Promise<DeliveryOutcome> => {
    const id = claimed.requestId;
    const error = poisonMessage(claimed.attempt - 1, lapses, claimed.errorMessage);
    const fail = await tracker.apply(id, { _tag: 'Fail', at: clock.now(), attempt: claimed.attempt, error, final: true });
    if (fail._tag === 'Err') return stale(d, id, claimed.attempt, 'failure', fail.error.message);
    log.error('backfill failed for good: poison job', {
      requestId: id,
      processor: claimed.processorName,
      date: claimed.date,
      attempt: claimed.attempt,
      lapses,
      error,
    });
    await deadLetter(d, id, error);
    return { _tag: 'FailedPermanently', requestId: id, attempt: claimed.attempt, failures: fail.value.failures, error, poison: true };
  };

  const handle = async (d: Delivery): Promise<DeliveryOutcome> => {
    const decoded = decodeBackfillMessage(d.message.data);
    if (decoded._tag === 'Err') {
      const reason = `undecodable backfill message ${JSON.stringify(d.message.id)}: ${formatProblems(decoded.error)}`;
      log.error(reason, { deliveryId: d.deliveryId });
      await deadLetter(d, null, reason);
      return { _tag: 'DeadLettered', reason };
    }
    const m = decoded.value;
    const ensured = await ensureRequest(m, d);
    if ('duplicateOf' in ensured) {
      log.info('another request is already active for that date', {
        requestId: m.request_id,
        activeRequestId: ensured.duplicateOf.requestId,
      });
      await ack(d, m.request_id);
      return { _tag: 'Duplicate', requestId: m.request_id, activeRequestId: ensured.duplicateOf.requestId };
    }
    let r = ensured.request;
    const processor = deps.registry.get(m.processor_name);
    if (processor === undefined) {
      const known = registryNames(deps.registry);
      const reason = `unknown processor "${m.processor_name}": it is not in this worker's registry${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}; not retried`;
      log.error(reason, { requestId: r.requestId });
      if (r.status === 'queued' || r.status === 'processing') {
        const c = await claim(r);
        if (c._tag === 'Ok') await tracker.apply(r.requestId, { _tag: 'Fail', at: clock.now(), attempt: c.value.attempt, error: reason });
      }
      await deadLetter(d, r.requestId, reason);
      return { _tag: 'Rejected', requestId: r.requestId, reason };
    }

    if (r.publishedAt === null) {
      // It arrived, so it was published (an ambiguous publish): spare the relay a duplicate.
      const marked = await tracker.apply(r.requestId, { _tag: 'MarkPublished', at: clock.now() });
      if (marked._tag === 'Ok') r = marked.value;
    }
    const now = clock.now();
    if (r.status === 'completed' || r.status === 'failed') {
      // Redelivery is normal; the work is done (or failed for good and left to the guard to escalate).
      await ack(d, r.requestId);
      return { _tag: 'AlreadyDone', requestId: r.requestId, status: r.status };
    }
    if (r.status === 'processing' && r.leaseExpiresAt !== null && r.leaseExpiresAt > now) {
      const delayMs = busyDelay(r);
      await nack(d, r.requestId, delayMs);
      return { _tag: 'Busy', requestId: r.requestId, delayMs };
    }
    if (r.status === 'queued' && r.notBefore !== null && r.notBefore > now) {
      const delayMs = r.notBefore - now;
      await nack(d, r.requestId, delayMs);
      return { _tag: 'NotYetDue', requestId: r.requestId, delayMs };
    }
    // Before the claim: a processor whose policy cannot be had must not use one up.
    const policy = policyOf(m.processor_name);
    // A request whose earlier claim lapsed may be the one that kills its process:
    // run it with nothing else in flight, so a crash lapses its own claim only and
    // never charges a healthy batch-mate a lapse it did not cause.
    const suspect = lapsesBefore({ attempt: r.attempt + 1, failures: r.failures }) > 0;
    const seen = r;
    // The lease is kept until the gate lets this in; from the claim on, the heartbeat keeps it.
    let entered: () => void = () => undefined;
    const admitted = new Promise<void>((resolve) => (entered = resolve));
    const go = (): Promise<DeliveryOutcome> => {
      entered();
      return claimAndRun(d, m, processor, policy, seen);
    };
    const result = suspect ? gate.solo(go) : gate.shared(go);
    await keepLeaseWhile(d, r.requestId, () => Promise.race([admitted, result.then(() => undefined)]));
    return result;
  };

  /** Claim (the request may have moved while this waited at the gate), then run or fail it as poison. */
  const claimAndRun = async (
    d: Delivery,
    m: BackfillMessage,
    processor: Processor,
    policy: WorkerPolicy,
    seen: BackfillRequest,
  ): Promise<DeliveryOutcome> => {
    let r = seen;
    if (releasing) {
      // Stopped without draining while this waited: nothing was claimed, the message comes back.
      await nack(d, r.requestId, 0);
      return { _tag: 'Released', requestId: r.requestId };
    }
    const c = await claim(r);
    if (c._tag === 'Err') {
      const latest = await tracker.get(r.requestId);
      if (latest !== undefined && (latest.status === 'completed' || latest.status === 'failed')) {
        await ack(d, r.requestId);
        return { _tag: 'AlreadyDone', requestId: r.requestId, status: latest.status };
      }
      const delayMs = busyDelay(latest);
      await nack(d, r.requestId, delayMs);
      return c.error._tag === 'NotYetDue'
        ? { _tag: 'NotYetDue', requestId: r.requestId, delayMs }
        : { _tag: 'Busy', requestId: r.requestId, delayMs };
    }
    r = c.value;
    const lapses = lapsesBefore(r);
    if (lapses >= maxLeaseLapses) return failPoison(d, r, lapses);
    log.info('backfill claimed', { requestId: r.requestId, processor: m.processor_name, date: m.start_date, attempt: r.attempt, workerId });
    return execute(d, m, processor, policy, r);
  };

  // Copies of one request inside this worker (a republished message, a redelivery
  // arriving beside the original) wait for the one in flight, then find it done and
  // are acked — instead of finding it leased and lingering unacked for a lease.
  const inFlightByRequest = new Map<string, Promise<unknown>>();
  const handleDelivery = (d: Delivery): Promise<DeliveryOutcome> => {
    const key = d.message.id;
    const before = key === '' ? undefined : inFlightByRequest.get(key);
    const started = before === undefined ? handle(d) : keepLeaseWhile(d, key, () => before).then(() => handle(d));
    const p = started.catch(async (e: unknown): Promise<DeliveryOutcome> => {
      const error = errorMessage(e);
      const delayMs = Math.min(leaseMs, backoff.baseMs);
      log.error('could not handle delivery; it will come back', { deliveryId: d.deliveryId, error });
      await nack(d, d.message.id, delayMs);
      return { _tag: 'Error', requestId: d.message.id === '' ? null : d.message.id, error, delayMs };
    });
    handling.add(p);
    if (key !== '') inFlightByRequest.set(key, p);
    void p.finally(() => {
      handling.delete(p);
      if (inFlightByRequest.get(key) === p) inFlightByRequest.delete(key);
    });
    return p;
  };

  /** A filled date may close an open alert now (a manual heal), not at the next scheduled run. */
  const healAlertsOf = async (processorName: string): Promise<void> => {
    try {
      const healed = (await guardFor(processorName)?.alerts?.healOpen()) ?? [];
      if (healed.length > 0) log.info('alerts healed', { processor: processorName, alertKeys: healed });
    } catch (e) {
      log.warn('could not check open alerts', { processor: processorName, error: errorMessage(e) });
    }
  };
  const alertRetryMs = deps.alertRetrySweepMs ?? 60_000;
  let lastAlertSweep = -Infinity;
  /** Notices that reached nobody are sent again (each alert backs off on its own); failures are logged. */
  const sweepAlerts = async (): Promise<void> => {
    if (alertRetryMs <= 0 || stopping) return;
    const now = clock.now();
    if (now - lastAlertSweep < alertRetryMs) return;
    lastAlertSweep = now;
    for (const name of registryNames(deps.registry)) {
      try {
        const r = await guardFor(name)?.alerts?.retryDeliveries();
        if (r !== undefined && r.delivered.length + r.failed.length > 0)
          log.info('alert delivery retried', { processor: name, delivered: r.delivered, failed: r.failed });
      } catch (e) {
        log.warn('alert delivery retry failed', { processor: name, error: errorMessage(e) });
      }
    }
  };

  const resumer = createResumer({ tracker, runLog: deps.runLog, clock, guardFor, logger: log });
  let lastResumeSweep = -Infinity;
  /** The periodic resume pass (see `resumeSweepMs`); its failures are logged, never thrown. */
  const sweepResumes = async (): Promise<void> => {
    if (!resumeEnabled || resumeSweepMs <= 0 || stopping) return;
    const now = clock.now();
    if (now - lastResumeSweep < resumeSweepMs) return;
    lastResumeSweep = now;
    try {
      const r = await resumer.runOnce();
      if (r.resumed.length + r.cancelled.length > 0) log.info('resume pass', { resumed: r.resumed.length, cancelled: r.cancelled.length });
      if (deps.pipeline !== undefined)
        await resumeHeldForInputs({ tracker, queue: deps.queue, runLog: deps.runLog, clock, graph: deps.pipeline, guardFor, logger: log });
    } catch (e) {
      log.warn('resume pass failed', { error: errorMessage(e) });
    }
  };

  const runOnce = async (opts?: { readonly max?: number | undefined }): Promise<WorkerTick> => {
    // By default no more than can start at once: a message received early would only wait
    // here. A caller that asks for more (a remote queue, where each receive is a round
    // trip) gets them; they wait at the gate with their leases kept.
    const max = Math.max(1, opts?.max ?? Math.min(batchSize, concurrency));
    const deliveries = await deps.queue.receive({ max, leaseMs, waitMs: 0 });
    const outcomes = await Promise.all(deliveries.map(handleDelivery));
    await sweepResumes();
    await sweepAlerts();
    return { received: deliveries.length, outcomes };
  };

  return {
    workerId,
    runOnce,
    handleDelivery,
    start() {
      if (loop !== undefined) return;
      stopping = false;
      releasing = false;
      loopAbort = new AbortController();
      loop = (async () => {
        while (!stopping) {
          let received = 0;
          try {
            received = (await runOnce()).received;
          } catch (e) {
            log.warn('receive failed', { error: errorMessage(e) });
          }
          if (received === 0 && !stopping) await clock.sleep(idleMs, loopAbort.signal).catch(() => undefined);
        }
      })();
    },
    async stop(opts) {
      stopping = true;
      if (opts?.drain === false) {
        releasing = true;
        for (const r of running) r.abort(engineError('processor_failed', 'the worker is stopping'));
      }
      loopAbort.abort();
      await loop;
      await Promise.allSettled([...handling]);
      loop = undefined;
    },
  };
};
