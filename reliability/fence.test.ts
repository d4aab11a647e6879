/**
 * Stale-worker fence: a worker whose lease lapsed must not be able to complete,
 * fail or heartbeat the request any more — whether the request was only swept
 * back to `queued` or already re-claimed by another worker, and even when the
 * stale and the new worker race. Memory and SQLite trackers, 100 lapsed leases each.
 */
import { describe, expect, it } from 'vitest';
import type { Clock, RequestTracker } from '@smart-backfill/core';
import { createSweeper, createWorker, processorRegistry, queueMessageForRequest } from '@smart-backfill/engine';
import { createMemoryStore } from '@smart-backfill/memory';
import { openSqliteStore } from '@smart-backfill/sqlite';
import { ManualClock } from '@smart-backfill/testkit';
import { record } from './figures.js';
import { requests, tempDir } from './support.js';

const N = 100;
const LEASE = 60_000;

interface Subject {
  tracker: RequestTracker;
  close: () => Promise<void>;
}

const subjects: Record<string, (clock: Clock) => Subject> = {
  memory: (clock) => {
    const s = createMemoryStore({ clock });
    return { tracker: s.tracker, close: async () => {} };
  },
  sqlite: (clock) => {
    const tmp = tempDir();
    const s = openSqliteStore({ path: tmp.file('fence.db'), clock });
    return {
      tracker: s.tracker,
      close: async () => {
        await s.close();
        tmp.done();
      },
    };
  },
};

describe.each(Object.keys(subjects))('stale-worker fence (%s tracker)', (name) => {
  it(`${N} lapsed leases: 0 stale completions, failures or heartbeats accepted; every new owner's completion accepted`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { tracker, close } = subjects[name]!(clock);
    try {
      const { created } = await tracker.create(requests(N, 'fenced', clock.now()));
      expect(created).toHaveLength(N);
      const ids = created.map((r) => r.requestId);

      // worker A claims every request, then goes quiet past its lease
      const stale = new Map<string, number>();
      for (const id of ids) {
        const c = await tracker.apply(id, { _tag: 'Claim', at: clock.now(), owner: 'worker-a', leaseMs: LEASE });
        expect(c._tag).toBe('Ok');
        if (c._tag === 'Ok') stale.set(id, c.value.attempt);
      }
      clock.advance(LEASE + 1);
      const swept = await createSweeper({ tracker, clock }).runOnce();
      expect(swept.expired).toBe(N);

      let accepted = 0;
      const attemptStale = async (id: string, kind: 'Complete' | 'Fail' | 'Heartbeat'): Promise<void> => {
        const attempt = stale.get(id)!;
        const at = clock.now();
        const r = await tracker.apply(
          id,
          kind === 'Complete'
            ? { _tag: 'Complete', at, attempt }
            : kind === 'Fail'
              ? { _tag: 'Fail', at, attempt, error: 'stale' }
              : { _tag: 'Heartbeat', at, attempt, leaseMs: LEASE },
        );
        if (r._tag === 'Ok') accepted++;
      };

      // 1) lapsed and swept, nobody owns it yet: A's late result is refused
      for (const id of ids.slice(0, N / 2)) await attemptStale(id, 'Complete');
      for (const id of ids.slice(0, N / 2)) await attemptStale(id, 'Heartbeat');

      // 2) worker B re-claims everything (attempt + 1); A races B to finish
      const fresh = new Map<string, number>();
      for (const id of ids) {
        const c = await tracker.apply(id, { _tag: 'Claim', at: clock.now(), owner: 'worker-b', leaseMs: LEASE });
        expect(c._tag).toBe('Ok');
        if (c._tag === 'Ok') fresh.set(id, c.value.attempt);
      }
      let bAccepted = 0;
      await Promise.all(
        ids.map(async (id, i) => {
          const stalePart = attemptStale(id, i % 3 === 0 ? 'Fail' : i % 3 === 1 ? 'Heartbeat' : 'Complete');
          const b = tracker.apply(id, { _tag: 'Complete', at: clock.now(), attempt: fresh.get(id)! }).then((r) => {
            if (r._tag === 'Ok') bAccepted++;
          });
          await Promise.all([stalePart, b]);
        }),
      );
      // 3) after B completed: A still refused
      for (const id of ids) await attemptStale(id, 'Complete');

      expect(accepted).toBe(0);
      expect(bAccepted).toBe(N);
      for (const id of ids) {
        const r = await tracker.get(id);
        expect(r?.status).toBe('completed');
        expect(r?.attempt).toBe(stale.get(id)! + 1);
        expect(r?.leaseOwner === 'worker-a').toBe(false);
      }
      record('fence', name, {
        lapsedLeases: N,
        staleAttempts: N / 2 + N / 2 + N + N,
        staleAccepted: accepted,
        newOwnerCompletions: bAccepted,
      });
    } finally {
      await close();
    }
  });
});

