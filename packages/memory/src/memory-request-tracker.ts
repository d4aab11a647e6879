import {
  countProblem,
  dateProblem,
  instantProblem,
  nonEmptyProblem,
  isActive,
  newRequest,
  transition,
  err,
  type BackfillRequest,
  type Clock,
  type RequestTracker,
  type IsoDate,
} from '@smart-backfill/core';
import { check, checkWindow } from './check.js';

export interface MemoryRequestTracker extends RequestTracker {
  /** Every request, in creation order (the backdoor: no filtering, no copies hidden). */
  all(): readonly BackfillRequest[];
}

const keyOf = (processorName: string, date: IsoDate): string => `${processorName}\u0000${date}`;

/**
 * The tracker in memory. Every method runs to completion in one synchronous
 * step, so each `create` and `apply` is atomic even when many callers race:
 * the one-active-per-(processor, date) rule and compare-and-set hold trivially.
 * The clock is not needed for the state machine (events carry their time) but
 * is accepted for symmetry with durable adapters.
 */
export const memoryRequestTracker = (_opts: { readonly clock?: Clock } = {}): MemoryRequestTracker => {
  const byId = new Map<string, BackfillRequest>();
  const activeByKey = new Map<string, string>();
  const byProcessor = new Map<string, Set<string>>();

  const store = (r: BackfillRequest): void => {
    byId.set(r.requestId, r);
    const k = keyOf(r.processorName, r.date);
    if (isActive(r.status)) activeByKey.set(k, r.requestId);
    else if (activeByKey.get(k) === r.requestId) activeByKey.delete(k);
    let s = byProcessor.get(r.processorName);
    if (s === undefined) byProcessor.set(r.processorName, (s = new Set()));
    s.add(r.requestId);
  };

  const of = (processorName: string | undefined): Iterable<BackfillRequest> =>
    processorName === undefined ? byId.values() : [...(byProcessor.get(processorName) ?? [])].map((id) => byId.get(id) as BackfillRequest);

  return {
    async create(requests) {
      // Every input is checked before any is stored: a refused batch records nothing.
      requests.forEach((n, i) => {
        check(nonEmptyProblem, n.requestId, `requests[${i}].requestId`);
        check(nonEmptyProblem, n.processorName, `requests[${i}].processorName`);
        check(dateProblem, n.date, `requests[${i}].date`);
        check(instantProblem, n.requestedAt, `requests[${i}].requestedAt`);
      });
      const created: BackfillRequest[] = [];
      const existing: BackfillRequest[] = [];
      for (const n of requests) {
        const same = byId.get(n.requestId);
        if (same !== undefined) {
          existing.push(same);
          continue;
        }
        const activeId = activeByKey.get(keyOf(n.processorName, n.date));
        if (activeId !== undefined) {
          existing.push(byId.get(activeId) as BackfillRequest);
          continue;
        }
        const r = newRequest(n);
        store(r);
        created.push(r);
      }
      return { created, existing };
    },
    async get(id) {
      return byId.get(id);
    },
    async forWindow(q) {
      checkWindow(q);
      return [...of(q.processorName)].filter((r) => r.date >= q.start && r.date <= q.end);
    },
    async apply(id, event) {
      const cur = byId.get(id);
      if (cur === undefined) return err({ _tag: 'NotFound', requestId: id, message: `no backfill request with id ${JSON.stringify(id)}` });
      const next = transition(cur, event);
      if (next._tag === 'Ok') store(next.value);
      return next;
    },
    async unpublished({ olderThan, limit }) {
      check(instantProblem, olderThan, 'olderThan');
      check(countProblem, limit, 'limit');
      return [...byId.values()]
        .filter((r) => r.status === 'queued' && r.publishedAt === null && r.requestedAt <= olderThan)
        .sort((a, b) => a.requestedAt - b.requestedAt)
        .slice(0, Math.max(0, limit));
    },
    async expiredLeases({ now, limit }) {
      check(instantProblem, now, 'now');
      check(countProblem, limit, 'limit');
      return [...byId.values()]
        .filter((r) => r.status === 'processing' && r.leaseExpiresAt !== null && r.leaseExpiresAt <= now)
        .sort((a, b) => (a.leaseExpiresAt as number) - (b.leaseExpiresAt as number))
        .slice(0, Math.max(0, limit));
    },
    async list(q) {
      if (q.limit !== undefined) check(countProblem, q.limit, 'limit');
      const statuses = q.statuses === undefined ? undefined : new Set(q.statuses);
      const rows = [...of(q.processorName)]
        .map((r, i) => [r, i] as const)
        .filter(([r]) => (statuses === undefined || statuses.has(r.status)) && (q.since === undefined || r.requestedAt >= q.since))
        .sort(([a, ia], [b, ib]) => b.requestedAt - a.requestedAt || ib - ia)
        .map(([r]) => r);
      return q.limit === undefined ? rows : rows.slice(0, Math.max(0, q.limit));
    },
    all: () => [...byId.values()],
  };
};
