import { afterEach, describe, expect, it } from 'vitest';
import { addDays, dateRange, isoDate } from '@smart-backfill/core';
import { cli } from './helpers.js';
import { at, reportStore, type ReportStore } from './report-fixture.js';

const P = 'daily_orders';
const TODAY = '2025-11-28';
// The 30-day window before TODAY: 2025-10-29 .. 2025-11-27.
const WINDOW = dateRange(isoDate('2025-10-29'), isoDate('2025-11-27'));

const stores: ReportStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.cleanup();
});

/** Every day of the window scheduled with 20 rows, except `missing` (no rows). */
const store = (missing: readonly string[] = []): ReportStore => {
  const fx = reportStore([{ name: P }]);
  stores.push(fx);
  fx.schedule(P, WINDOW);
  for (const d of WINDOW) if (!missing.includes(d)) fx.rows(P, d, 20);
  return fx;
};

interface AssessJson {
  processors: {
    processorName: string;
    assessment: {
      verdict: string;
      signals: { signal: string; value: number | null; level: string; reason: string }[];
      checklist: { item: string; status: string; detail: string }[];
    };
    notComputed: { signal: string; reason: string }[];
    gapFrequency: { gaps: number; missingNow: string[]; healedSince: string[]; expectedDates: number } | null;
    dependencyFailures: { runs: number; dependencyFailures: number; pct: number } | null;
    manualBackfill: { source: string; minutesPerWeek: number; manualRequests: number } | null;
    suggestion: {
      preset: string;
      policy: { minRecordsPerDate: number; lookbackDays: number; autoBackfillThreshold: number };
      reasons: string[];
    };
    nextSteps: string[];
  }[];
}

const assessJson = async (fx: ReportStore, extra: string[] = []) => {
  const r = await cli(['assess', P, '--today', TODAY, '--json', ...extra], { cwd: fx.dir });
  expect(r.errors).toEqual([]);
  expect(r.code).toBe(0);
  const p = r.json<AssessJson>().processors[0]!;
  const signal = (s: string) => p.assessment.signals.find((x) => x.signal === s)!;
  return { p, signal };
};

describe('assess: gap frequency from the schedule and target table (0–2 not needed, 3–5 monitor, > 5 implement)', () => {
  it.each([
    [2, 'not_needed'],
    [3, 'monitor'],
    [5, 'monitor'],
    [6, 'implement'],
  ])('%i missing dates in 30 days → %s', async (gaps, level) => {
    const missing = WINDOW.filter((_, i) => i % 4 === 1).slice(0, gaps);
    const { p, signal } = await assessJson(store(missing));
    expect(p.gapFrequency).toMatchObject({ gaps, expectedDates: 30, missingNow: missing, healedSince: [] });
    expect(signal('gapsPer30Days')).toMatchObject({ value: gaps, level });
    // Nothing else is known on a store smart-backfill never ran on: the gap check alone decides — and over the
    // implement line it still says MONITOR, as the checklist does, until every item is ticked.
    expect(p.assessment.verdict).toBe(level === 'implement' ? 'monitor' : level);
  });

  it('counts dates smart-backfill saw missing and healed since, and scales other windows to 30 days', async () => {
    const fx = store(['2025-11-03']);
    await fx.request(P, '2025-11-10', { status: 'completed', requestedAt: at('2025-11-11', 6) }); // 11-10 has its rows now
    await fx.run({
      processorName: P,
      runDate: isoDate('2025-11-20'),
      startedAt: at('2025-11-20', 6),
      outcome: 'skipped',
      skipReason: 'backfill_queued',
      metadata: { gap_size: 1, missing_dates: [isoDate('2025-11-19')] },
    });
    const { p, signal } = await assessJson(fx);
    expect(p.gapFrequency).toMatchObject({ gaps: 3, missingNow: ['2025-11-03'], healedSince: ['2025-11-10', '2025-11-19'] });
    expect(signal('gapsPer30Days').value).toBe(3);
    const half = await assessJson(fx, ['--days', '15']); // 2025-11-13 .. 11-27: one gap (11-19) in 15 days = 2 per 30
    expect(half.p.gapFrequency?.gaps).toBe(1);
    expect(half.signal('gapsPer30Days').value).toBe(2);
  });
});

