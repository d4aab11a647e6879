import { expect, it } from 'vitest';
import { isoDate, lastBuildsOf, type HeldRun, type IsoDate, type RunRecord } from '@smart-backfill/core';
import { expectInvalidInput, runLogBadInput } from './bad-input.js';
import { contractDescribe, withSubject } from './harness.js';
import { aRunRecord } from './run-fixtures.js';
import type { ContractOptions, RunLogSubject } from './types.js';

const P = 'player_game_summary';
const Q = 'team_defense_game_summary';

const aHold = (
  processorName: string,
  runDate: string,
  heldAt: number,
  waitingFor: readonly string[],
): Pick<HeldRun, 'processorName' | 'runDate' | 'heldAt' | 'reason' | 'waitingFor'> => ({
  processorName,
  runDate: isoDate(runDate),
  heldAt,
  reason: 'backfill_queued',
  waitingFor: waitingFor.map(isoDate),
});

const UNCLAIMED = { claimedBy: null, claimedAt: null, leaseUntil: null, claims: 0, resumeRunId: null } as const;
const LEASE = 60_000;

const ids = (rs: readonly RunRecord[]): string[] => rs.map((r) => r.runId);
const dates = (hs: readonly HeldRun[]): IsoDate[] => hs.map((h) => h.runDate);

/**
 * The `RunLog` contract: append idempotent on runId, runs oldest first with
 * processor/since/until/limit filters, hold records or refreshes (keeping
 * `heldAt`), held runs oldest run date first, `release` true for exactly one caller, and
 * resume claims: one winner, a lapsed lease taken over, finished only by the current claim.
 */
