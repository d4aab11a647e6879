import {
  countProblem,
  dateProblem,
  durationProblem,
  instantProblem,
  lastBuildsOf,
  nonEmptyProblem,
  releaseStatusProblem,
  type Clock,
  type HeldRun,
  type RunLog,
  type RunRecord,
} from '@smart-backfill/core';
import { check } from './check.js';

export interface MemoryRunLog extends RunLog {
  /** Every run, in append order. */
  all(): readonly RunRecord[];
  allHeld(): readonly HeldRun[];
}

/**
 * Runs and held runs in memory. `release`, `claimResume` and `finishResume` are each one
 * synchronous step, so each has one winner.
 */
export const memoryRunLog = (_opts: { readonly clock?: Clock } = {}): MemoryRunLog => {
  const runs = new Map<string, RunRecord>();
  const held = new Map<string, HeldRun>();
  const key = (p: string, d: string): string => `${p}\u0000${d}`;
  return {
    async append(run) {
      check(nonEmptyProblem, run.runId, 'run.runId');
      check(nonEmptyProblem, run.processorName, 'run.processorName');
      check(dateProblem, run.runDate, 'run.runDate');
      check(instantProblem, run.startedAt, 'run.startedAt');
      if (!runs.has(run.runId)) runs.set(run.runId, run);
    },
    async runs(q) {
      if (q.limit !== undefined) check(countProblem, q.limit, 'limit');
      if (q.runDateFrom !== undefined) check(dateProblem, q.runDateFrom, 'runDateFrom');
      if (q.runDateTo !== undefined) check(dateProblem, q.runDateTo, 'runDateTo');
      const rows = [...runs.values()]
        .filter(
          (r) =>
            (q.processorName === undefined || r.processorName === q.processorName) &&
            (q.since === undefined || r.startedAt >= q.since) &&
            (q.until === undefined || r.startedAt <= q.until) &&
            (q.runDateFrom === undefined || r.runDate >= q.runDateFrom) &&
            (q.runDateTo === undefined || r.runDate <= q.runDateTo),
        )
        .sort((a, b) => a.startedAt - b.startedAt);
      return q.limit === undefined ? rows : rows.slice(0, Math.max(0, q.limit));
    },
    async lastBuilds(q) {
      check(instantProblem, q.since, 'since');
      const names = new Set(q.processorNames);
      return lastBuildsOf([...runs.values()].filter((r) => names.has(r.processorName) && r.startedAt >= q.since));
    },
    async hold(run) {
      check(nonEmptyProblem, run.processorName, 'processorName');
      check(dateProblem, run.runDate, 'runDate');
      check(instantProblem, run.heldAt, 'heldAt');
      run.waitingFor.forEach((d, i) => check(dateProblem, d, `waitingFor[${i}]`));
      const k = key(run.processorName, run.runDate);
      const cur = held.get(k);
      const next: HeldRun = {
        processorName: run.processorName,
        runDate: run.runDate,
        reason: run.reason,
        waitingFor: [...run.waitingFor],
        // Refreshing a run that is still held keeps when it was first held.
        heldAt: cur !== undefined && cur.status === 'held' ? cur.heldAt : run.heldAt,
        status: 'held',
        releasedAt: null,
        claimedBy: null,
        claimedAt: null,
        leaseUntil: null,
        // The fencing token survives a re-hold, so a claim from before it can never finish.
        claims: cur?.claims ?? 0,
        resumeRunId: null,
      };
      held.set(k, next);
      return next;
    },
    async heldRuns(q) {
      return [...held.values()]
        .filter(
          (h) =>
            (q.processorName === undefined || h.processorName === q.processorName) && (q.status === undefined || h.status === q.status),
        )
        .sort((a, b) => (a.runDate < b.runDate ? -1 : a.runDate > b.runDate ? 1 : a.processorName < b.processorName ? -1 : 1));
    },
    async release(p, d, status, at) {
      check(dateProblem, d, 'runDate');
      check(releaseStatusProblem, status, 'status');
      const k = key(p, d);
      const cur = held.get(k);
      if (cur === undefined || cur.status !== 'held') return false;
      held.set(k, { ...cur, status, releasedAt: at });
      return true;
    },
    async claimResume(p, d, { claimant, at, leaseMs }) {
      check(dateProblem, d, 'runDate');
      check(nonEmptyProblem, claimant, 'claim.claimant');
      check(instantProblem, at, 'claim.at');
      check(durationProblem, leaseMs, 'claim.leaseMs');
      const k = key(p, d);
      const cur = held.get(k);
      if (cur === undefined) return null;
      const lapsed = cur.status === 'resuming' && cur.leaseUntil !== null && cur.leaseUntil <= at;
      if (cur.status !== 'held' && !lapsed) return null;
      const claims = cur.claims + 1;
      held.set(k, { ...cur, status: 'resuming', claimedBy: claimant, claimedAt: at, leaseUntil: at + leaseMs, claims });
      return { processorName: p, runDate: d, claimant, attempt: claims, claimedAt: at, leaseUntil: at + leaseMs };
    },
    async finishResume(claim, { runId, at }) {
      const k = key(claim.processorName, claim.runDate);
      const cur = held.get(k);
      if (cur === undefined || cur.status !== 'resuming' || cur.claims !== claim.attempt) return false;
      held.set(k, { ...cur, status: 'resumed', releasedAt: at, resumeRunId: runId });
      return true;
    },
    all: () => [...runs.values()],
    allHeld: () => [...held.values()],
  };
};
