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

const level = (a: Assessment, signal: string) => a.signals.find((s) => s.signal === signal)?.level;
const check = (a: Assessment, item: string) => a.checklist.find((c) => c.item === item)!;
const only = (over: Partial<Record<'gapsPer30Days' | 'dependencyFailurePct' | 'manualBackfillMinutesPerWeek', Measurement>>) =>
  assess({ gapsPer30Days: null, dependencyFailurePct: null, manualBackfillMinutesPerWeek: null, ...over });

// Every signal measured, alternatives confirmed: the verdict follows the signals alone.
const full = (over: Partial<Record<'gapsPer30Days' | 'dependencyFailurePct' | 'manualBackfillMinutesPerWeek', number>>) =>
  assess({ gapsPer30Days: 0, dependencyFailurePct: 0, manualBackfillMinutesPerWeek: 0, ...over });

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
    const a = full({ gapsPer30Days: v });
    expect(level(a, 'gapsPer30Days')).toBe(want);
    // Over the implement line alone is not "implement": the checklist is not all ticked, so "continue monitoring".
    expect(a.verdict).toBe(want === 'implement' ? 'monitor' : want);
  });

  it.each([
    [0, 'not_needed'],
    [4.99, 'not_needed'],
    [5, 'monitor'],
    [10, 'monitor'],
    [10.01, 'implement'],
  ] as const)('%d percent dependency failures → %s', (v, want) => {
    expect(level(full({ dependencyFailurePct: v }), 'dependencyFailurePct')).toBe(want);
  });

  it.each([
    [0, 'not_needed'],
    [29.9, 'not_needed'],
    [30, 'monitor'],
    [60, 'monitor'],
    [60.5, 'implement'],
    [61, 'implement'],
  ] as const)('%d manual minutes/week → %s', (v, want) => {
    expect(level(full({ manualBackfillMinutesPerWeek: v }), 'manualBackfillMinutesPerWeek')).toBe(want);
  });
});

const m = fc.oneof(
  fc.constant(null),
  fc.constant({ value: null, reason: 'the target table could not be read' } as const),
  fc.double({ min: 0, max: 100, noNaN: true }),
);
const inputArb = fc.record({
  gapsPer30Days: m,
  dependencyFailurePct: m,
  manualBackfillMinutesPerWeek: m,
  minutesSavedPerWeek: fc.option(m, { nil: undefined }),
  simplerAlternativesConsidered: fc.option(fc.boolean(), { nil: undefined }),
});
const clean = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

describe('assess: one rule for the verdict and the checklist', () => {
  it('verdict IMPLEMENT ⇔ the checklist is all ticked ⇔ the checklist says proceed', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const a = assess(clean(i));
        const ticked = a.checklist.every((c) => c.status === 'passed');
        expect(a.verdict === 'implement').toBe(ticked);
        expect(a.checklistVerdict === 'proceed').toBe(a.verdict === 'implement');
      }),
    );
  });

  it('an unmeasured gap frequency is UNKNOWN, never NOT NEEDED, and says why', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const a = assess(clean(i));
        const gapsKnown = typeof i.gapsPer30Days === 'number';
        expect(a.verdict === 'unknown').toBe(!gapsKnown);
        if (a.verdict === 'unknown') {
          expect(a.unknownBecause.length).toBeGreaterThan(0);
          expect(a.unknownBecause[0]).toMatch(/^gap frequency not measured: /);
        } else expect(a.unknownBecause).toEqual([]);
        if (a.verdict === 'not_needed') {
          expect(gapsKnown).toBe(true);
          for (const s of a.signals) expect(['not_needed', 'unknown']).toContain(s.level);
        }
      }),
    );
  });

  it('MONITOR exactly when not all ticked and some measured signal reaches its monitor line', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const a = assess(clean(i));
        if (a.verdict === 'unknown' || a.verdict === 'implement') return;
        const reaches = a.signals.some((s) => s.level === 'monitor' || s.level === 'implement');
        expect(a.verdict).toBe(reaches ? 'monitor' : 'not_needed');
      }),
    );
  });

  it('every threshold line states the value and the threshold in the same unit', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const a = assess(clean(i));
        const comparisons = [
          ...a.signals.map((s) => [s.comparison, s.reason] as const),
          ...a.checklist.map((c) => [c.comparison, c.detail] as const),
        ];
        for (const [c, text] of comparisons) {
          if (c === null) continue;
          expect(text).toContain(c.text);
          // Every number in the comparison is followed by the comparison's unit, one per value and bound, and no number stands alone.
          const unit = c.unit.startsWith('%') ? c.unit : ` ${c.unit}`;
          const withUnit = c.text.split(unit);
          expect(withUnit.length - 1).toBe(1 + c.bounds.length);
          for (const piece of withUnit.slice(0, -1)) expect(piece).toMatch(/\d$/);
          expect(withUnit.map((piece) => piece.replace(/\d+(\.\d+)?$/, '')).join('')).not.toMatch(/\d/);
        }
      }),
    );
  });

  it('more gaps, failures or manual time never lower the verdict', () => {
    const RANK: Record<Verdict, number> = { unknown: -1, not_needed: 0, monitor: 1, implement: 2 };
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        fc.boolean(),
        (g, d, t, k, alt) => {
          const lo = assess({
            gapsPer30Days: g,
            dependencyFailurePct: d,
            manualBackfillMinutesPerWeek: t,
            simplerAlternativesConsidered: alt,
          });
          const hi = assess({
            gapsPer30Days: g + k,
            dependencyFailurePct: d + k,
            manualBackfillMinutesPerWeek: t + k,
            simplerAlternativesConsidered: alt,
          });
          expect(RANK[hi.verdict]).toBeGreaterThanOrEqual(RANK[lo.verdict]);
        },
      ),
    );
  });

  it('an unmeasured input says why and is named next to a NOT NEEDED', () => {
    const a = assess({
      gapsPer30Days: 1,
      dependencyFailurePct: { value: null, reason: 'no scheduled runs in the period' },
      manualBackfillMinutesPerWeek: null,
    });
    expect(a.verdict).toBe('not_needed');
    expect(a.reasons[0]).toBe(
      'not needed: every measured signal is under its monitor line (not measured: dependency failures, manual backfill time)',
    );
    expect(a.signals[1]).toMatchObject({ level: 'unknown', reason: 'dependency failures not measured: no scheduled runs in the period' });
    expect(check(a, 'dependency_failures_over_5_pct')).toMatchObject({
      status: 'unknown',
      detail: 'cannot tell: no scheduled runs in the period',
    });
    expect(check(a, 'manual_backfill_over_30_min_per_week').detail).toBe('cannot tell: no figure given');
    expect(only({ gapsPer30Days: Number.NaN }).verdict).toBe('unknown');
  });

  it('a target table it cannot read is UNKNOWN even when the other signals look fine', () => {
    const a = assess({
      gapsPer30Days: { value: null, reason: 'could not read the target table "orders_daily": no such table' },
      dependencyFailurePct: 0,
      manualBackfillMinutesPerWeek: 0,
    });
    expect(a.verdict).toBe('unknown');
    expect(a.unknownBecause).toEqual(['gap frequency not measured: could not read the target table "orders_daily": no such table']);
    expect(a.reasons[0]).toMatch(/^unknown: the gap frequency could not be measured/);
  });
});

