import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assess,
  DEFAULT_POLICY,
  suggestPolicy,
  validatePolicy,
  type Assessment,
  type Measurement,
  type Verdict,
} from '@smart-backfill/core';

const RANK: Record<Verdict, number> = { not_needed: 0, monitor: 1, implement: 2 };
const level = (a: Assessment, signal: string) => a.signals.find((s) => s.signal === signal)?.level;
const check = (a: Assessment, item: string) => a.checklist.find((c) => c.item === item)!;
const only = (over: Partial<Record<'gapsPer30Days' | 'dependencyFailurePct' | 'manualBackfillMinutesPerWeek', Measurement>>) =>
  assess({ gapsPer30Days: null, dependencyFailurePct: null, manualBackfillMinutesPerWeek: null, ...over });

describe('assess: signal boundaries are exact', () => {
  it.each([
    [0, 'not_needed'],
    [2, 'not_needed'],
    [2.9, 'not_needed'],
    [3, 'monitor'],
    [5, 'monitor'],
    [5.01, 'implement'],
    [6, 'implement'],
  ] as const)('%d gaps in 30 days → %s', (v, want) => {
    const a = only({ gapsPer30Days: v });
    expect(level(a, 'gapsPer30Days')).toBe(want);
    expect(a.verdict).toBe(want);
  });

  it.each([
    [0, 'not_needed'],
    [4.99, 'not_needed'],
    [5, 'monitor'],
    [10, 'monitor'],
    [10.01, 'implement'],
  ] as const)('%d%% dependency failures → %s', (v, want) => {
    expect(only({ dependencyFailurePct: v }).verdict).toBe(want);
  });

  it.each([
    [0, 'not_needed'],
    [29.9, 'not_needed'],
    [30, 'monitor'],
    [60, 'monitor'],
    [60.5, 'implement'],
    [61, 'implement'],
  ] as const)('%d manual minutes/week → %s', (v, want) => {
    expect(only({ manualBackfillMinutesPerWeek: v }).verdict).toBe(want);
  });
});

describe('assess: combining signals', () => {
  const m = fc.oneof(fc.constant(null), fc.double({ min: 0, max: 100, noNaN: true }));

  it('the strongest measured signal wins; nothing measured → monitor', () => {
    fc.assert(
      fc.property(m, m, m, (g, d, t) => {
        const a = assess({ gapsPer30Days: g, dependencyFailurePct: d, manualBackfillMinutesPerWeek: t });
        const known = a.signals.filter((s) => s.level !== 'unknown').map((s) => RANK[s.level as Verdict]);
        expect(RANK[a.verdict]).toBe(known.length === 0 ? RANK.monitor : Math.max(...known));
        expect(a.reasons.length).toBeGreaterThanOrEqual(3);
      }),
    );
  });

  it('more gaps, failures or manual time never lower the verdict', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        (g, d, t, k) => {
          const lo = assess({ gapsPer30Days: g, dependencyFailurePct: d, manualBackfillMinutesPerWeek: t });
          const hi = assess({ gapsPer30Days: g + k, dependencyFailurePct: d + k, manualBackfillMinutesPerWeek: t + k });
          expect(RANK[hi.verdict]).toBeGreaterThanOrEqual(RANK[lo.verdict]);
        },
      ),
    );
  });

  it('an unmeasured input says why, and does not count', () => {
    const a = assess({
      gapsPer30Days: { value: null, reason: 'no schedule table configured' },
      dependencyFailurePct: 2,
      manualBackfillMinutesPerWeek: null,
    });
    expect(a.verdict).toBe('not_needed');
    expect(a.signals[0]).toEqual({
      signal: 'gapsPer30Days',
      value: null,
      level: 'unknown',
      reason: 'gapsPer30Days unknown: no schedule table configured',
    });
    expect(check(a, 'gap_frequency_over_3_per_week')).toMatchObject({
      status: 'unknown',
      detail: 'cannot tell: no schedule table configured',
    });
    expect(check(a, 'manual_backfill_over_30_min_per_week').detail).toBe('cannot tell: not measured');
    expect(only({ gapsPer30Days: Number.NaN }).signals[0]?.level).toBe('unknown');
    expect(only({}).verdict).toBe('monitor');
    expect(only({}).reasons[0]).toMatch(/no signal could be measured/);
  });
});