describe('assess: dependency-failure rate from the run log (< 5% not needed, 5–10% monitor, > 10% implement)', () => {
  it.each([
    [21, 1, 'not_needed'], // 4.76%
    [20, 1, 'monitor'], // 5%
    [20, 2, 'monitor'], // 10%
    [19, 2, 'implement'], // 10.53%
  ])('%i runs, %i dependency failures → %s', async (runs, failures, level) => {
    const fx = store();
    for (let i = 0; i < runs; i++) {
      const day = WINDOW[i] as string;
      const failed = i < failures;
      await fx.run({
        processorName: P,
        runDate: isoDate(day),
        startedAt: at(addDays(isoDate(day), 1), 6), // the nightly run for a date runs the next morning
        ...(failed
          ? i % 2 === 0
            ? { outcome: 'failed' as const, errorMessage: 'Missing dependencies: box scores not loaded' }
            : { outcome: 'skipped' as const, skipReason: 'waiting_for_backfill' as const }
          : {}),
      });
    }
    const { p, signal } = await assessJson(fx);
    expect(p.dependencyFailures).toMatchObject({ runs, dependencyFailures: failures });
    expect(signal('dependencyFailurePct').value).toBeCloseTo((failures / runs) * 100, 10);
    expect(signal('dependencyFailurePct').level).toBe(level);
    expect(p.assessment.verdict).toBe(level === 'implement' ? 'monitor' : level); // no gaps, no manual data: this signal decides
    const item = p.assessment.checklist.find((c) => c.item === 'dependency_failures_over_5_pct')!;
    expect(item.status).toBe((failures / runs) * 100 > 5 ? 'passed' : 'failed');
  });
});

describe('assess: manual backfill time per week from manual requests (< 30 not needed, 30–60 monitor, > 60 implement)', () => {
  it.each([
    [119, 'not_needed'], // 29.75 min/week over 4 weeks
    [120, 'monitor'], // 30
    [240, 'monitor'], // 60
    [244, 'implement'], // 61
  ])('%i minutes of manual backfills in 28 days → %s', async (minutes, level) => {
    const fx = store();
    // Two manual backfills of dates outside the window (so they are not gaps of it), timed start to finish.
    const first = Math.floor(minutes / 2);
    await fx.request(P, '2025-09-01', {
      type: 'manual',
      status: 'completed',
      requestedAt: at('2025-11-10', 9),
      startedAt: at('2025-11-10', 9),
      finishedAt: at('2025-11-10', 9) + first * 60_000,
    });
    await fx.request(P, '2025-09-02', {
      type: 'manual',
      status: 'failed',
      requestedAt: at('2025-11-20', 9),
      startedAt: at('2025-11-20', 9),
      finishedAt: at('2025-11-20', 9) + (minutes - first) * 60_000,
    });
    // Automatic backfills take no person's time.
    await fx.request(P, '2025-09-03', { status: 'completed', requestedAt: at('2025-11-21', 9), finishedAt: at('2025-11-21', 12) });
    const { p, signal } = await assessJson(fx, ['--days', '28']);
    expect(p.manualBackfill).toMatchObject({ source: 'tracker', manualRequests: 2, minutesPerWeek: minutes / 4 });
    expect(signal('manualBackfillMinutesPerWeek')).toMatchObject({ value: minutes / 4, level });
    expect(p.assessment.verdict).toBe(level === 'implement' ? 'monitor' : level);
  });

  it('--manual-minutes gives the figure when a person tracked it', async () => {
    const { p, signal } = await assessJson(store(), ['--manual-minutes', '75']);
    expect(p.manualBackfill).toMatchObject({ source: 'option', minutesPerWeek: 75 });
    expect(signal('manualBackfillMinutesPerWeek').level).toBe('implement');
    expect(p.assessment.checklist.find((c) => c.item === 'roi_over_1_hour_saved_per_week')?.status).toBe('passed');
  });
});