describe('stale-worker fence through the engine worker (memory store)', () => {
  it(`${N} backfills whose worker stalls past its lease: each re-run by another worker, every stale result refused`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = createMemoryStore({ clock });
    const { created } = await store.tracker.create(requests(N, 'fenced', clock.now()));
    await store.queue.publish(created.map(queueMessageForRequest));

    // Worker A is cut off from the tracker for heartbeats (a partition, a long GC pause): its
    // leases lapse while its processor — one that ignores the abort signal — is still running.
    const partitioned: RequestTracker = {
      ...store.tracker,
      create: (r) => store.tracker.create(r),
      get: (id) => store.tracker.get(id),
      forWindow: (q) => store.tracker.forWindow(q),
      unpublished: (q) => store.tracker.unpublished(q),
      expiredLeases: (q) => store.tracker.expiredLeases(q),
      list: (q) => store.tracker.list(q),
      apply: async (id, e) => {
        if (e._tag === 'Heartbeat') throw new Error('tracker unreachable from worker A');
        return store.tracker.apply(id, e);
      },
    };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runs: Array<{ id: string; attempt: number }> = [];
    let blocked = 0;
    const processor = {
      name: 'fenced',
      run: async ({ requestId, attempt }: { requestId?: string; attempt?: number }) => {
        runs.push({ id: requestId!, attempt: attempt! });
        if (attempt === 1) {
          blocked++;
          await gate;
        }
      },
    };
    const common = {
      queue: store.queue,
      runLog: store.runLog,
      clock,
      registry: processorRegistry([processor]),
      leaseMs: LEASE,
      resume: false,
      batchSize: N,
    };
    const a = createWorker({ ...common, tracker: partitioned, workerId: 'worker-a' });
    const b = createWorker({ ...common, tracker: store.tracker, workerId: 'worker-b' });

    const aTick = a.runOnce({ max: N });
    while (blocked < N) await new Promise((r) => setImmediate(r));
    clock.advance(LEASE + 1);
    const bTick = await b.runOnce({ max: N });
    release();
    const aOutcomes = (await aTick).outcomes;

    const tags = (os: readonly { _tag: string }[]): Record<string, number> =>
      os.reduce<Record<string, number>>((m, o) => ({ ...m, [o._tag]: (m[o._tag] ?? 0) + 1 }), {});
    expect(tags(bTick.outcomes)).toEqual({ Completed: N });
    expect(tags(aOutcomes)).toEqual({ Stale: N });
    for (const r of store.requests()) {
      expect(r.status).toBe('completed');
      expect(r.attempt).toBe(2);
    }
    expect(runs.filter((r) => r.attempt === 1)).toHaveLength(N);
    expect(runs.filter((r) => r.attempt === 2)).toHaveLength(N);
    record('fence', 'engine worker', {
      stalledBackfills: N,
      rerunByOtherWorker: bTick.outcomes.length,
      staleResultsRefused: aOutcomes.filter((o) => o._tag === 'Stale').length,
      staleAccepted: aOutcomes.filter((o) => o._tag === 'Completed').length,
    });
  });
});