describe('assess: the decision checklist', () => {
  it('shows the numbers behind each item, with exact boundaries', () => {
    const a = assess({ gapsPer30Days: 13, dependencyFailurePct: 5.1, manualBackfillMinutesPerWeek: 61 });
    expect(check(a, 'gap_frequency_over_3_per_week')).toMatchObject({
      status: 'passed',
      detail: '3.03 gaps/week (13 in 30 days × 7/30) > 3',
    });
    expect(check(a, 'manual_backfill_over_30_min_per_week')).toMatchObject({ status: 'passed', detail: '61 min/week > 30' });
    expect(check(a, 'dependency_failures_over_5_pct')).toMatchObject({ status: 'passed', detail: '5.1% > 5%' });
    expect(check(a, 'roi_over_1_hour_saved_per_week').status).toBe('passed');
    expect(check(a, 'simpler_alternatives_considered')).toMatchObject({ status: 'unknown' });
    expect(check(a, 'simpler_alternatives_considered').detail).toMatch(/cannot be computed/);
    expect(a.verdict).toBe('implement');
    expect(a.checklistVerdict).toBe('not_yet'); // "If ANY unchecked: don't implement yet"
    expect(
      assess({ gapsPer30Days: 13, dependencyFailurePct: 5.1, manualBackfillMinutesPerWeek: 61, simplerAlternativesConsidered: true })
        .checklistVerdict,
    ).toBe('proceed');

    const b = assess({
      gapsPer30Days: 12,
      dependencyFailurePct: 5,
      manualBackfillMinutesPerWeek: 30,
      minutesSavedPerWeek: 60,
      simplerAlternativesConsidered: false,
    });
    expect(b.checklist.map((c) => c.status)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed']);
    expect(check(b, 'gap_frequency_over_3_per_week').detail).toBe('2.8 gaps/week (12 in 30 days × 7/30) <= 3');
    expect(check(b, 'roi_over_1_hour_saved_per_week').detail).toBe('60 min/week saved <= 60');
  });
});

describe('suggestPolicy', () => {
  it('minRecordsPerDate ≈ 50% of the median filled day', () => {
    expect(suggestPolicy({ rowsPerDate: [300, 0, 280, 320, 0] }).policy.minRecordsPerDate).toBe(150);
    expect(suggestPolicy({ rowsPerDate: [20, 30] }).policy.minRecordsPerDate).toBe(12);
    expect(suggestPolicy({ rowsPerDate: [1] }).policy.minRecordsPerDate).toBe(1);
    expect(suggestPolicy({ rowsPerDate: [] }).policy.minRecordsPerDate).toBe(DEFAULT_POLICY.minRecordsPerDate);
  });

  it('picks the smallest preset that auto-heals the 90th-percentile gap', () => {
    const preset = (gapSizes: number[]) => suggestPolicy({ rowsPerDate: [200], gapSizes }).preset;
    expect(preset([])).toBe('balanced');
    expect(preset([1, 1, 2, 1, 2, 1, 1, 1, 2, 1])).toBe('conservative');
    expect(preset([1, 1, 1, 1, 1, 1, 1, 1, 3, 3])).toBe('balanced');
    expect(preset([1, 1, 1, 1, 1, 1, 1, 1, 1, 9])).toBe('conservative'); // one outlier in ten escalates
    expect(preset([1, 1, 1, 1, 1, 1, 1, 1, 4, 9])).toBe('aggressive');
    const big = suggestPolicy({ rowsPerDate: [200], gapSizes: [12] });
    expect(big.policy.autoBackfillThreshold).toBe(7);
    expect(big.reasons.join('\n')).toMatch(/gaps over 7 dates will still escalate/);
  });

  it('lookbackDays covers the longest dependency plus 5 days', () => {
    expect(suggestPolicy({ rowsPerDate: [200], longestDependencyDays: 30 }).policy.lookbackDays).toBe(35);
    expect(suggestPolicy({ rowsPerDate: [200], longestDependencyDays: 10 }).policy.lookbackDays).toBe(15);
    const short = suggestPolicy({ rowsPerDate: [200], longestDependencyDays: 2 });
    expect(short.policy).toMatchObject({ lookbackDays: 7, criticalLookbackDays: 7 });
  });

  it('always suggests a valid policy and explains every field', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 5000 })),
        fc.array(fc.nat({ max: 40 })),
        fc.option(fc.nat({ max: 400 }), { nil: undefined }),
        (rowsPerDate, gapSizes, dep) => {
          const s = suggestPolicy(dep === undefined ? { rowsPerDate, gapSizes } : { rowsPerDate, gapSizes, longestDependencyDays: dep });
          expect(validatePolicy(s.policy)).toEqual({ _tag: 'Ok', value: s.policy });
          expect(s.reasons.length).toBeGreaterThanOrEqual(3);
        },
      ),
    );
  });
});
