import { expect, it } from 'vitest';
import fc from 'fast-check';
import {
  isActive,
  isoDate,
  newRequest,
  transition,
  type BackfillRequest,
  type IsoDate,
  type NewBackfillRequest,
  type RequestEvent,
  type RequestStatus,
  type RequestTracker,
} from '@smart-backfill/core';
import { ManualClock } from '../manual-clock.js';
import { trackerBadInput } from './bad-input.js';
import { contractDescribe, DEFAULT_START_MS, withSubject } from './harness.js';
import { aNewRequest, project, projectSorted } from './request-fixtures.js';
import type { ContractOptions, TrackerSubject } from './types.js';

const P = 'player_game_summary';
const Q = 'team_defense_game_summary';
const D1 = isoDate('2025-03-01');
const D2 = isoDate('2025-03-02');
const D3 = isoDate('2025-03-03');

const nonIncreasing = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || (xs[i - 1] as number) >= x);
const nonDecreasing = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || (xs[i - 1] as number) <= x);

/**
 * The `RequestTracker` contract (see packages/core/src/ports/request-tracker.ts):
 * one active request per (processor, date) even under racing `create` calls,
 * idempotent create by requestId, compare-and-set `apply` with fencing attempts,
 * the outbox and sweeper work lists, window reads and list order — plus a
 * model-based run comparing random command sequences with core's `transition`.
 */
