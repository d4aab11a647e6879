import { addDays, dateRange, isActive, type BackfillRequest, type Delivery, type Result, type TrackerError } from '@smart-backfill/core';
import { decodeBackfillMessage, formatProblems, type BackfillMessage } from './codec.js';
import { lapsesBefore } from './failures.js';
import { settle } from './errors.js';
import { registryNames, type Processor } from './processor.js';
import { completeBackfill, failBackfill, failPoison } from './backfill-result.js';
import { runBackfill } from './backfill-run.js';
import { keepLeaseWhile } from './delivery-lease.js';
import { ack, deadLetter, nack } from './delivery-replies.js';
import { ensureRequest } from './untracked-message.js';
import type { WorkerContext } from './worker-context.js';
import type { WorkerPolicy } from './worker-policy.js';
import type { DeliveryOutcome } from './worker-types.js';

/**
 * One delivery, start to end (the seed's Cloud Function, made safe): decode, allowlist,
 * wait for the gate with the lease kept, claim with a fenced lease, run with
 * `isBackfill: true`, then complete or fail with backoff. See {@link DeliveryOutcome}
 * for how each delivery is acked, nacked or dead-lettered.
 *
 * @throws when the tracker cannot be reached; the loop turns that into an `Error` outcome.
 */
export const handleOneDelivery = async (ctx: WorkerContext, d: Delivery): Promise<DeliveryOutcome> => {
  const { log, clock, tracker } = ctx;
  const decoded = decodeBackfillMessage(d.message.data);
  if (decoded._tag === 'Err') {
    const reason = `undecodable backfill message ${JSON.stringify(d.message.id)}: ${formatProblems(decoded.error)}`;
    log.error(reason, { deliveryId: d.deliveryId });
    await deadLetter(ctx, d, null, reason);
    return { _tag: 'DeadLettered', reason };
  }
  const m = decoded.value;
  const ensured = await ensureRequest(ctx, m, d);
  if ('duplicateOf' in ensured) {
    log.info('another request is already active for that date', {
      requestId: m.request_id,
      activeRequestId: ensured.duplicateOf.requestId,
    });
    await ack(ctx, d, m.request_id);
    return { _tag: 'Duplicate', requestId: m.request_id, activeRequestId: ensured.duplicateOf.requestId };
  }
  let r = ensured.request;
  const processor = ctx.registry.get(m.processor_name);
  if (processor === undefined) {
    const known = registryNames(ctx.registry);
    const reason = `unknown processor "${m.processor_name}": it is not in this worker's registry${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}; not retried`;
    log.error(reason, { requestId: r.requestId });
    if (r.status === 'queued' || r.status === 'processing') {
      const c = await claim(ctx, r);
      if (c._tag === 'Ok') await tracker.apply(r.requestId, { _tag: 'Fail', at: clock.now(), attempt: c.value.attempt, error: reason });
    }
    await deadLetter(ctx, d, r.requestId, reason);
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
    await ack(ctx, d, r.requestId);
    return { _tag: 'AlreadyDone', requestId: r.requestId, status: r.status };
  }
  if (r.status === 'processing' && r.leaseExpiresAt !== null && r.leaseExpiresAt > now) {
    const delayMs = busyDelay(ctx, r);
    await nack(ctx, d, r.requestId, delayMs);
    return { _tag: 'Busy', requestId: r.requestId, delayMs };
  }
  if (r.status === 'queued' && r.notBefore !== null && r.notBefore > now) {
    const delayMs = r.notBefore - now;
    await nack(ctx, d, r.requestId, delayMs);
    return { _tag: 'NotYetDue', requestId: r.requestId, delayMs };
  }
  const inputs = await inputsBeingBuilt(ctx, m);
  if (inputs.length > 0) {
    // 1 s, 2 s, 4 s … up to a lease: an input often takes a moment, and sometimes a long backfill.
    const delayMs = Math.min(ctx.leaseMs, 1_000 * 2 ** Math.min(16, Math.max(0, d.deliveryAttempt - 1)));
    log.info('backfill waits for its inputs being built', { requestId: r.requestId, processor: m.processor_name, inputs });
    await nack(ctx, d, r.requestId, delayMs);
    return { _tag: 'Busy', requestId: r.requestId, delayMs, waitingFor: inputs };
  }
  // Before the claim: a processor whose policy cannot be had must not use one up.
  const policy = ctx.policyOf(m.processor_name);
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
    return claimAndRun(ctx, d, m, processor, policy, seen);
  };
  const result = suspect ? ctx.gate.solo(go) : ctx.gate.shared(go);
  await keepLeaseWhile(ctx, d, r.requestId, () => Promise.race([admitted, result.then(() => undefined)]));
  return result;
};

