import { expect, it } from 'vitest';
import {
  addDays,
  diagnoseSchedule,
  isoDate,
  isIsoDate,
  type IsoDate,
  type ScheduleWindowDescription,
  type WindowQuery,
} from '@smart-backfill/core';
import { scheduleBadInput, targetBadInput } from './bad-input.js';
import { contractDescribe, sortStrings, withSubject } from './harness.js';
import type { ContractOptions, ScheduleSubject, TargetSubject } from './types.js';

const P = 'player_game_summary';
const OTHER = 'team_defense_game_summary';
const D = (s: string): IsoDate => isoDate(s);
const inRange = (d: IsoDate, start: IsoDate, end: IsoDate): boolean => d >= start && d <= end;

/**
 * The `ScheduleSource` contract: expected dates for `[start, end]`, both ends
 * inclusive; order and duplicates free; dates outside the range may come back and
 * are ignored; status filtering and per-processor scoping where the adapter has them.
 */
export const testScheduleSource = (opts: ContractOptions<ScheduleSubject>): void => {
  contractDescribe('ScheduleSource', opts, () => {
    scheduleBadInput(opts);
    const expectedIn = async (s: ScheduleSubject, processorName: string, start: IsoDate, end: IsoDate): Promise<IsoDate[]> => {
      const got = await s.schedule.expectedDates({ processorName, start, end });
      for (const d of got) expect(isIsoDate(d), `expectedDates returned ${JSON.stringify(d)}, not a YYYY-MM-DD date`).toBe(true);
      return sortStrings(new Set(got.filter((d) => inRange(d, start, end))));
    };

    it('returns the seeded dates of the range, both ends inclusive', async () => {
      await withSubject(opts, async (s) => {
        const dates = ['2025-03-01', '2025-03-02', '2025-03-05', '2025-03-10'].map(D);
        await s.seed({ processorName: P, expected: dates.map((date) => ({ date })) });
        expect(await expectedIn(s, P, D('2025-03-01'), D('2025-03-10'))).toEqual(dates);
        expect(await expectedIn(s, P, D('2025-03-02'), D('2025-03-05'))).toEqual([D('2025-03-02'), D('2025-03-05')]);
        expect(await expectedIn(s, P, D('2025-03-05'), D('2025-03-05'))).toEqual([D('2025-03-05')]);
      });
    });

    it('ignores dates outside the range and returns nothing for an empty range', async () => {
      await withSubject(opts, async (s) => {
        await s.seed({ processorName: P, expected: ['2025-02-28', '2025-03-03', '2025-03-04', '2025-03-08'].map((d) => ({ date: D(d) })) });
        expect(await expectedIn(s, P, D('2025-03-01'), D('2025-03-07'))).toEqual([D('2025-03-03'), D('2025-03-04')]);
        expect(await expectedIn(s, P, D('2025-03-05'), D('2025-03-07'))).toEqual([]);
        expect(await expectedIn(s, P, D('2025-04-01'), D('2025-04-30'))).toEqual([]);
      });
    });

    it('handles a range across a year and a leap day', async () => {
      await withSubject(opts, async (s) => {
        const dates = ['2023-12-31', '2024-01-01', '2024-02-29', '2024-03-01'].map(D);
        await s.seed({ processorName: P, expected: dates.map((date) => ({ date })) });
        expect(await expectedIn(s, P, D('2023-12-31'), D('2024-03-01'))).toEqual(dates);
        expect(await expectedIn(s, P, D('2024-02-29'), D('2024-02-29'))).toEqual([D('2024-02-29')]);
      });
    });

    it('answers a 30-day window in one call with every scheduled date', async () => {
      await withSubject(opts, async (s) => {
        const start = D('2025-01-01');
        const all = Array.from({ length: 40 }, (_, i) => addDays(start, i)).filter((_, i) => i % 3 !== 1);
        await s.seed({ processorName: P, expected: all.map((date) => ({ date })) });
        const end = addDays(start, 29);
        expect(await expectedIn(s, P, start, end)).toEqual(all.filter((d) => d <= end));
      });
    });

    it('leaves out rows whose status is not accepted (when the adapter filters on status)', async (ctx) => {
      await withSubject(opts, async (s) => {
        if (s.statuses === undefined) return ctx.skip('adapter does not filter on status');
        const { accepted, rejected } = s.statuses;
        const rows = [
          ...accepted.map((status, i) => ({ date: addDays(D('2025-05-01'), i), status })),
          ...rejected.map((status, i) => ({ date: addDays(D('2025-05-11'), i), status })),
        ];
        await s.seed({ processorName: P, expected: rows });
        const got = await expectedIn(s, P, D('2025-05-01'), D('2025-05-31'));
        expect(got).toEqual(sortStrings(accepted.map((_, i) => addDays(D('2025-05-01'), i))));
      });
    });

    /** `describeWindow` of the source and, when the store has one, of its combined window reader: both must agree. */
    const describeBoth = async (s: ScheduleSubject, q: WindowQuery): Promise<ScheduleWindowDescription[]> => {
      const out: ScheduleWindowDescription[] = [];
      if (s.schedule.describeWindow !== undefined) out.push(await s.schedule.describeWindow(q));
      if (s.window !== undefined) {
        expect(typeof s.window.describeWindow, 'the window reader must describe a window like its schedule').toBe('function');
        out.push(await s.window.describeWindow!(q));
      }
      for (const d of out) expect(d.source.length > 0, 'describeWindow must name its source').toBe(true);
      return out;
    };

    it('describes a window without rows as empty (when the adapter can describe a window)', async (ctx) => {
      await withSubject(opts, async (s) => {
        if (s.schedule.describeWindow === undefined) return ctx.skip('adapter does not describe windows');
        await s.seed({ processorName: P, expected: [{ date: D('2025-02-27') }, { date: D('2025-04-02') }] });
        const q = { processorName: P, start: D('2025-03-01'), end: D('2025-03-31') };
        const all = await describeBoth(s, q);
        expect(all.length).toBeGreaterThan(0);
        for (const d of all) {
          expect(d.rowsInWindow).toBe(0);
          expect(diagnoseSchedule({ query: q, expectedCount: 0, description: d })._tag).toBe('Empty');
        }
      });
    });

    it('counts rows before the status filter and names every status found (when the adapter filters on status)', async (ctx) => {
      await withSubject(opts, async (s) => {
        if (s.schedule.describeWindow === undefined) return ctx.skip('adapter does not describe windows');
        if (s.statuses === undefined) return ctx.skip('adapter does not filter on status');
        const { accepted, rejected } = s.statuses;
        const rows = rejected.flatMap((status, i) => [0, 1].map((k) => ({ date: addDays(D('2025-06-01'), 2 * i + k), status })));
        await s.seed({ processorName: P, expected: [...rows, { date: D('2025-07-15'), status: accepted[0] }] });
        if (s.perProcessor === true) await s.seed({ processorName: OTHER, expected: [{ date: D('2025-06-01'), status: rejected[0] }] });
        const q = { processorName: P, start: D('2025-06-01'), end: D('2025-06-30') };
        expect(await expectedIn(s, P, q.start, q.end)).toEqual([]);
        const all = await describeBoth(s, q);
        expect(all.length).toBeGreaterThan(0);
        for (const d of all) {
          expect(d.rowsInWindow).toBe(rows.length);
          expect(d.statusFilter?.accepted).toEqual(accepted);
          const found = Object.fromEntries((d.statusFilter?.found ?? []).map((f) => [String(f.status), f.count]));
          expect(found).toEqual(Object.fromEntries(rejected.map((r) => [r, 2])));
          const diag = diagnoseSchedule({ query: q, expectedCount: 0, description: d });
          expect(diag._tag).toBe('NoneAccepted');
          for (const r of rejected) expect(diag._tag === 'NoneAccepted' && diag.message).toContain(`${JSON.stringify(r)} (2)`);
        }
      });
    });

    it("keeps each processor's schedule to itself (when schedules are per processor)", async (ctx) => {
      await withSubject(opts, async (s) => {
        if (s.perProcessor !== true) return ctx.skip('adapter serves one schedule for every processor');
        await s.seed({ processorName: P, expected: [{ date: D('2025-03-01') }] });
        await s.seed({ processorName: OTHER, expected: [{ date: D('2025-03-02') }] });
        expect(await expectedIn(s, P, D('2025-03-01'), D('2025-03-02'))).toEqual([D('2025-03-01')]);
        expect(await expectedIn(s, OTHER, D('2025-03-01'), D('2025-03-02'))).toEqual([D('2025-03-02')]);
      });
    });
  });
};