export const testRequestTracker = (opts: ContractOptions<TrackerSubject>): void => {
  contractDescribe('RequestTracker', opts, () => {
    trackerBadInput(opts);
    it('records new requests as queued, unclaimed and unpublished', async () => {
      await withSubject(opts, async (s, clock) => {
        const input = aNewRequest('r1', P, D1, clock.now(), { metadata: { gap_size: 2, missing_dates: ['2025-03-01'] } });
        const res = await s.tracker.create([input]);
        expect(res.created.map(project)).toEqual([project(newRequest(input))]);
        expect(res.existing).toEqual([]);
        expect(project(await s.tracker.get('r1'))).toEqual(project(newRequest(input)));
        expect(await s.tracker.get('nope')).toBeUndefined();
        if (s.backdoor?.readRequest !== undefined) expect(project(await s.backdoor.readRequest('r1'))).toEqual(project(newRequest(input)));
      });
    });

    it('keeps one active request per (processor, date), within a batch and across calls', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        const first = await s.tracker.create([
          aNewRequest('a', P, D1, t),
          aNewRequest('b', P, D1, t),
          aNewRequest('c', Q, D1, t),
          aNewRequest('d', P, D2, t),
        ]);
        expect(first.created.map((r) => r.requestId)).toEqual(['a', 'c', 'd']);
        expect(first.existing.map((r) => r.requestId)).toEqual(['a']);
        const again = await s.tracker.create([aNewRequest('e', P, D1, t + 1)]);
        expect(again.created).toEqual([]);
        expect(again.existing.map((r) => r.requestId)).toEqual(['a']);
        expect((await s.tracker.forWindow({ processorName: P, start: D1, end: D1 })).map((r) => r.requestId)).toEqual(['a']);
      });
    });

    it('is idempotent on requestId, even once the request is no longer active', async () => {
      await withSubject(opts, async (s, clock) => {
        const input = aNewRequest('r1', P, D1, clock.now());
        await s.tracker.create([input]);
        const again = await s.tracker.create([input]);
        expect(again.created).toEqual([]);
        expect(again.existing.map((r) => r.requestId)).toEqual(['r1']);
        const claimed = await s.tracker.apply('r1', { _tag: 'Claim', at: clock.now(), owner: 'w', leaseMs: 1000 });
        expect(claimed._tag).toBe('Ok');
        expect((await s.tracker.apply('r1', { _tag: 'Complete', at: clock.now(), attempt: 1 }))._tag).toBe('Ok');
        const third = await s.tracker.create([input]);
        expect(third.created).toEqual([]);
        expect(third.existing.map((r) => [r.requestId, r.status])).toEqual([['r1', 'completed']]);
        expect(await s.tracker.forWindow({ processorName: P, start: D1, end: D1 })).toHaveLength(1);
      });
    });

    it('lets a new request in once the previous one for the date is done', async () => {
      await withSubject(opts, async (s, clock) => {
        await s.tracker.create([aNewRequest('r1', P, D1, clock.now())]);
        await s.tracker.apply('r1', { _tag: 'Claim', at: clock.now(), owner: 'w', leaseMs: 1000 });
        await s.tracker.apply('r1', { _tag: 'Fail', at: clock.now(), attempt: 1, error: 'boom' });
        clock.advance(10);
        const res = await s.tracker.create([aNewRequest('r2', P, D1, clock.now())]);
        expect(res.created.map((r) => r.requestId)).toEqual(['r2']);
        const window = await s.tracker.forWindow({ processorName: P, start: D1, end: D1 });
        expect(window.map((r) => [r.requestId, r.status]).sort()).toEqual([
          ['r1', 'failed'],
          ['r2', 'queued'],
        ]);
      });
    });

    it('admits exactly one active request per (processor, date) when creates race', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            s.tracker.create([aNewRequest(`race-${i}`, P, D1, t), aNewRequest(`race-b-${i}`, P, i % 2 === 0 ? D2 : D3, t)]),
          ),
        );
        const created = results.flatMap((r) => r.created);
        expect(created.filter((r) => r.date === D1)).toHaveLength(1);
        expect(created.filter((r) => r.date === D2)).toHaveLength(1);
        expect(created.filter((r) => r.date === D3)).toHaveLength(1);
        const winner = new Map(created.map((r) => [r.date, r.requestId]));
        for (const r of results.flatMap((x) => x.existing)) expect(r.requestId).toBe(winner.get(r.date));
        for (const r of results) expect(r.created.length + r.existing.length).toBe(2);
        const window = await s.tracker.forWindow({ processorName: P, start: D1, end: D3 });
        expect(window.filter((r) => isActive(r.status))).toHaveLength(3);
        expect(window).toHaveLength(3);
      });
    });

    it('claims with a lease and an attempt number that fences stale workers', async () => {
      await withSubject(opts, async (s, clock) => {
        await s.tracker.create([aNewRequest('r1', P, D1, clock.now())]);
        const c1 = await s.tracker.apply('r1', { _tag: 'Claim', at: clock.now(), owner: 'w1', leaseMs: 60_000 });
        expect(c1._tag === 'Ok' && [c1.value.status, c1.value.attempt, c1.value.leaseOwner, c1.value.leaseExpiresAt]).toEqual([
          'processing',
          1,
          'w1',
          clock.now() + 60_000,
        ]);
        clock.advance(60_000);
        const expired = await s.tracker.apply('r1', { _tag: 'LeaseExpired', at: clock.now() });
        expect(expired._tag).toBe('Ok');
        const c2 = await s.tracker.apply('r1', { _tag: 'Claim', at: clock.now(), owner: 'w2', leaseMs: 60_000 });
        expect(c2._tag === 'Ok' && c2.value.attempt).toBe(2);
        const before = await s.tracker.get('r1');
        const stale = await s.tracker.apply('r1', { _tag: 'Complete', at: clock.now(), attempt: 1 });
        expect(stale._tag === 'Err' && stale.error._tag).toBe('StaleAttempt');
        const staleBeat = await s.tracker.apply('r1', { _tag: 'Heartbeat', at: clock.now(), attempt: 1, leaseMs: 5 });
        expect(staleBeat._tag === 'Err' && staleBeat.error._tag).toBe('StaleAttempt');
        expect(project(await s.tracker.get('r1'))).toEqual(project(before));
        const done = await s.tracker.apply('r1', { _tag: 'Complete', at: clock.now(), attempt: 2 });
        expect(done._tag === 'Ok' && done.value.status).toBe('completed');
      });
    });

    it('returns illegal transitions as Err values and changes nothing', async () => {
      await withSubject(opts, async (s, clock) => {
        await s.tracker.create([aNewRequest('r1', P, D1, clock.now())]);
        const before = project(await s.tracker.get('r1'));
        for (const e of [
          { _tag: 'Complete', at: clock.now(), attempt: 0 },
          { _tag: 'Fail', at: clock.now(), attempt: 0, error: 'x' },
          { _tag: 'Retry', at: clock.now(), notBefore: clock.now() },
          { _tag: 'LeaseExpired', at: clock.now() },
          { _tag: 'Heartbeat', at: clock.now(), attempt: 0, leaseMs: 10 },
        ] satisfies RequestEvent[]) {
          const r = await s.tracker.apply('r1', e);
          expect(r._tag === 'Err' && r.error._tag, e._tag).toBe('IllegalTransition');
        }
        expect(project(await s.tracker.get('r1'))).toEqual(before);
        const missing = await s.tracker.apply('no-such', { _tag: 'MarkPublished', at: clock.now() });
        expect(missing._tag === 'Err' && missing.error._tag).toBe('NotFound');
      });
    });

    it('backs off a retried request until notBefore and rejects an early lease expiry', async () => {
      await withSubject(opts, async (s, clock) => {
        await s.tracker.create([aNewRequest('r1', P, D1, clock.now())]);
        await s.tracker.apply('r1', { _tag: 'Claim', at: clock.now(), owner: 'w', leaseMs: 1000 });
        const early = await s.tracker.apply('r1', { _tag: 'LeaseExpired', at: clock.now() + 999 });
        expect(early._tag === 'Err' && early.error._tag).toBe('LeaseNotExpired');
        await s.tracker.apply('r1', { _tag: 'Fail', at: clock.now(), attempt: 1, error: 'boom' });
        const retried = await s.tracker.apply('r1', { _tag: 'Retry', at: clock.now(), notBefore: clock.now() + 5000 });
        expect(retried._tag === 'Ok' && [retried.value.status, retried.value.notBefore]).toEqual(['queued', clock.now() + 5000]);
        const tooSoon = await s.tracker.apply('r1', { _tag: 'Claim', at: clock.now() + 4999, owner: 'w', leaseMs: 1000 });
        expect(tooSoon._tag === 'Err' && tooSoon.error._tag).toBe('NotYetDue');
        clock.advance(5000);
        const claimed = await s.tracker.apply('r1', { _tag: 'Claim', at: clock.now(), owner: 'w', leaseMs: 1000 });
        expect(claimed._tag === 'Ok' && claimed.value.attempt).toBe(2);
      });
    });

    it('keeps real failures apart from claims: Fail counts, a lapsed lease does not, and the count survives a round trip', async () => {
      await withSubject(opts, async (s, clock) => {
        await s.tracker.create([aNewRequest('r1', P, D1, clock.now())]);
        const read = async (): Promise<
          Pick<BackfillRequest, 'status' | 'attempt' | 'failures' | 'gaveUp' | 'errorMessage'> | undefined
        > => {
          const r = await s.tracker.get('r1');
          return r === undefined
            ? undefined
            : { status: r.status, attempt: r.attempt, failures: r.failures, gaveUp: r.gaveUp, errorMessage: r.errorMessage };
        };
        expect(await read()).toEqual({ status: 'queued', attempt: 0, failures: 0, gaveUp: false, errorMessage: null });
        await s.tracker.apply('r1', { _tag: 'Claim', at: clock.now(), owner: 'w', leaseMs: 1000 });
        const f1 = await s.tracker.apply('r1', { _tag: 'Fail', at: clock.now(), attempt: 1, error: 'boom 1' });
        expect(f1._tag === 'Ok' && f1.value.failures).toBe(1);
        expect(await read()).toEqual({ status: 'failed', attempt: 1, failures: 1, gaveUp: false, errorMessage: 'boom 1' });
        await s.tracker.apply('r1', { _tag: 'Retry', at: clock.now(), notBefore: clock.now() });
        await s.tracker.apply('r1', { _tag: 'Claim', at: clock.now(), owner: 'w', leaseMs: 1000 });
        await s.tracker.apply('r1', { _tag: 'Fail', at: clock.now(), attempt: 2, error: 'boom 2' });
        expect(await read()).toEqual({ status: 'failed', attempt: 2, failures: 2, gaveUp: false, errorMessage: 'boom 2' });
        await s.tracker.apply('r1', { _tag: 'Retry', at: clock.now(), notBefore: clock.now() });
        // A worker that dies: its claim lapses. A claim, not a failure.
        await s.tracker.apply('r1', { _tag: 'Claim', at: clock.now(), owner: 'w', leaseMs: 1000 });
        clock.advance(1000);
        const lapsed = await s.tracker.apply('r1', { _tag: 'LeaseExpired', at: clock.now() });
        expect(lapsed._tag).toBe('Ok');
        expect(await read()).toEqual({ status: 'queued', attempt: 3, failures: 2, gaveUp: false, errorMessage: 'boom 2' });
        // A final Fail (a give-up) is recorded durably, counts once, and a Retry clears it.
        await s.tracker.apply('r1', { _tag: 'Claim', at: clock.now(), owner: 'w', leaseMs: 1000 });
        const gaveUp = await s.tracker.apply('r1', { _tag: 'Fail', at: clock.now(), attempt: 4, error: 'gave up', final: true });
        expect(gaveUp._tag === 'Ok' && [gaveUp.value.failures, gaveUp.value.gaveUp]).toEqual([3, true]);
        expect(await read()).toEqual({ status: 'failed', attempt: 4, failures: 3, gaveUp: true, errorMessage: 'gave up' });
        expect((await s.tracker.forWindow({ processorName: P, start: D1, end: D1 })).map((r) => [r.failures, r.gaveUp])).toEqual([
          [3, true],
        ]);
        expect((await s.tracker.list({ processorName: P })).map((r) => [r.failures, r.gaveUp])).toEqual([[3, true]]);
        await s.tracker.apply('r1', { _tag: 'Retry', at: clock.now(), notBefore: clock.now() });
        expect(await read()).toEqual({ status: 'queued', attempt: 4, failures: 3, gaveUp: false, errorMessage: 'gave up' });
        if (s.backdoor?.readRequest !== undefined)
          expect(project(await s.backdoor.readRequest('r1'))).toEqual(project(await s.tracker.get('r1')));
      });
    });

    it('lets exactly one of many racing claims win (compare-and-set)', async () => {
      await withSubject(opts, async (s, clock) => {
        await s.tracker.create([aNewRequest('r1', P, D1, clock.now())]);
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => s.tracker.apply('r1', { _tag: 'Claim', at: clock.now(), owner: `w${i}`, leaseMs: 1000 })),
        );
        const winners = results.filter((r) => r._tag === 'Ok');
        expect(winners).toHaveLength(1);
        const stored = await s.tracker.get('r1');
        expect(stored?.attempt).toBe(1);
        expect(winners[0]?._tag === 'Ok' && winners[0].value.leaseOwner).toBe(stored?.leaseOwner);
        const finishes = await Promise.all([
          s.tracker.apply('r1', { _tag: 'Complete', at: clock.now(), attempt: 1 }),
          s.tracker.apply('r1', { _tag: 'Fail', at: clock.now(), attempt: 1, error: 'x' }),
        ]);
        expect(finishes.filter((r) => r._tag === 'Ok')).toHaveLength(1);
      });
    });

    it('reads a window: every status, only its dates (both ends inclusive), only its processor', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.tracker.create([
          aNewRequest('before', P, '2025-02-28', t),
          aNewRequest('first', P, D1, t),
          aNewRequest('mid', P, D2, t),
          aNewRequest('last', P, D3, t),
          aNewRequest('after', P, '2025-03-04', t),
          aNewRequest('other', Q, D2, t),
        ]);
        await s.tracker.apply('first', { _tag: 'Claim', at: t, owner: 'w', leaseMs: 10 });
        await s.tracker.apply('first', { _tag: 'Complete', at: t, attempt: 1 });
        await s.tracker.apply('mid', { _tag: 'Claim', at: t, owner: 'w', leaseMs: 10 });
        await s.tracker.apply('mid', { _tag: 'Fail', at: t, attempt: 1, error: 'x' });
        await s.tracker.apply('last', { _tag: 'Claim', at: t, owner: 'w', leaseMs: 10 });
        const got = await s.tracker.forWindow({ processorName: P, start: D1, end: D3 });
        expect(got.map((r) => [r.requestId, r.status]).sort()).toEqual([
          ['first', 'completed'],
          ['last', 'processing'],
          ['mid', 'failed'],
        ]);
      });
    });

    it('lists unpublished queued requests oldest first, up to olderThan and limit', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.tracker.create([
          aNewRequest('n3', P, D3, t + 30),
          aNewRequest('n1', P, D1, t + 10),
          aNewRequest('n2', P, D2, t + 20),
          aNewRequest('late', Q, D1, t + 40),
        ]);
        await s.tracker.create([aNewRequest('pub', Q, D2, t)]);
        await s.tracker.apply('pub', { _tag: 'MarkPublished', at: t + 1 });
        clock.advance(100);
        expect((await s.tracker.unpublished({ olderThan: t + 30, limit: 10 })).map((r) => r.requestId)).toEqual(['n1', 'n2', 'n3']);
        expect((await s.tracker.unpublished({ olderThan: t + 100, limit: 2 })).map((r) => r.requestId)).toEqual(['n1', 'n2']);
        await s.tracker.apply('n1', { _tag: 'Claim', at: clock.now(), owner: 'w', leaseMs: 10 });
        await s.tracker.apply('n2', { _tag: 'MarkPublished', at: clock.now() });
        expect((await s.tracker.unpublished({ olderThan: t + 100, limit: 10 })).map((r) => r.requestId)).toEqual(['n3', 'late']);
        const again = await s.tracker.apply('n2', { _tag: 'MarkPublished', at: clock.now() + 5 });
        expect(again._tag === 'Ok' && again.value.publishedAt).toBe(clock.now());
      });
    });

    it('lists processing requests whose lease expired at or before now', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.tracker.create([aNewRequest('short', P, D1, t), aNewRequest('long', P, D2, t), aNewRequest('idle', P, D3, t)]);
        await s.tracker.apply('short', { _tag: 'Claim', at: t, owner: 'w', leaseMs: 1000 });
        await s.tracker.apply('long', { _tag: 'Claim', at: t, owner: 'w', leaseMs: 5000 });
        expect(await s.tracker.expiredLeases({ now: t + 999, limit: 10 })).toEqual([]);
        expect((await s.tracker.expiredLeases({ now: t + 1000, limit: 10 })).map((r) => r.requestId)).toEqual(['short']);
        expect((await s.tracker.expiredLeases({ now: t + 9000, limit: 10 })).map((r) => r.requestId).sort()).toEqual(['long', 'short']);
        expect(await s.tracker.expiredLeases({ now: t + 9000, limit: 1 })).toHaveLength(1);
        await s.tracker.apply('long', { _tag: 'Heartbeat', at: t + 4000, attempt: 1, leaseMs: 10_000 });
        expect((await s.tracker.expiredLeases({ now: t + 9000, limit: 10 })).map((r) => r.requestId)).toEqual(['short']);
      });
    });

    it('lists newest first, filtered by processor, statuses, since and limit', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.tracker.create([
          aNewRequest('a', P, D1, t + 1),
          aNewRequest('b', P, D2, t + 2),
          aNewRequest('c', Q, D1, t + 3),
          aNewRequest('d', P, D3, t + 4),
        ]);
        await s.tracker.apply('b', { _tag: 'Claim', at: t + 5, owner: 'w', leaseMs: 10 });
        expect((await s.tracker.list({})).map((r) => r.requestId)).toEqual(['d', 'c', 'b', 'a']);
        expect((await s.tracker.list({ processorName: P })).map((r) => r.requestId)).toEqual(['d', 'b', 'a']);
        expect((await s.tracker.list({ statuses: ['processing'] })).map((r) => r.requestId)).toEqual(['b']);
        expect((await s.tracker.list({ statuses: ['queued', 'processing'], processorName: P })).map((r) => r.requestId)).toEqual([
          'd',
          'b',
          'a',
        ]);
        expect((await s.tracker.list({ since: t + 3 })).map((r) => r.requestId)).toEqual(['d', 'c']);
        expect((await s.tracker.list({ limit: 2 })).map((r) => r.requestId)).toEqual(['d', 'c']);
      });
    });

    it('agrees with a model of core transitions over random command sequences', async () => {
      const numRuns = opts.numRuns ?? 40;
      await fc.assert(
        fc.asyncProperty(fc.commands(trackerCommands, { maxCommands: 60, size: 'max' }), async (cmds) => {
          const clock = new ManualClock(opts.startMs ?? DEFAULT_START_MS);
          const subject = await opts.create({ clock });
          try {
            await fc.asyncModelRun(() => ({ model: emptyModel(), real: { tracker: subject.tracker, clock } }), cmds);
          } finally {
            await subject.cleanup?.();
          }
        }),
        { numRuns },
      );
    });
  });
};

