import type { BackfillRequest, Delivery, IsoDate } from '@smart-backfill/core';
import type { BackfillMessage } from './codec.js';
import { errorMessage, isRetryable, toError } from './errors.js';
import { poisonMessage } from './failures.js';
import { resumeHeldRuns } from './resume.js';
import { healDownstream } from './downstream.js';
import { ack, deadLetter, nack, stale } from './delivery-replies.js';
import type { WorkerContext } from './worker-context.js';
import type { WorkerPolicy } from './worker-policy.js';
import type { DeliveryOutcome } from './worker-types.js';

/** `min(maxMs, baseMs · 2^(attempt−1))`: 30 s, 1 min, 2 min, … with the defaults. */
export const backoffDelay = (attempt: number, backoff: { readonly baseMs: number; readonly maxMs: number }): number =>
  Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));

/**
 * `Complete` (fenced: refused if this worker lost the request), ack, then what a filled
 * date unblocks: held runs of this processor, what reads it (with a pipeline), and
 * its open alerts. Those follow-ups are best effort: the backfill is done whatever they do.
 */
export const completeBackfill = async (
  ctx: WorkerContext,
  d: Delivery,
  m: BackfillMessage,
  policy: WorkerPolicy,
  claimed: BackfillRequest,
  dates: readonly IsoDate[],
): Promise<DeliveryOutcome> => {
  const { log, clock, tracker, guardFor } = ctx;
  const id = claimed.requestId;
  const attempt = claimed.attempt;
  const now = clock.now();
  const done = await tracker.apply(id, { _tag: 'Complete', at: now, attempt });
  if (done._tag === 'Err') return stale(ctx, d, id, attempt, 'result', done.error.message);
  await ack(ctx, d, id);
  log.info('backfill completed', { requestId: id, processor: m.processor_name, date: m.start_date, attempt });
  let resumed: readonly string[] = [];
  if (ctx.resumeEnabled) {
    try {
      const r = await resumeHeldRuns({ tracker, runLog: ctx.runLog, clock, guardFor, logger: log }, m.processor_name, {
        producedDates: dates,
        cascade: ctx.resume.cascade === true ? { healedDates: dates, lookbackDays: policy.lookbackDays, healedAt: now } : undefined,
      });
      resumed = r.resumed;
    } catch (e) {
      log.warn('could not resume held runs', { processor: m.processor_name, error: errorMessage(e) });
    }
    if (ctx.pipeline !== undefined) {
      await healDownstream(
        { tracker, queue: ctx.queue, runLog: ctx.runLog, clock, graph: ctx.pipeline, guardFor, logger: log },
        m.processor_name,
        dates,
        now,
        // A person's backfill rebuilds what reads it only when asked (--with-downstream); a gap's always does.
        { rebuild: claimed.requestType === 'auto' || claimed.metadata['with_downstream'] === true },
      ).catch((e: unknown) => log.warn('could not heal downstream', { processor: m.processor_name, error: errorMessage(e) }));
    }
  }
  await healAlertsOf(ctx, m.processor_name);
  return { _tag: 'Completed', requestId: id, attempt, resumed };
};

/** A filled date may close an open alert now (a manual heal), not at the next scheduled run. */
const healAlertsOf = async (ctx: WorkerContext, processorName: string): Promise<void> => {
  try {
    const healed = (await ctx.guardFor(processorName)?.alerts?.healOpen()) ?? [];
    if (healed.length > 0) ctx.log.info('alerts healed', { processor: processorName, alertKeys: healed });
  } catch (e) {
    ctx.log.warn('could not check open alerts', { processor: processorName, error: errorMessage(e) });
  }
};

/**
 * `Fail` (fenced), then a retry after a backoff while the processor's `maxAttempts`
 * allows and the error is retryable; otherwise failed for good and acked, left to the
 * guard to escalate its date.
 */
export const failBackfill = async (
  ctx: WorkerContext,
  d: Delivery,
  m: BackfillMessage,
  policy: WorkerPolicy,
  claimed: BackfillRequest,
  failure: unknown,
): Promise<DeliveryOutcome> => {
  const { log, tracker } = ctx;
  const { maxAttempts } = policy;
  const id = claimed.requestId;
  const attempt = claimed.attempt;
  const now = ctx.clock.now();
  const error = toError(failure).message;
  // Claims that lapsed are not failures: the request counts only the times the processor threw.
  const fail = await tracker.apply(id, { _tag: 'Fail', at: now, attempt, error });
  if (fail._tag === 'Err') return stale(ctx, d, id, attempt, 'failure', fail.error.message);
  const failures = fail.value.failures;
  if (isRetryable(failure) && failures < maxAttempts) {
    const delayMs = backoffDelay(failures, ctx.backoff);
    const retry = await tracker.apply(id, { _tag: 'Retry', at: now, notBefore: now + delayMs });
    if (retry._tag === 'Ok') {
      log.warn('backfill failed; retrying', { requestId: id, attempt, failures, maxAttempts, delayMs, error });
      await nack(ctx, d, id, delayMs);
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
  await ack(ctx, d, id);
  return { _tag: 'FailedPermanently', requestId: id, attempt, failures, error };
};

/**
 * A request whose claims keep ending without a result (it crashes or hangs its
 * worker) is failed for good instead of being run again: a poison job must
 * end, and its date must reach a person. The `Fail` is `final` (the request
 * records `gaveUp`), so the guard counts its date's retry budget as spent
 * whatever its real failures so far.
 */
export const failPoison = async (ctx: WorkerContext, d: Delivery, claimed: BackfillRequest, lapses: number): Promise<DeliveryOutcome> => {
  const id = claimed.requestId;
  const error = poisonMessage(claimed.attempt - 1, lapses, claimed.errorMessage);
  const fail = await ctx.tracker.apply(id, { _tag: 'Fail', at: ctx.clock.now(), attempt: claimed.attempt, error, final: true });
  if (fail._tag === 'Err') return stale(ctx, d, id, claimed.attempt, 'failure', fail.error.message);
  ctx.log.error('backfill failed for good: poison job', {
    requestId: id,
    processor: claimed.processorName,
    date: claimed.date,
    attempt: claimed.attempt,
    lapses,
    error,
  });
  await deadLetter(ctx, d, id, error);
  return { _tag: 'FailedPermanently', requestId: id, attempt: claimed.attempt, failures: fail.value.failures, error, poison: true };
};
