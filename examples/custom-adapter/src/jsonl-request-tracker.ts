import { appendFile } from 'node:fs/promises';
import {
  countProblem,
  dateProblem,
  err,
  instantProblem,
  isActive,
  newRequest,
  nonEmptyProblem,
  SmartBackfillError,
  transition,
  type BackfillRequest,
  type Clock,
  type RequestTracker,
} from '@smart-backfill/core';
import { check, checkWindow } from './check-input.js';
import { createLock, ORIGIN, readLines } from './jsonl-file.js';

export interface JsonlRequestTrackerOptions {
  /** The file; created by the first write. One process per file: the lock that makes a change atomic lives in this process. */
  readonly path: string;
  /** Stamps each line's `writtenAt`. Passed in, never `Date.now()`, so the contract suite's manual clock drives it. */
  readonly clock: Clock;
  /** How often `apply` re-reads after losing its compare-and-set before it gives up as `contention` (default 20). */
  readonly maxRetries?: number | undefined;
}

/** One line of the file: a request's whole state after one change. The line with the highest `revision` is the current one. */
interface Line {
  readonly revision: number;
  readonly writtenAt: number;
  readonly request: BackfillRequest;
}

interface State {
  /** Current line per request id, in creation order (a Map keeps insertion order). */
  readonly latest: ReadonlyMap<string, Line>;
}

const keyOf = (r: Pick<BackfillRequest, 'processorName' | 'date'>): string => `${r.processorName}\u0000${r.date}`;

/**
 * A `RequestTracker` over an append-only JSON-lines file: every change appends the request's
 * new state with the next revision, and nothing is ever rewritten. `apply` is
 * compare-and-set on that revision: it reads, runs core's `transition`, and appends only if
 * the request is still at the revision it read; otherwise it reads again.
 */
export const jsonlRequestTracker = (opts: JsonlRequestTrackerOptions): RequestTracker => {
  const { path, clock } = opts;
  const maxRetries = opts.maxRetries ?? 20;
  const lock = createLock();

  const load = async (): Promise<State> => {
    const latest = new Map<string, Line>();
    for (const { line, value } of await readLines(path)) {
      const l = value as Partial<Line> | null;
      if (typeof l?.revision !== 'number' || typeof l.request?.requestId !== 'string')
        throw new SmartBackfillError('corrupt', `${path}:${line} is not a request line (revision, request); nothing was changed`, {
          origin: ORIGIN,
        });
      const before = latest.get(l.request.requestId);
      if (before === undefined || l.revision > before.revision) latest.set(l.request.requestId, l as Line);
    }
    return { latest };
  };

  const append = async (lines: readonly Line[]): Promise<void> => {
    if (lines.length === 0) return;
    try {
      // One write for the whole batch: a create records all its requests or (on a crash) a cut-short last line, which reads ignore.
      await appendFile(path, lines.map((l) => `${JSON.stringify(l)}\n`).join(''), 'utf8');
    } catch (e) {
      throw new SmartBackfillError('unavailable', `could not append to ${path}: ${(e as Error).message}`, { origin: ORIGIN, cause: e });
    }
  };

  const requests = async (): Promise<BackfillRequest[]> => [...(await load()).latest.values()].map((l) => l.request);

  return {
    async create(inputs) {
      // Every input is checked before any is written: a refused batch records nothing.
      inputs.forEach((n, i) => {
        check(nonEmptyProblem, n.requestId, `requests[${i}].requestId`);
        check(nonEmptyProblem, n.processorName, `requests[${i}].processorName`);
        check(dateProblem, n.date, `requests[${i}].date`);
        check(instantProblem, n.requestedAt, `requests[${i}].requestedAt`);
      });
      // Read and append under the lock: two racing creates cannot both see a date free.
      return lock(async () => {
        const byId = new Map([...(await load()).latest].map(([id, l]) => [id, l.request]));
        const active = new Map([...byId.values()].filter((r) => isActive(r.status)).map((r) => [keyOf(r), r]));
        const created: BackfillRequest[] = [];
        const existing: BackfillRequest[] = [];
        for (const n of inputs) {
          const same = byId.get(n.requestId) ?? active.get(keyOf(n));
          if (same !== undefined) {
            existing.push(same);
            continue;
          }
          const r = newRequest(n);
          byId.set(r.requestId, r);
          active.set(keyOf(r), r);
          created.push(r);
        }
        await append(created.map((request) => ({ revision: 1, writtenAt: clock.now(), request })));
        return { created, existing };
      });
    },

    async get(requestId) {
      return (await load()).latest.get(requestId)?.request;
    },

    async forWindow(q) {
      checkWindow(q);
      return (await requests()).filter((r) => r.processorName === q.processorName && r.date >= q.start && r.date <= q.end);
    },

    async apply(requestId, event) {
      check(nonEmptyProblem, requestId, 'requestId');
      for (let tries = 0; tries <= maxRetries; tries++) {
        // Read and decide outside the lock, as a database adapter would outside its transaction…
        const read = (await load()).latest.get(requestId);
        if (read === undefined)
          return err({ _tag: 'NotFound', requestId, message: `no backfill request with id ${JSON.stringify(requestId)}` });
        const next = transition(read.request, event);
        if (next._tag === 'Err') return next;
        // …then write only if nobody changed the request since: compare-and-set on the revision read.
        const written = await lock(async () => {
          if ((await load()).latest.get(requestId)?.revision !== read.revision) return false;
          await append([{ revision: read.revision + 1, writtenAt: clock.now(), request: next.value }]);
          return true;
        });
        if (written) return next;
      }
      throw new SmartBackfillError('contention', `request ${requestId}: other writers changed it ${maxRetries + 1} times in a row; retry`, {
        origin: ORIGIN,
      });
    },

    async unpublished({ olderThan, limit }) {
      check(instantProblem, olderThan, 'olderThan');
      check(countProblem, limit, 'limit');
      return (await requests())
        .filter((r) => r.status === 'queued' && r.publishedAt === null && r.requestedAt <= olderThan)
        .sort((a, b) => a.requestedAt - b.requestedAt)
        .slice(0, limit);
    },

    async expiredLeases({ now, limit }) {
      check(instantProblem, now, 'now');
      check(countProblem, limit, 'limit');
      return (await requests())
        .filter((r) => r.status === 'processing' && r.leaseExpiresAt !== null && r.leaseExpiresAt <= now)
        .sort((a, b) => (a.leaseExpiresAt ?? 0) - (b.leaseExpiresAt ?? 0))
        .slice(0, limit);
    },

    async list(q) {
      if (q.limit !== undefined) check(countProblem, q.limit, 'limit');
      const statuses = q.statuses === undefined ? undefined : new Set(q.statuses);
      // Newest first; among equal times, the later created first.
      const rows = (await requests())
        .map((r, i) => [r, i] as const)
        .filter(
          ([r]) =>
            (q.processorName === undefined || r.processorName === q.processorName) &&
            (statuses === undefined || statuses.has(r.status)) &&
            (q.since === undefined || r.requestedAt >= q.since),
        )
        .sort(([a, ia], [b, ib]) => b.requestedAt - a.requestedAt || ib - ia)
        .map(([r]) => r);
      return q.limit === undefined ? rows : rows.slice(0, q.limit);
    },
  };
};