describe('assess on a store smart-backfill was never used on (only a schedule and a target table)', () => {
  it('computes the gap check and says which checks it could not compute, and why', async () => {
    const fx = store(['2025-11-05', '2025-11-06', '2025-11-07', '2025-11-20']);
    const { p } = await assessJson(fx);
    expect(p.notComputed.map((n) => n.signal)).toEqual(['dependencyFailurePct', 'manualBackfillMinutesPerWeek']);
    expect(p.notComputed[0]?.reason).toMatch(/no scheduled runs of daily_orders in the run log/);
    expect(p.notComputed[1]?.reason).toMatch(/no backfill requests were ever tracked/);
    expect(p.dependencyFailures).toBeNull();
    expect(p.manualBackfill).toBeNull();

    const human = await cli(['assess', P, '--today', TODAY], { cwd: fx.dir });
    expect(human.code).toBe(0);
    const out = human.stdout;
    expect(out).toContain('daily_orders: is smart-backfill needed? last 30 days to 2025-11-28');
    expect(out).toMatch(/verdict: MONITOR/);
    expect(out).toMatch(
      /gap frequency: 4 gaps in 30 days is between 3 gaps in 30 days and 5 gaps in 30 days: borderline, monitor\s+\(4 gap date\(s\) of 30 scheduled from 2025-10-29 to 2025-11-27: 4 missing now, 0 healed since\)/,
    );
    expect(out).toMatch(/dependency failures not measured: no scheduled runs of daily_orders in the run log from 2025-10-29 to 2025-11-28/);
    expect(out).toMatch(/manual backfill time not measured: no backfill requests were ever tracked/);
    expect(out).toMatch(/\[ \] Monitoring shows gap frequency > 3\/week: 0\.93 gaps\/week <= 3 gaps\/week/);
    expect(out).toMatch(/decision checklist \(not all ticked: don't implement yet\)/);
    expect(out).toMatch(/\[\?\] Dependency failures > 5% of runs: cannot tell/);
    expect(out).toMatch(/- Don't implement yet: keep monitoring/);
    expect(out).toMatch(/- Dependency failures could not be measured: run daily_orders through `smart-backfill run daily_orders`/);
  });

  it('suggests policy values from the store: half the typical rows, a preset for the gap sizes, look-back over the longest dependency', async () => {
    const fx = reportStore([{ name: P, minRecordsPerDate: 100 }]);
    stores.push(fx);
    fx.schedule(P, WINDOW);
    const missing = new Set(['2025-11-03', '2025-11-04', '2025-11-05', '2025-11-17', '2025-11-18', '2025-11-19']);
    for (const [i, d] of WINDOW.entries()) if (!missing.has(d)) fx.rows(P, d, 200 + (i % 3) * 10); // median 210
    const { p } = await assessJson(fx, ['--dependency-days', '30']);
    expect(p.suggestion.policy).toMatchObject({ minRecordsPerDate: 105, lookbackDays: 35, autoBackfillThreshold: 3 });
    expect(p.suggestion.preset).toBe('balanced'); // two gaps of 3 dates each
    expect(p.nextSteps.at(-1)).toBe(
      'Start from this policy (balanced preset): {"lookbackDays":35,"criticalLookbackDays":10,"minRecordsPerDate":105,"autoBackfillThreshold":3}.',
    );
    expect(p.assessment.verdict).toBe('monitor'); // 6 gaps: over the implement line, the checklist not all ticked
  });

  it('bad options are named', async () => {
    const fx = store();
    const r = await cli(['assess', '--days', 'abc'], { cwd: fx.dir });
    expect(r.code).toBe(2);
    expect(r.errors[0]).toMatch(/--days: expected a whole number/);
    const u = await cli(['assess', 'nope'], { cwd: fx.dir });
    expect(u.code).toBe(2);
    expect(u.errors[0]).toMatch(/unknown processor "nope"/);
    const m = await cli(['assess', '--manual-minutes', '-3'], { cwd: fx.dir });
    expect(m.code).toBe(2);
  });
});