/**
 * The input dates the message's dates read (the pipeline's `dependsOn`) that have an active
 * backfill. Built now, the message's dates would read an input about to change, and that
 * backfill's completion would rebuild them: a `--with-downstream` range handed out together
 * (several at once, or out of order) is built once, each date after what it reads.
 */
const inputsBeingBuilt = async (ctx: WorkerContext, m: BackfillMessage): Promise<string[]> => {
  // Every input's requests read at once (one round trip, not one per input), listed in declared order.
  const perInput = await Promise.all(
    (ctx.pipeline?.dependsOn.get(m.processor_name) ?? []).map(async (dep) => {
      const requests = await settle(() =>
        ctx.tracker.forWindow({ processorName: dep.processor, start: addDays(m.start_date, -dep.lookbackDays), end: m.end_date }),
      );
      return requests.filter((r) => isActive(r.status)).map((r) => `${dep.processor} ${r.date}`);
    }),
  );
  return perInput.flat();
};

/** Claim, taking over a lapsed lease first. */
const claim = async (ctx: WorkerContext, r: BackfillRequest): Promise<Result<TrackerError, BackfillRequest>> => {
  const now = ctx.clock.now();
  if (r.status === 'processing') {
    const expired = await ctx.tracker.apply(r.requestId, { _tag: 'LeaseExpired', at: now });
    if (expired._tag === 'Err') return expired;
  }
  return ctx.tracker.apply(r.requestId, { _tag: 'Claim', at: now, owner: ctx.workerId, leaseMs: ctx.leaseMs });
};

/** How long to give a delivery back for when its request cannot be claimed now. */
const busyDelay = (ctx: WorkerContext, r: BackfillRequest | undefined): number => {
  const now = ctx.clock.now();
  if (r?.leaseExpiresAt != null && r.leaseExpiresAt > now) return r.leaseExpiresAt - now;
  if (r?.notBefore != null && r.notBefore > now) return r.notBefore - now;
  return Math.min(ctx.leaseMs, 5_000);
};

/** Claim (the request may have moved while this waited at the gate), then run or fail it as poison. */
const claimAndRun = async (
  ctx: WorkerContext,
  d: Delivery,
  m: BackfillMessage,
  processor: Processor,
  policy: WorkerPolicy,
  seen: BackfillRequest,
): Promise<DeliveryOutcome> => {
  if (ctx.shutdown.releasing) {
    // Stopped without draining while this waited: nothing was claimed, the message comes back.
    await nack(ctx, d, seen.requestId, 0);
    return { _tag: 'Released', requestId: seen.requestId };
  }
  const c = await claim(ctx, seen);
  if (c._tag === 'Err') {
    const latest = await ctx.tracker.get(seen.requestId);
    if (latest !== undefined && (latest.status === 'completed' || latest.status === 'failed')) {
      await ack(ctx, d, seen.requestId);
      return { _tag: 'AlreadyDone', requestId: seen.requestId, status: latest.status };
    }
    const delayMs = busyDelay(ctx, latest);
    await nack(ctx, d, seen.requestId, delayMs);
    return c.error._tag === 'NotYetDue'
      ? { _tag: 'NotYetDue', requestId: seen.requestId, delayMs }
      : { _tag: 'Busy', requestId: seen.requestId, delayMs };
  }
  const r = c.value;
  const lapses = lapsesBefore(r);
  if (lapses >= ctx.maxLeaseLapses) return failPoison(ctx, d, r, lapses);
  ctx.log.info('backfill claimed', {
    requestId: r.requestId,
    processor: m.processor_name,
    date: m.start_date,
    attempt: r.attempt,
    workerId: ctx.workerId,
  });
  return execute(ctx, d, m, processor, policy, r);
};

/** Run the claimed backfill, then write its end back (or give the delivery back when the worker stopped under it). */
const execute = async (
  ctx: WorkerContext,
  d: Delivery,
  m: BackfillMessage,
  processor: Processor,
  policy: WorkerPolicy,
  claimed: BackfillRequest,
): Promise<DeliveryOutcome> => {
  const dates = dateRange(m.start_date, m.end_date);
  const end = await runBackfill(ctx, d, m, processor, claimed, dates);
  switch (end._tag) {
    case 'Released':
      await nack(ctx, d, claimed.requestId, 0);
      return { _tag: 'Released', requestId: claimed.requestId };
    case 'Succeeded':
      return completeBackfill(ctx, d, m, policy, claimed, dates);
    case 'Threw':
      return failBackfill(ctx, d, m, policy, claimed, end.failure);
  }
};
