import { summarizeRequests, type BackfillRequest, type IsoDate } from '@smart-backfill/core';

/**
 * Real failures and claims are counted apart, in the request itself:
 * `attempt` counts claims (it is the fencing token, so a worker that dies or
 * loses its lease uses one up without anything having failed), `failures`
 * counts `Fail`s (core's `transition` bumps it, atomically with the fencing
 * check), and `gaveUp` marks a request failed for good with a `final` `Fail`
 * — a poison job whose claims kept lapsing. `errorMessage` is only the error.
 */

/** The error text of a request failed for good because its claims kept lapsing. */
export const poisonMessage = (claims: number, lapses: number, lastError: string | null): string =>
  `gave up after ${claims} claims: ${lapses} ended without a result (the worker died, was stopped or lost its lease each time)` +
  (lastError === null ? '' : `; last failure: ${lastError}`);

/** Whether the request was failed for good as a poison job (a `final` `Fail`). */
export const isPoison = (r: Pick<BackfillRequest, 'gaveUp'>): boolean => r.gaveUp;

/** Claims that ended with neither a result nor a recorded failure, before the current one. */
export const lapsesBefore = (claimed: Pick<BackfillRequest, 'failures' | 'attempt'>): number =>
  Math.max(0, claimed.attempt - 1 - claimed.failures);

/**
 * Core's `summarizeRequests` (which counts each failed request's `failures`),
 * with a request given up on (`gaveUp`, a poison job) counted as `maxAttempts`
 * failures at least: its budget is spent, so its date must escalate rather
 * than be queued again. Failures healed by a later completion do not count.
 */
export const summarizeFailures = (requests: readonly BackfillRequest[], maxAttempts: number): ReturnType<typeof summarizeRequests> => {
  const base = summarizeRequests(requests);
  const completedAt = new Map<IsoDate, number>();
  for (const r of requests) {
    if (r.status === 'completed') completedAt.set(r.date, Math.max(completedAt.get(r.date) ?? 0, r.completedAt ?? r.updatedAt));
  }
  let failedAttempts: Map<IsoDate, number> | undefined;
  for (const r of requests) {
    if (r.status !== 'failed' || !isPoison(r) || r.failures >= maxAttempts) continue;
    if ((completedAt.get(r.date) ?? -Infinity) >= (r.completedAt ?? r.updatedAt)) continue;
    failedAttempts ??= new Map(base.failedAttempts);
    failedAttempts.set(r.date, (failedAttempts.get(r.date) ?? 0) + maxAttempts - r.failures);
  }
  return failedAttempts === undefined ? base : { active: base.active, failedAttempts, lastError: base.lastError };
};