// ---------- model-based ----------

interface TrackerModel {
  readonly requests: Map<string, BackfillRequest>;
  next: number;
}
interface TrackerReal {
  readonly tracker: RequestTracker;
  readonly clock: ManualClock;
}
type TrackerCommand = fc.AsyncCommand<TrackerModel, TrackerReal>;

const emptyModel = (): TrackerModel => ({ requests: new Map(), next: 0 });
const PROCS = [P, Q] as const;
const DATES: readonly IsoDate[] = [D1, D2, D3];

interface CreateSpec {
  readonly reuse: number | null;
  readonly proc: number;
  readonly date: number;
}

class CreateCommand implements TrackerCommand {
  constructor(readonly specs: readonly CreateSpec[]) {}
  check(): boolean {
    return true;
  }
  async run(m: TrackerModel, r: TrackerReal): Promise<void> {
    const ids = [...m.requests.keys()];
    const inputs: NewBackfillRequest[] = this.specs.map((sp) => {
      const reused = sp.reuse !== null && ids.length > 0 ? m.requests.get(ids[sp.reuse % ids.length] as string) : undefined;
      if (reused !== undefined)
        return aNewRequest(reused.requestId, reused.processorName, reused.date, reused.requestedAt, { metadata: reused.metadata });
      return aNewRequest(`m${m.next++}`, PROCS[sp.proc] as string, DATES[sp.date] as IsoDate, r.clock.now());
    });
    const expectCreated: BackfillRequest[] = [];
    const expectExisting: string[] = [];
    for (const input of inputs) {
      const byIdHit = m.requests.get(input.requestId);
      if (byIdHit !== undefined) {
        expectExisting.push(byIdHit.requestId);
        continue;
      }
      const active = [...m.requests.values()].find(
        (x) => x.processorName === input.processorName && x.date === input.date && isActive(x.status),
      );
      if (active !== undefined) {
        expectExisting.push(active.requestId);
        continue;
      }
      const created = newRequest(input);
      m.requests.set(created.requestId, created);
      expectCreated.push(created);
    }
    const res = await r.tracker.create(inputs);
    expect(res.created.map(project)).toEqual(expectCreated.map(project));
    expect(res.existing.map((x) => x.requestId).sort()).toEqual(expectExisting.sort());
  }
  toString(): string {
    return `create(${JSON.stringify(this.specs)})`;
  }
}

