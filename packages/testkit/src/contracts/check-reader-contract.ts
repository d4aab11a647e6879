import { expect, it } from 'vitest';
import { isoDate, type CheckQuery, type IsoDate } from '@smart-backfill/core';
import { contractDescribe, sortStrings, withSubject } from './harness.js';
import { aNewRequest } from './request-fixtures.js';
import type { CheckReaderSubject, ContractOptions } from './types.js';

const P = 'player_game_summary';
const Q = 'team_defense_game_summary';
const D = (s: string): IsoDate => isoDate(s);
/** A 10-day window and the run it is for. */
const CHECK: CheckQuery = { processorName: P, start: D('2025-03-01'), end: D('2025-03-10'), runDate: D('2025-03-11') };

const anAlert = (alertKey: string, processorName: string, at: number, missing: readonly string[]) => ({
  alertKey,
  processorName,
  reason: 'gap_exceeds_threshold' as const,
  runDate: D('2025-03-11'),
  missingDates: missing.map(D),
  lastError: null,
  openedAt: at,
  at,
});

const aHold = (processorName: string, runDate: string, heldAt: number) => ({
  processorName,
  runDate: D(runDate),
  heldAt,
  reason: 'backfill_queued' as const,
  waitingFor: [D('2025-03-02')],
});

/**
 * The `CheckReader` contract: one call answers what the separate ports would for the same
 * check — the window as `readWindow` reads it, `forWindow`'s requests, the processor's open
 * alerts and resolved ones naming a window date, its held runs and the run date's own
 * record — and every call reads afresh.
 */
export const testCheckReader = (opts: ContractOptions<CheckReaderSubject>): void => {
  contractDescribe('CheckReader', opts, () => {
    it('returns the window as readWindow does', async () => {
      await withSubject(opts, async (s) => {
        await s.seedWindow({
          processorName: P,
          expected: [D('2025-03-02'), D('2025-03-05'), D('2025-03-12')],
          counts: { '2025-03-02': 7 },
        });
        const c = await s.reader.readCheck(CHECK);
        const w = await s.reader.readWindow(CHECK);
        const inWindow = (ds: readonly IsoDate[]) => sortStrings(new Set(ds.filter((d) => d >= CHECK.start && d <= CHECK.end)));
        expect(inWindow(c.expectedDates)).toEqual([D('2025-03-02'), D('2025-03-05')]);
        expect(inWindow(c.expectedDates)).toEqual(inWindow(w.expectedDates));
        expect(c.recordCounts.get(D('2025-03-02'))).toBe(7);
        expect(c.recordCounts.get(D('2025-03-05')) ?? 0).toBe(0);
      });
    });

    it("returns forWindow's requests: every status in the window, nothing outside it or of another processor", async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.tracker.create([
          aNewRequest('r-in', P, '2025-03-03', t),
          aNewRequest('r-done', P, '2025-03-04', t),
          aNewRequest('r-run-date', P, '2025-03-11', t),
          aNewRequest('r-other', Q, '2025-03-03', t),
        ]);
        const claimed = await s.tracker.apply('r-done', { _tag: 'Claim', at: t + 1, owner: 'w', leaseMs: 60_000 });
        expect(claimed._tag).toBe('Ok');
        await s.tracker.apply('r-done', { _tag: 'Complete', at: t + 2, attempt: 1 });
        const c = await s.reader.readCheck(CHECK);
        expect(sortStrings(c.requests.map((r) => r.requestId))).toEqual(['r-done', 'r-in']);
        expect(c.requests.find((r) => r.requestId === 'r-done')?.status).toBe('completed');
        expect(sortStrings(c.requests.map((r) => r.requestId))).toEqual(
          sortStrings((await s.tracker.forWindow(CHECK)).map((r) => r.requestId)),
        );
      });
    });

    it('returns open alerts and resolved ones naming a window date, newest first', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.alertLog.upsertOpen(anAlert(`${P}:2025-02-01`, P, t, ['2025-02-01'])); // open, older dates: kept
        await s.alertLog.upsertOpen(anAlert(`${P}:2025-03-04`, P, t + 1, ['2025-03-04'])); // resolved, in the window: kept
        await s.alertLog.resolve(`${P}:2025-03-04`, t + 2);
        await s.alertLog.upsertOpen(anAlert(`${P}:2025-01-05`, P, t + 3, ['2025-01-05'])); // resolved, outside: left out
        await s.alertLog.resolve(`${P}:2025-01-05`, t + 4);
        await s.alertLog.upsertOpen(anAlert(`${Q}:2025-03-04`, Q, t + 5, ['2025-03-04'])); // another processor
        const c = await s.reader.readCheck(CHECK);
        expect(c.alerts.map((a) => a.alertKey)).toEqual([`${P}:2025-03-04`, `${P}:2025-02-01`]);
        expect(c.alerts.map((a) => a.resolvedAt === null)).toEqual([false, true]);
      });
    });

    it("returns held runs and the run date's own record in any status, oldest first", async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.runLog.hold(aHold(P, '2025-03-08', t));
        await s.runLog.hold(aHold(P, '2025-03-11', t)); // the run date: released, still returned
        await s.runLog.release(P, D('2025-03-11'), 'cancelled', t + 1);
        await s.runLog.hold(aHold(P, '2025-03-09', t)); // released, not the run date: left out
        await s.runLog.release(P, D('2025-03-09'), 'resumed', t + 1);
        await s.runLog.hold(aHold(Q, '2025-03-08', t)); // another processor
        const c = await s.reader.readCheck(CHECK);
        expect(c.heldRuns.map((h) => [h.runDate, h.status])).toEqual([
          [D('2025-03-08'), 'held'],
          [D('2025-03-11'), 'cancelled'],
        ]);
        expect(c.heldRuns.every((h) => h.processorName === P)).toBe(true);
      });
    });

    it('reads afresh on every call: a change between two checks shows in the second', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        const before = await s.reader.readCheck(CHECK);
        expect([before.requests, before.alerts, before.heldRuns]).toEqual([[], [], []]);
        await s.tracker.create([aNewRequest('r1', P, '2025-03-05', t)]);
        await s.alertLog.upsertOpen(anAlert(`${P}:2025-03-05`, P, t, ['2025-03-05']));
        await s.runLog.hold(aHold(P, '2025-03-11', t));
        const after = await s.reader.readCheck(CHECK);
        expect(after.requests.map((r) => r.requestId)).toEqual(['r1']);
        expect(after.alerts.map((a) => a.alertKey)).toEqual([`${P}:2025-03-05`]);
        expect(after.heldRuns.map((h) => [h.runDate, h.status])).toEqual([[D('2025-03-11'), 'held']]);
      });
    });
  });
};
