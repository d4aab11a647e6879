import { summarizeRequests, type BackfillRequest, type IsoDate } from '@smart-backfill/core';

/**
 * How many times a request's processor really failed, kept apart from how many
 * times it was claimed.
 *
 * `BackfillRequest.attempt` counts claims (it is the fencing token), so a worker
 * that dies or loses its lease uses one up without anything having failed. The
 * request has no column for real failures, and core's `transition` never
 * changes `metadata` after `create`, so the one durable field a `Fail` writes —
 * atomically, under the same fencing check — is `errorMessage`, which survives
 * `Retry`, `LeaseExpired` and `Claim` until `Complete` clears it. The worker
 * therefore writes every failure as `failure <n> of <max>: <error>`, and a
 * request it gives up on because its claims keep lapsing (a poison job that
 * kills its worker) as `gave up after <k> claims: …`. Both read well to a person
 * and parse back here. (A `failures` field bumped by core's `Fail` transition
 * would be the cleaner home; that is a change to core's types.)
 */

const FAILURE = /^failure (\d+) of \d+: /;
const POISON = /^gave up after \d+ claims/;

/** The error message a worker writes for its `n`-th real failure of a request. */
export const failureMessage = (n: number, maxAttempts: number, error: string): string => `failure ${n} of ${maxAttempts}: ${error.replace(FAILURE, '')}`;

/** The error message for a request failed for good because its claims kept lapsing. */
export const poisonMessage = (claims: number, lapses: number, lastError: string | null): string =>
  `gave up after ${claims} claims: ${lapses} ended without a result (the worker died, was stopped or lost its lease each time)` +
  (lastError === null ? '' : `; last failure: ${lastError.replace(FAILURE, '')}`);

/** Whether the request was failed for good as a poison job (its claims kept lapsing). */
export const isPoison = (r: Pick<BackfillRequest, 'errorMessage'>): boolean => r.errorMessage !== null && POISON.test(r.errorMessage);

/**
 * Real failures so far: the count the worker wrote. For an error written by
 * something else (another tool, an unknown-processor rejection) every claim
 * counts, as core's `summarizeRequests` counts. Never more than `attempt`.
 */
export const failuresOf = (r: Pick<BackfillRequest, 'errorMessage' | 'attempt'>): number => {
  if (r.errorMessage === null) return 0;
  const m = FAILURE.exec(r.errorMessage);
  return m === null ? r.attempt : Math.min(r.attempt, Number(m[1]));
};

/** Claims that ended with neither a result nor a recorded failure, before the current one. */
export const lapsesBefore = (claimed: Pick<BackfillRequest, 'errorMessage' | 'attempt'>): number => Math.max(0, claimed.attempt - 1 - failuresOf(claimed));

/**
 * Core's `summarizeRequests`, with failed attempts counted as real failures
 * rather than claims: per date, over the failed requests not healed by a later
 * completion, the failures each recorded — and `maxAttempts` for a poisoned
 * one (its budget is spent: the date must escalate, not be queued again).
 */
export const summarizeFailures = (
  requests: readonly BackfillRequest[],
  maxAttempts: number,
): ReturnType<typeof summarizeRequests> => {
  const base = summarizeRequests(requests);
  const completedAt = new Map<IsoDate, number>();
  for (const r of requests) {
    if (r.status === 'completed') completedAt.set(r.gameDate, Math.max(completedAt.get(r.gameDate) ?? 0, r.completedAt ?? r.updatedAt));
  }
  const failedAttempts = new Map<IsoDate, number>();
  for (const r of requests) {
    if (r.status !== 'failed') continue;
    if ((completedAt.get(r.gameDate) ?? -Infinity) >= (r.completedAt ?? r.updatedAt)) continue;
    const n = isPoison(r) ? Math.max(maxAttempts, failuresOf(r)) : failuresOf(r);
    failedAttempts.set(r.gameDate, (failedAttempts.get(r.gameDate) ?? 0) + n);
  }
  return { active: base.active, failedAttempts, lastError: base.lastError };
};