describe('assess: the decision checklist', () => {
  it('shows the numbers behind each item in one unit, with exact boundaries', () => {
    const a = assess({ gapsPer30Days: 13, dependencyFailurePct: 5.1, manualBackfillMinutesPerWeek: 61 });
    expect(check(a, 'gap_frequency_over_3_per_week')).toMatchObject({
      status: 'passed',
      detail: '3.03 gaps/week > 3 gaps/week (13 gaps in 30 days × 7/30)',
    });
    expect(check(a, 'manual_backfill_over_30_min_per_week')).toMatchObject({ status: 'passed', detail: '61 min/week > 30 min/week' });
    expect(check(a, 'dependency_failures_over_5_pct')).toMatchObject({
      status: 'passed',
      detail: '5.1% of scheduled runs > 5% of scheduled runs',
    });
    expect(check(a, 'roi_over_1_hour_saved_per_week').status).toBe('passed');
    expect(check(a, 'simpler_alternatives_considered')).toMatchObject({ status: 'unknown' });
    expect(check(a, 'simpler_alternatives_considered').detail).toMatch(/cannot be computed/);
    // "If ANY unchecked: don't implement yet, continue monitoring" — and the verdict says the same.
    expect(a.checklistVerdict).toBe('not_yet');
    expect(a.verdict).toBe('monitor');
    expect(a.reasons[0]).toMatch(/over the seed's implement line, but the checklist is not all ticked \(Considered simpler alternatives\)/);
    const yes = assess({
      gapsPer30Days: 13,
      dependencyFailurePct: 5.1,
      manualBackfillMinutesPerWeek: 61,
      simplerAlternativesConsidered: true,
    });
    expect(yes.checklistVerdict).toBe('proceed');
    expect(yes.verdict).toBe('implement');

    const b = assess({
      gapsPer30Days: 12,
      dependencyFailurePct: 5,
      manualBackfillMinutesPerWeek: 30,
      minutesSavedPerWeek: 60,
      simplerAlternativesConsidered: false,
    });
    expect(b.checklist.map((c) => c.status)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed']);
    expect(check(b, 'gap_frequency_over_3_per_week').detail).toBe('2.8 gaps/week <= 3 gaps/week (12 gaps in 30 days × 7/30)');
    expect(check(b, 'roi_over_1_hour_saved_per_week').detail).toBe('60 min/week saved <= 60 min/week saved');
    expect(b.signals[1]?.reason).toBe(
      'dependency failures: 5% of scheduled runs is between 5% of scheduled runs and 10% of scheduled runs: borderline, monitor',
    );
  });

  it('the suggested policy comes from the same call', () => {
    const a = assess({
      gapsPer30Days: 2,
      dependencyFailurePct: null,
      manualBackfillMinutesPerWeek: null,
      policyHistory: { rowsPerDate: [300, 280], longestDependencyDays: 10 },
    });
    expect(a.suggestion).toEqual(suggestPolicy({ rowsPerDate: [300, 280], longestDependencyDays: 10 }));
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