/** `FailFinal` is a `Fail` with `final: true` (a give-up). */
type EventKind = RequestEvent['_tag'] | 'FailFinal';

/** The event of a kind, at `at`; `ms` is the lease, the retry delay and the error's and owner's name. */
const eventOf = (kind: EventKind, at: number, attempt: number, ms: number): RequestEvent => {
  switch (kind) {
    case 'Claim':
      return { _tag: 'Claim', at, owner: `w${ms}`, leaseMs: ms };
    case 'Heartbeat':
      return { _tag: 'Heartbeat', at, attempt, leaseMs: ms };
    case 'Complete':
      return { _tag: 'Complete', at, attempt };
    case 'Fail':
      return { _tag: 'Fail', at, attempt, error: `error ${ms}` };
    case 'FailFinal':
      return { _tag: 'Fail', at, attempt, error: `error ${ms}`, final: true };
    case 'Retry':
      return { _tag: 'Retry', at, notBefore: at + ms };
    case 'LeaseExpired':
      return { _tag: 'LeaseExpired', at };
    case 'MarkPublished':
      return { _tag: 'MarkPublished', at };
  }
};

class ApplyCommand implements TrackerCommand {
  constructor(
    readonly target: number,
    readonly kind: EventKind,
    readonly attemptDelta: number,
    readonly ms: number,
  ) {}
  check(m: Readonly<TrackerModel>): boolean {
    return m.requests.size > 0;
  }
  async run(m: TrackerModel, r: TrackerReal): Promise<void> {
    const ids = [...m.requests.keys()];
    const id = ids[this.target % ids.length] as string;
    const before = m.requests.get(id) as BackfillRequest;
    const at = r.clock.now();
    const attempt = before.attempt + this.attemptDelta;
    const event = eventOf(this.kind, at, attempt, this.ms);
    const expected = transition(before, event);
    const got = await r.tracker.apply(id, event);
    if (expected._tag === 'Ok') {
      expect(got._tag === 'Err' ? got.error : undefined, `${this.toString()} on ${before.status}`).toBeUndefined();
      expect(got._tag === 'Ok' ? project(got.value) : undefined).toEqual(project(expected.value));
      m.requests.set(id, expected.value);
    } else {
      expect(
        got._tag === 'Err' ? got.error._tag : `Ok(${got._tag === 'Ok' ? got.value.status : ''})`,
        `${this.toString()} on ${before.status}`,
      ).toBe(expected.error._tag);
    }
    expect(project(await r.tracker.get(id))).toEqual(project(m.requests.get(id)));
  }
  toString(): string {
    return `apply(#${this.target}, ${this.kind}, attempt${this.attemptDelta >= 0 ? '+' : ''}${this.attemptDelta}, ${this.ms}ms)`;
  }
}