export const testRunLog = (opts: ContractOptions<RunLogSubject>): void => {
  contractDescribe('RunLog', opts, () => {
    runLogBadInput(opts);
    it('stores a run as given, metadata included', async () => {
      await withSubject(opts, async (s, clock) => {
        const run = aRunRecord('run-1', P, '2025-03-05', clock.now(), {
          outcome: 'skipped',
          skipReason: 'backfill_queued',
          metadata: {
            gap_size: 2,
            missing_dates: [isoDate('2025-03-01'), isoDate('2025-03-02')],
            decision: 'Backfill',
            nested: { a: [1, 2] },
          },
        });
        await s.runLog.append(run);
        expect(await s.runLog.runs({})).toEqual([run]);
        if (s.backdoor?.readRuns !== undefined) expect(await s.backdoor.readRuns()).toEqual([run]);
      });
    });

    it('is idempotent on runId, also when appends race', async () => {
      await withSubject(opts, async (s, clock) => {
        const run = aRunRecord('run-1', P, '2025-03-05', clock.now());
        await s.runLog.append(run);
        await s.runLog.append(run);
        const other = aRunRecord('run-2', P, '2025-03-06', clock.now() + 1);
        await Promise.all(Array.from({ length: 5 }, () => s.runLog.append(other)));
        expect(ids(await s.runLog.runs({}))).toEqual(['run-1', 'run-2']);
      });
    });

    it('lists runs oldest first, filtered by processor, since, until and limit', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.append(aRunRecord('c', P, '2025-03-03', t + 300));
        await s.runLog.append(aRunRecord('a', P, '2025-03-01', t + 100));
        await s.runLog.append(aRunRecord('q', Q, '2025-03-01', t + 150));
        await s.runLog.append(aRunRecord('b', P, '2025-03-02', t + 200));
        expect(ids(await s.runLog.runs({}))).toEqual(['a', 'q', 'b', 'c']);
        expect(ids(await s.runLog.runs({ processorName: P }))).toEqual(['a', 'b', 'c']);
        expect(ids(await s.runLog.runs({ since: t + 150 }))).toEqual(['q', 'b', 'c']);
        expect(ids(await s.runLog.runs({ until: t + 250 }))).toEqual(['a', 'q', 'b']);
        expect(ids(await s.runLog.runs({ processorName: P, since: t + 150, until: t + 250 }))).toEqual(['b']);
        const limited = await s.runLog.runs({ limit: 2 });
        expect(limited).toHaveLength(2);
        expect(limited.every((r, i) => i === 0 || (limited[i - 1] as RunRecord).startedAt <= r.startedAt)).toBe(true);
      });
    });

    it('lists the runs of some run dates, whenever they ran (runDateFrom, runDateTo, both inclusive)', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.append(aRunRecord('a', P, '2025-03-01', t + 100));
        await s.runLog.append(aRunRecord('b', P, '2025-03-02', t + 200));
        await s.runLog.append(aRunRecord('c', P, '2025-03-03', t + 300));
        await s.runLog.append(aRunRecord('q', Q, '2025-03-02', t + 350));
        // A rebuild of the 1st, long after: still a run of the 1st.
        await s.runLog.append(aRunRecord('a2', P, '2025-03-01', t + 400));
        expect(
          ids(await s.runLog.runs({ processorName: P, runDateFrom: isoDate('2025-03-01'), runDateTo: isoDate('2025-03-01') })),
        ).toEqual(['a', 'a2']);
        expect(ids(await s.runLog.runs({ runDateFrom: isoDate('2025-03-02') }))).toEqual(['b', 'c', 'q']);
        expect(ids(await s.runLog.runs({ processorName: P, runDateTo: isoDate('2025-03-02') }))).toEqual(['a', 'b', 'a2']);
        expect(ids(await s.runLog.runs({ processorName: P, since: t + 150, runDateTo: isoDate('2025-03-02') }))).toEqual(['b', 'a2']);
        expect(await s.runLog.runs({ runDateFrom: isoDate('2025-03-04') })).toEqual([]);
      });
    });

    it('lastBuilds (when offered): per date, the latest start and end of its succeeded runs since `since`, as runs() folds', async (ctx) => {
      await withSubject(opts, async (s, clock) => {
        const lastBuilds = s.runLog.lastBuilds?.bind(s.runLog);
        if (lastBuilds === undefined) return ctx.skip('this run log does not offer lastBuilds');
        const t = clock.now();
        const R = 'some_other_processor';
        const runs = [
          aRunRecord('old', P, '2025-03-04', t + 10), // before `since`: not counted
          aRunRecord('a', P, '2025-03-01', t + 100),
          aRunRecord('b-slow', P, '2025-03-02', t + 200, { finishedAt: t + 900 }),
          aRunRecord('q', Q, '2025-03-01', t + 250),
          aRunRecord('b-fast', P, '2025-03-02', t + 300, { finishedAt: t + 350 }),
          aRunRecord('a2', P, '2025-03-01', t + 400), // a rebuild of the 1st
          aRunRecord('c-failed', P, '2025-03-03', t + 450, { outcome: 'failed', errorMessage: 'boom' }),
          aRunRecord('a-failed', P, '2025-03-01', t + 500, { outcome: 'failed', errorMessage: 'boom' }),
          aRunRecord('a-held', P, '2025-03-01', t + 600, { outcome: 'skipped', skipReason: 'backfill_queued', metadata: { gap_size: 1 } }),
          aRunRecord('r', R, '2025-03-01', t + 700),
        ];
        for (const r of runs) await s.runLog.append(r);
        // A retried append changes nothing.
        await s.runLog.append(runs[1]!);
        const since = t + 50;
        const expected = [
          { processorName: P, runDate: isoDate('2025-03-01'), startedAt: t + 400, finishedAt: t + 650 },
          // Latest start and latest end, though they come from different runs.
          { processorName: P, runDate: isoDate('2025-03-02'), startedAt: t + 300, finishedAt: t + 900 },
          { processorName: Q, runDate: isoDate('2025-03-01'), startedAt: t + 250, finishedAt: t + 500 },
        ];
        expect(await lastBuilds({ processorNames: [Q, P], since })).toEqual(expected);
        // The fold of what runs() returns, which callers use when a store does not offer it.
        const folded = lastBuildsOf([
          ...(await s.runLog.runs({ processorName: P, since })),
          ...(await s.runLog.runs({ processorName: Q, since })),
        ]);
        expect(folded).toEqual(expected);
        expect(await lastBuilds({ processorNames: [P], since: t })).toEqual([
          expected[0],
          expected[1],
          { processorName: P, runDate: isoDate('2025-03-04'), startedAt: t + 10, finishedAt: t + 260 },
        ]);
        expect(await lastBuilds({ processorNames: [Q], since: t + 260 })).toEqual([]);
        expect(await lastBuilds({ processorNames: [], since })).toEqual([]);
        await expectInvalidInput(() => lastBuilds({ processorNames: [P], since: Number.NaN }), 'since');
      });
    });

    it('holds a run and refreshes it in place, keeping heldAt', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.hold(aHold(P, '2025-03-05', t, ['2025-03-01']));
        expect(await s.runLog.heldRuns({})).toEqual([
          {
            processorName: P,
            runDate: isoDate('2025-03-05'),
            heldAt: t,
            reason: 'backfill_queued',
            waitingFor: [isoDate('2025-03-01')],
            status: 'held',
            releasedAt: null,
            ...UNCLAIMED,
          },
        ]);
        await s.runLog.hold({ ...aHold(P, '2025-03-05', t + 500, ['2025-03-01', '2025-03-02']), reason: 'waiting_for_backfill' });
        const [h] = await s.runLog.heldRuns({});
        expect(h).toEqual({
          processorName: P,
          runDate: isoDate('2025-03-05'),
          heldAt: t,
          reason: 'waiting_for_backfill',
          waitingFor: [isoDate('2025-03-01'), isoDate('2025-03-02')],
          status: 'held',
          releasedAt: null,
          ...UNCLAIMED,
        });
        expect(await s.runLog.heldRuns({})).toHaveLength(1);
      });
    });

    it('lists held runs oldest run date first, filtered by processor and status', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.hold(aHold(P, '2025-03-07', t, ['2025-03-01']));
        await s.runLog.hold(aHold(P, '2025-03-05', t + 1, ['2025-03-01']));
        await s.runLog.hold(aHold(Q, '2025-03-06', t + 2, ['2025-03-02']));
        await s.runLog.hold(aHold(P, '2025-03-06', t + 3, ['2025-03-01']));
        expect(dates(await s.runLog.heldRuns({ processorName: P }))).toEqual(['2025-03-05', '2025-03-06', '2025-03-07']);
        expect(await s.runLog.release(P, isoDate('2025-03-06'), 'cancelled', t + 10)).toBe(true);
        expect(dates(await s.runLog.heldRuns({ processorName: P, status: 'held' }))).toEqual(['2025-03-05', '2025-03-07']);
        expect(dates(await s.runLog.heldRuns({ status: 'cancelled' }))).toEqual(['2025-03-06']);
        const all = await s.runLog.heldRuns({});
        expect(all).toHaveLength(4);
        expect(all.every((h, i) => i === 0 || (all[i - 1] as HeldRun).runDate <= h.runDate)).toBe(true);
      });
    });

    it('releases a held run exactly once, even when callers race', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.hold(aHold(P, '2025-03-05', t, ['2025-03-01']));
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => s.runLog.release(P, isoDate('2025-03-05'), 'resumed', t + 100 + i)),
        );
        expect(results.filter((x) => x)).toHaveLength(1);
        const [h] = await s.runLog.heldRuns({ processorName: P });
        expect(h?.status).toBe('resumed');
        expect(h?.releasedAt !== null && h?.releasedAt !== undefined && h.releasedAt >= t + 100).toBe(true);
        expect(await s.runLog.release(P, isoDate('2025-03-05'), 'cancelled', t + 200)).toBe(false);
        expect(await s.runLog.release(P, isoDate('2025-03-09'), 'resumed', t + 200)).toBe(false);
      });
    });

    it('holds a released run again as held, and it can be released again', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.hold(aHold(P, '2025-03-05', t, ['2025-03-01']));
        expect(await s.runLog.release(P, isoDate('2025-03-05'), 'resumed', t + 1)).toBe(true);
        await s.runLog.hold(aHold(P, '2025-03-05', t + 2, ['2025-03-03']));
        const [h] = await s.runLog.heldRuns({ processorName: P });
        expect([h?.status, h?.waitingFor]).toEqual(['held', [isoDate('2025-03-03')]]);
        expect(await s.runLog.release(P, isoDate('2025-03-05'), 'resumed', t + 3)).toBe(true);
      });
    });
    it('claims a held run for one resumer only, even when claims race', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.hold(aHold(P, '2025-03-05', t, ['2025-03-01']));
        const claims = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            s.runLog.claimResume(P, isoDate('2025-03-05'), { claimant: `w${i}`, at: t + 10, leaseMs: LEASE }),
          ),
        );
        const won = claims.filter((c) => c !== null);
        expect(won).toHaveLength(1);
        const claim = won[0]!;
        expect(claim).toMatchObject({ processorName: P, runDate: '2025-03-05', attempt: 1, claimedAt: t + 10, leaseUntil: t + 10 + LEASE });
        expect(await s.runLog.heldRuns({ status: 'resuming' })).toEqual([
          {
            ...aHold(P, '2025-03-05', t, ['2025-03-01']),
            status: 'resuming',
            releasedAt: null,
            claimedBy: claim.claimant,
            claimedAt: t + 10,
            leaseUntil: t + 10 + LEASE,
            claims: 1,
            resumeRunId: null,
          },
        ]);
        expect(await s.runLog.heldRuns({ status: 'held' })).toEqual([]);
        // A live claim is not taken, nor released under its claimant.
        expect(await s.runLog.claimResume(P, isoDate('2025-03-05'), { claimant: 'late', at: t + LEASE, leaseMs: LEASE })).toBeNull();
        expect(await s.runLog.release(P, isoDate('2025-03-05'), 'cancelled', t + 20)).toBe(false);
        expect(await s.runLog.claimResume(P, isoDate('2025-03-09'), { claimant: 'x', at: t, leaseMs: LEASE })).toBeNull();
      });
    });

    it('finishes a claim once, naming the re-run, and only for its claimant', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.hold(aHold(P, '2025-03-05', t, ['2025-03-01']));
        const claim = await s.runLog.claimResume(P, isoDate('2025-03-05'), { claimant: 'a', at: t + 1, leaseMs: LEASE });
        expect(claim).not.toBeNull();
        const forged = { ...claim!, attempt: claim!.attempt + 1 };
        expect(await s.runLog.finishResume(forged, { runId: 'run-forged', at: t + 2 })).toBe(false);
        const finishes = await Promise.all([
          s.runLog.finishResume(claim!, { runId: 'run-a', at: t + 3 }),
          s.runLog.finishResume(claim!, { runId: 'run-a', at: t + 3 }),
        ]);
        expect(finishes.filter((x) => x)).toHaveLength(1);
        const [h] = await s.runLog.heldRuns({ processorName: P });
        expect(h).toMatchObject({ status: 'resumed', releasedAt: t + 3, resumeRunId: 'run-a', claimedBy: 'a', claims: 1 });
        expect(await s.runLog.finishResume(claim!, { runId: 'run-b', at: t + 4 })).toBe(false);
        expect(await s.runLog.claimResume(P, isoDate('2025-03-05'), { claimant: 'b', at: t + 2 * LEASE, leaseMs: LEASE })).toBeNull();
      });
    });

    it('a resumer that dies holding a claim: the run stays visible, and after the lease another takes it over and finishes', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.hold(aHold(P, '2025-03-05', t, ['2025-03-01']));
        const dead = await s.runLog.claimResume(P, isoDate('2025-03-05'), { claimant: 'dead', at: t + 1, leaseMs: LEASE });
        expect(dead).not.toBeNull();
        // Before the lease ends nobody may take it; at its end one taker wins.
        expect(await s.runLog.claimResume(P, isoDate('2025-03-05'), { claimant: 'b', at: t + LEASE, leaseMs: LEASE })).toBeNull();
        const takers = await Promise.all(
          ['b', 'c', 'd'].map((who) =>
            s.runLog.claimResume(P, isoDate('2025-03-05'), { claimant: who, at: t + 1 + LEASE, leaseMs: LEASE }),
          ),
        );
        const won = takers.filter((c) => c !== null);
        expect(won).toHaveLength(1);
        const taken = won[0]!;
        expect(taken.attempt).toBeGreaterThan(dead!.attempt);
        expect(await s.runLog.heldRuns({ status: 'resuming' })).toMatchObject([
          { runDate: '2025-03-05', claimedBy: taken.claimant, leaseUntil: t + 1 + 2 * LEASE, claims: 2 },
        ]);
        // The dead claimant, come back late, can no longer finish.
        expect(await s.runLog.finishResume(dead!, { runId: 'run-dead', at: t + 2 + LEASE })).toBe(false);
        expect(await s.runLog.finishResume(taken, { runId: 'run-taken', at: t + 3 + LEASE })).toBe(true);
        expect(await s.runLog.heldRuns({ processorName: P })).toMatchObject([{ status: 'resumed', resumeRunId: 'run-taken' }]);
      });
    });

    it('a claimant also finishes after its lease, while nobody took the run over', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.hold(aHold(P, '2025-03-05', t, ['2025-03-01']));
        const slow = await s.runLog.claimResume(P, isoDate('2025-03-05'), { claimant: 'slow', at: t, leaseMs: LEASE });
        expect(await s.runLog.finishResume(slow!, { runId: 'run-slow', at: t + 5 * LEASE })).toBe(true);
      });
    });

    it('holding a claimed run again drops the claim: the old claim cannot finish, and a new claim comes after it', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.hold(aHold(P, '2025-03-05', t, ['2025-03-01']));
        const first = await s.runLog.claimResume(P, isoDate('2025-03-05'), { claimant: 'a', at: t + 1, leaseMs: LEASE });
        // The re-run found a new gap and held the run again.
        await s.runLog.hold(aHold(P, '2025-03-05', t + 2, ['2025-03-03']));
        const [h] = await s.runLog.heldRuns({ processorName: P });
        expect(h).toMatchObject({ status: 'held', heldAt: t + 2, claimedBy: null, claimedAt: null, leaseUntil: null, claims: 1 });
        expect(await s.runLog.finishResume(first!, { runId: 'run-a', at: t + 3 })).toBe(false);
        const second = await s.runLog.claimResume(P, isoDate('2025-03-05'), { claimant: 'b', at: t + 4, leaseMs: LEASE });
        expect(second?.attempt).toBe(2);
        expect(await s.runLog.finishResume(first!, { runId: 'run-a', at: t + 5 })).toBe(false);
        expect(await s.runLog.finishResume(second!, { runId: 'run-b', at: t + 5 })).toBe(true);
      });
    });
  });
};