/**
 * The `TargetTable` contract: exact row counts per date in `[start, end]`, both
 * ends inclusive; dates without rows omitted or 0; nothing outside the range.
 */
export const testTargetTable = (opts: ContractOptions<TargetSubject>): void => {
  contractDescribe('TargetTable', opts, () => {
    targetBadInput(opts);
    const countsIn = async (s: TargetSubject, processorName: string, start: IsoDate, end: IsoDate): Promise<Record<string, number>> => {
      const got = await s.target.recordCounts({ processorName, start, end });
      const out: Record<string, number> = {};
      for (const [d, n] of got) {
        expect(isIsoDate(d), `recordCounts returned key ${JSON.stringify(d)}, not a YYYY-MM-DD date`).toBe(true);
        expect(inRange(d, start, end), `recordCounts returned ${d}, outside ${start}..${end}`).toBe(true);
        expect(Number.isInteger(n) && n >= 0, `count for ${d} must be a whole number >= 0, got ${String(n)}`).toBe(true);
        if (n > 0) out[d] = n;
      }
      return out;
    };

    it('counts rows per date, both ends of the range inclusive', async () => {
      await withSubject(opts, async (s) => {
        await s.seed({ processorName: P, counts: { '2025-03-01': 120, '2025-03-02': 7, '2025-03-04': 1, '2025-03-05': 250 } });
        expect(await countsIn(s, P, D('2025-03-01'), D('2025-03-05'))).toEqual({
          '2025-03-01': 120,
          '2025-03-02': 7,
          '2025-03-04': 1,
          '2025-03-05': 250,
        });
        expect(await countsIn(s, P, D('2025-03-02'), D('2025-03-04'))).toEqual({ '2025-03-02': 7, '2025-03-04': 1 });
      });
    });

    it('omits (or zeroes) dates without rows and ignores rows outside the range', async () => {
      await withSubject(opts, async (s) => {
        await s.seed({ processorName: P, counts: { '2025-02-28': 100, '2025-03-03': 5, '2025-03-08': 100 } });
        expect(await countsIn(s, P, D('2025-03-01'), D('2025-03-07'))).toEqual({ '2025-03-03': 5 });
        expect(await countsIn(s, P, D('2025-04-01'), D('2025-04-30'))).toEqual({});
      });
    });

    it('adds up rows written at different times for the same date', async () => {
      await withSubject(opts, async (s) => {
        await s.seed({ processorName: P, counts: { '2025-03-01': 40 } });
        await s.seed({ processorName: P, counts: { '2025-03-01': 70, '2025-03-02': 3 } });
        expect(await countsIn(s, P, D('2025-03-01'), D('2025-03-02'))).toEqual({ '2025-03-01': 110, '2025-03-02': 3 });
      });
    });

    it('handles a range across a year end and a leap day', async () => {
      await withSubject(opts, async (s) => {
        await s.seed({ processorName: P, counts: { '2023-12-31': 2, '2024-01-01': 3, '2024-02-29': 4 } });
        expect(await countsIn(s, P, D('2023-12-31'), D('2024-02-29'))).toEqual({ '2023-12-31': 2, '2024-01-01': 3, '2024-02-29': 4 });
      });
    });

    it("keeps each processor's rows to itself (when rows are per processor)", async (ctx) => {
      await withSubject(opts, async (s) => {
        if (s.perProcessor !== true) return ctx.skip('adapter serves one table for every processor');
        await s.seed({ processorName: P, counts: { '2025-03-01': 10 } });
        await s.seed({ processorName: OTHER, counts: { '2025-03-01': 20, '2025-03-02': 1 } });
        expect(await countsIn(s, P, D('2025-03-01'), D('2025-03-02'))).toEqual({ '2025-03-01': 10 });
        expect(await countsIn(s, OTHER, D('2025-03-01'), D('2025-03-02'))).toEqual({ '2025-03-01': 20, '2025-03-02': 1 });
      });
    });
  });
};