class AdvanceCommand implements TrackerCommand {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(_m: TrackerModel, r: TrackerReal): Promise<void> {
    r.clock.advance(this.ms);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

class QueryCommand implements TrackerCommand {
  constructor(
    readonly proc: number,
    readonly from: number,
    readonly to: number,
    readonly statuses: readonly RequestStatus[] | null,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: TrackerModel, r: TrackerReal): Promise<void> {
    const all = [...m.requests.values()];
    const now = r.clock.now();
    const processorName = PROCS[this.proc] as string;
    const start = DATES[Math.min(this.from, this.to)] as IsoDate;
    const end = DATES[Math.max(this.from, this.to)] as IsoDate;
    const win = await r.tracker.forWindow({ processorName, start, end });
    expect(projectSorted(win)).toEqual(
      projectSorted(all.filter((x) => x.processorName === processorName && x.date >= start && x.date <= end)),
    );

    const unpub = await r.tracker.unpublished({ olderThan: now, limit: 1000 });
    expect(nonDecreasing(unpub.map((x) => x.requestedAt))).toBe(true);
    expect(projectSorted(unpub)).toEqual(
      projectSorted(all.filter((x) => x.status === 'queued' && x.publishedAt === null && x.requestedAt <= now)),
    );

    const expired = await r.tracker.expiredLeases({ now, limit: 1000 });
    expect(projectSorted(expired)).toEqual(
      projectSorted(all.filter((x) => x.status === 'processing' && x.leaseExpiresAt !== null && x.leaseExpiresAt <= now)),
    );

    const listed = await r.tracker.list(this.statuses === null ? { processorName } : { processorName, statuses: this.statuses });
    expect(nonIncreasing(listed.map((x) => x.requestedAt))).toBe(true);
    expect(projectSorted(listed)).toEqual(
      projectSorted(all.filter((x) => x.processorName === processorName && (this.statuses === null || this.statuses.includes(x.status)))),
    );
  }
  toString(): string {
    return `query(${PROCS[this.proc]}, ${this.from}..${this.to}, ${JSON.stringify(this.statuses)})`;
  }
}

const trackerCommands = [
  fc
    .array(
      fc.record({
        reuse: fc.integer({ min: 0, max: 99 }).map((n) => (n < 25 ? n : null)),
        proc: fc.integer({ min: 0, max: 1 }),
        date: fc.integer({ min: 0, max: 2 }),
      }),
      { minLength: 1, maxLength: 4 },
    )
    .map((specs) => new CreateCommand(specs)),
  fc
    .tuple(
      fc.nat(50),
      fc.constantFrom<EventKind>(
        'Claim',
        'Claim',
        'Heartbeat',
        'Complete',
        'Complete',
        'Fail',
        'FailFinal',
        'Retry',
        'LeaseExpired',
        'MarkPublished',
      ),
      fc.constantFrom(0, 0, 0, 0, -1, 1),
      fc.constantFrom(0, 1000, 5000),
    )
    .map(([t, k, d, ms]) => new ApplyCommand(t, k, d, ms)),
  fc.constantFrom(500, 1000, 3000, 7000).map((ms) => new AdvanceCommand(ms)),
  fc
    .tuple(
      fc.integer({ min: 0, max: 1 }),
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 0, max: 2 }),
      fc.option(fc.subarray<RequestStatus>(['queued', 'processing', 'completed', 'failed'], { minLength: 1 })),
    )
    .map(([p, a, b, st]) => new QueryCommand(p, a, b, st)),
];
