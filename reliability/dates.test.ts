/**
 * Date edge cases: three simulated years (2027–2029, so Feb 29 2028) of daily
 * guarded runs under four time zones — DST in Los Angeles and London, Lord
 * Howe's half-hour DST, Kiritimati's UTC+14 — with the clock set to 02:30
 * *local* time each day (a time that does not exist on spring-forward days and
 * happens twice on fall-back days). Runs fail on seeded days; the guard and the
 * worker heal them. 0 dates missed, 0 processed twice, windows always exactly
 * `lookbackDays` long and never holding the run's own date.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { addDays, analyzeGaps, dateRange, diffDays, isoDate, toEpochDay, fromEpochDay, type IsoDate } from '@smart-backfill/core';
import { createWorker, processorRegistry, withSmartBackfill } from '@smart-backfill/engine';
import { createMemoryStore } from '@smart-backfill/memory';
import { ManualClock, seededRandom } from '@smart-backfill/testkit';
import { record } from './figures.js';

const ZONES = ['America/Los_Angeles', 'Australia/Lord_Howe', 'Pacific/Kiritimati', 'Europe/London'];
const FIRST = isoDate('2027-01-01');
const LAST = isoDate('2029-12-31');
const LOOKBACK = 30;
const originalTz = process.env['TZ'];
afterAll(() => {
  if (originalTz === undefined) delete process.env['TZ'];
  else process.env['TZ'] = originalTz;
});

/** 02:30 local time on `date` in the current TZ (Date's local constructor: shifted on DST days). */
const localRunInstant = (date: IsoDate): number => {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d, 2, 30).getTime();
};

describe.each(ZONES)('three years of daily runs under TZ=%s', (zone) => {
  it('0 missed or duplicate dates across DST and Feb 29 2028; every failed day healed once', async () => {
    process.env['TZ'] = zone;
    // the zone really is in effect for Date (Node re-reads TZ on assignment)
    const offsets = new Set([0, 90, 180, 270].map((doy) => new Date(2028, 0, 1 + doy).getTimezoneOffset()));
    if (zone !== 'Pacific/Kiritimati') expect(offsets.size).toBeGreaterThan(1);
    else expect([...offsets]).toEqual([-840]);

    const all = dateRange(FIRST, LAST);
    expect(all).toHaveLength(365 + 366 + 365);
    expect(all).toContain('2028-02-29');
    for (let i = 1; i < all.length; i++) expect(diffDays(all[i]!, all[i - 1]!)).toBe(1);

    const clock = new ManualClock(localRunInstant(FIRST));
    const store = createMemoryStore({ clock });
    store.setSchedule('daily', all);
    // a month of history before the first run
    for (const d of dateRange(addDays(FIRST, -LOOKBACK), addDays(FIRST, -1))) store.setCount('daily', d, 100);
    store.setSchedule('daily', [...dateRange(addDays(FIRST, -LOOKBACK), addDays(FIRST, -1)), ...all]);
    const random = seededRandom(`dates-${zone}`);
    const produced = new Map<IsoDate, number>();
    let failDays = 0;
    const guard = withSmartBackfill(
      {
        name: 'daily',
        run: async ({ date, isBackfill }: { date: IsoDate; isBackfill?: boolean }) => {
          if (isBackfill !== true && random.chance(0.03)) {
            failDays++;
            throw new Error(`source not ready for ${date}`);
          }
          produced.set(date, (produced.get(date) ?? 0) + 1);
          store.setCount('daily', date, 100);
        },
      },
      { ...store, policy: { lookbackDays: LOOKBACK, criticalLookbackDays: 10, minRecordsPerDate: 50, autoBackfillThreshold: 3 } },
    );
    const worker = createWorker({ ...store, registry: processorRegistry([guard]), leaseMs: 600_000 });

    const windows: string[] = [];
    let nonDateRunInstants = 0;
    for (const date of all) {
      const at = localRunInstant(date);
      if (at < clock.now()) nonDateRunInstants++; // never: local 02:30 moves forward every day
      clock.set(Math.max(at, clock.now()));
      const outcome = await guard.run({ date });
      if ('analysis' in outcome && outcome.analysis !== undefined) {
        const a = outcome.analysis;
        // the window is exactly LOOKBACK days, ends the day before, whatever the local clock says
        if (diffDays(a.windowEnd, a.windowStart) !== LOOKBACK - 1 || a.windowEnd !== addDays(date, -1))
          windows.push(`${date}: ${a.windowStart}..${a.windowEnd}`);
      }
      // the worker backfills what the guard queued; held runs resume
      for (let k = 0; k < 5; k++) {
        const t = await worker.runOnce();
        if (t.received === 0) break;
      }
    }
    // drain: a few more hours for retries
    for (let k = 0; k < 50; k++) {
      clock.advance(3_600_000);
      await worker.runOnce();
    }

    const missed = all.filter((d) => (produced.get(d) ?? 0) === 0);
    const twice = all.filter((d) => (produced.get(d) ?? 0) > 1);
    const reqs = store.requests();
    const perDate = new Map<string, number>();
    for (const r of reqs) perDate.set(r.date, (perDate.get(r.date) ?? 0) + 1);

    expect(windows).toEqual([]);
    expect(nonDateRunInstants).toBe(0);
    expect(missed).toEqual([]);
    expect(twice).toEqual([]);
    expect(produced.get(isoDate('2028-02-29'))).toBe(1);
    expect(reqs.filter((r) => r.status !== 'completed')).toEqual([]);
    expect([...perDate.values()].every((n) => n === 1)).toBe(true);
    expect(reqs.length).toBe(failDays); // exactly one backfill per failed day
    // the pure analysis agrees on the leap day in this zone too
    const leap = analyzeGaps({
      asOf: isoDate('2028-03-01'),
      expectedDates: ['2028-02-28', '2028-02-29'].map(isoDate),
      recordCounts: { '2028-02-28': 100 },
      policy: { lookbackDays: 2, criticalLookbackDays: 1, minRecordsPerDate: 50 },
    });
    expect(leap.missingDates).toEqual(['2028-02-29']);
    expect(fromEpochDay(toEpochDay(isoDate('2028-02-29')) + 1)).toBe('2028-03-01');
    record('dates', zone, {
      days: all.length,
      failedRuns: failDays,
      backfills: reqs.length,
      missed: missed.length,
      producedTwice: twice.length,
      badWindows: windows.length,
      leapDayProduced: produced.get(isoDate('2028-02-29')),
    });
  });
});
