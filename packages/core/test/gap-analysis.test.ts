import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  analyzeGaps,
  analyzeRange,
  DEFAULT_POLICY,
  diffDays,
  fromEpochDay,
  isoDate,
  toEpochDay,
  toRuns,
  type AnalyzeGapsInput,
  type GapAnalysis,
  type IsoDate,
  type RecordCounts,
} from '@smart-backfill/core';
import { scenarioArb, type Scenario } from './arbitraries.js';

const analyze = (s: Scenario, counts: RecordCounts = s.counts, expected: Iterable<IsoDate> = s.expected): GapAnalysis =>
  analyzeGaps({ asOf: s.asOf, expectedDates: expected, recordCounts: counts, policy: s.policy });

/** The seed's logic spelled out naively (with our window end), as an oracle. */
const naive = (s: Scenario) => {
  const start = addDays(s.asOf, -s.policy.lookbackDays);
  const end = addDays(s.asOf, -1);
  const crit = addDays(s.asOf, -s.policy.criticalLookbackDays);
  const inWindow = [...new Set(s.expected)].filter((d) => d >= start && d <= end).sort();
  const missing = inWindow.filter((d) => (s.counts.get(d) ?? 0) < s.policy.minRecordsPerDate);
  return { start, end, crit, expectedCount: inWindow.length, missing, critical: missing.filter((d) => d >= crit) };
};

const shapes = (counts: Map<IsoDate, number>): RecordCounts[] => [
  counts,
  Object.fromEntries(counts),
  [...counts.entries()],
  new Set(counts.entries()) as unknown as RecordCounts,
];

describe('analyzeGaps properties', () => {
  it('matches the naive oracle', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const a = analyze(s);
        const o = naive(s);
        expect([a.windowStart, a.windowEnd, a.criticalStart]).toEqual([o.start, o.end, o.crit]);
        expect(a.expectedCount).toBe(o.expectedCount);
        expect(a.missingDates).toEqual(o.missing);
        expect(a.criticalMissing).toEqual(o.critical);
        expect(a.gapSize).toBe(o.missing.length);
        expect(a.criticalGapSize).toBe(o.critical.length);
        expect(a.hasGaps).toBe(o.missing.length > 0);
      }),
    );
  });

  it('missing ⊆ expected ∩ window, ascending and unique; critical ⊆ missing', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const a = analyze(s);
        const expected = new Set(s.expected);
        for (const d of a.missingDates) {
          expect(expected.has(d)).toBe(true);
          expect(d >= a.windowStart && d <= a.windowEnd).toBe(true);
          expect(d < s.asOf).toBe(true);
        }
        for (let i = 1; i < a.missingDates.length; i++) expect(a.missingDates[i - 1]! < a.missingDates[i]!).toBe(true);
        expect(a.criticalMissing.every((d) => a.missingDates.includes(d) && d >= a.criticalStart)).toBe(true);
        expect(diffDays(a.windowEnd, a.windowStart)).toBe(s.policy.lookbackDays - 1);
      }),
    );
  });

  it('absent ∪ incomplete = missing, disjoint, with the counts', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const a = analyze(s);
        const inc = a.incompleteDates.map((x) => x.date);
        expect([...a.absentDates, ...inc].sort()).toEqual(a.missingDates);
        expect(a.absentDates.filter((d) => inc.includes(d))).toEqual([]);
        for (const d of a.absentDates) expect(s.counts.get(d) ?? 0).toBe(0);
        for (const x of a.incompleteDates) {
          expect(x.count).toBe(s.counts.get(x.date));
          expect(x.count > 0 && x.count < s.policy.minRecordsPerDate).toBe(true);
        }
      }),
    );
  });

  it('raising minRecordsPerDate never shrinks missingDates', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat({ max: 100 }), (s, extra) => {
        const lo = analyze(s);
        const hi = analyzeGaps({
          asOf: s.asOf,
          expectedDates: s.expected,
          recordCounts: s.counts,
          policy: { ...s.policy, minRecordsPerDate: s.policy.minRecordsPerDate + extra },
        });
        expect(lo.missingDates.every((d) => hi.missingDates.includes(d))).toBe(true);
      }),
    );
  });

  it('shifting every date by k shifts every output by k', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: -1500, max: 1500 }), (s, k) => {
        const sh = (d: IsoDate) => addDays(d, k);
        const a = analyze(s);
        const b = analyzeGaps({
          asOf: sh(s.asOf),
          expectedDates: s.expected.map(sh),
          recordCounts: new Map([...s.counts].map(([d, n]) => [sh(d), n] as const)),
          policy: s.policy,
        });
        expect(b.windowStart).toBe(sh(a.windowStart));
        expect(b.windowEnd).toBe(sh(a.windowEnd));
        expect(b.criticalStart).toBe(sh(a.criticalStart));
        expect(b.missingDates).toEqual(a.missingDates.map(sh));
        expect(b.absentDates).toEqual(a.absentDates.map(sh));
        expect(b.incompleteDates).toEqual(a.incompleteDates.map((x) => ({ date: sh(x.date), count: x.count })));
        expect(b.criticalMissing).toEqual(a.criticalMissing.map(sh));
        expect(b.runs).toEqual(a.runs.map((r) => ({ start: sh(r.start), end: sh(r.end), days: r.days })));
      }),
    );
  });

  it('runs partition the missing dates into maximal contiguous stretches', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const a = analyze(s);
        const flat = a.runs.flatMap((r) => {
          expect(diffDays(r.end, r.start) + 1).toBe(r.days);
          return Array.from({ length: r.days }, (_, i) => addDays(r.start, i));
        });
        expect(flat).toEqual(a.missingDates);
        for (let i = 1; i < a.runs.length; i++) expect(diffDays(a.runs[i]!.start, a.runs[i - 1]!.end)).toBeGreaterThan(1);
        expect(toRuns(a.missingDates)).toEqual(a.runs);
      }),
    );
  });

  it('input shape (array/Set/iterator, Map/record/pairs) and order never change the result', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const base = analyze(s);
        function* gen() {
          yield* s.expected;
        }
        for (const counts of shapes(s.counts)) {
          expect(analyze(s, counts)).toEqual(base);
          expect(analyze(s, counts, new Set(s.expected))).toEqual(base);
          expect(analyze(s, counts, gen())).toEqual(base);
          expect(analyze(s, counts, [...s.expected].reverse())).toEqual(base);
          expect(analyze(s, counts, [...s.expected].sort())).toEqual(base);
        }
      }),
    );
  });

  it('counts for unexpected dates and expected dates outside the window are ignored', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat({ max: 300 }), (s, n) => {
        const base = analyze(s);
        const counts = new Map(s.counts);
        const outside = addDays(s.asOf, -s.policy.lookbackDays - 1 - (n % 5));
        counts.set(addDays(s.asOf, 3), n);
        expect(analyze(s, counts, [...s.expected, s.asOf, outside, addDays(s.asOf, 2)])).toEqual(base);
      }),
    );
  });

  it('is linear: 100k expected dates and 100k counts take one pass', () => {
    const asOf = isoDate('2025-11-16');
    const expected = Array.from({ length: 100_000 }, (_, i) => fromEpochDay(toEpochDay(asOf) - 1 - (i % 400)));
    const counts = Object.fromEntries(expected.slice(0, 400).map((d, i) => [d, i % 50 === 0 ? 0 : 200]));
    const a = analyzeGaps({ asOf, expectedDates: expected, recordCounts: counts, policy: { ...DEFAULT_POLICY, lookbackDays: 365 } });
    expect(a.expectedCount).toBe(365);
    expect(a.gapSize).toBe(expected.slice(0, 365).filter((_, i) => i % 50 === 0).length);
  });
});

describe('analyzeGaps examples', () => {
  const base: Omit<AnalyzeGapsInput, 'expectedDates' | 'recordCounts'> = { asOf: isoDate('2025-11-16'), policy: DEFAULT_POLICY };

  it('seed scenario: Nov 15 missing, run on Nov 16', () => {
    const a = analyzeGaps({
      ...base,
      expectedDates: [isoDate('2025-11-13'), isoDate('2025-11-14'), isoDate('2025-11-15'), isoDate('2025-11-16')],
      recordCounts: { '2025-11-13': 250, '2025-11-14': 40 },
    });
    expect(a).toEqual({
      asOf: '2025-11-16',
      windowStart: '2025-10-17',
      windowEnd: '2025-11-15',
      criticalStart: '2025-11-06',
      expectedCount: 3,
      missingDates: ['2025-11-14', '2025-11-15'],
      absentDates: ['2025-11-15'],
      incompleteDates: [{ date: '2025-11-14', count: 40 }],
      criticalMissing: ['2025-11-14', '2025-11-15'],
      gapSize: 2,
      criticalGapSize: 2,
      hasGaps: true,
      runs: [{ start: '2025-11-14', end: '2025-11-15', days: 2 }],
    });
  });

  it("the window excludes the run's own date (the seed's window included it, so every run saw its own date missing)", () => {
    const a = analyzeGaps({ ...base, expectedDates: [isoDate('2025-11-16')], recordCounts: {} });
    expect(a.hasGaps).toBe(false);
    expect(a.expectedCount).toBe(0);
    // The window's first day is asOf − lookbackDays, inclusive; the day before is outside.
    const edge = analyzeGaps({ ...base, expectedDates: [isoDate('2025-10-16'), isoDate('2025-10-17')], recordCounts: {} });
    expect(edge.missingDates).toEqual(['2025-10-17']);
    expect(edge.criticalMissing).toEqual([]);
  });

  it('critical window starts at asOf − criticalLookbackDays, inclusive', () => {
    const a = analyzeGaps({ ...base, expectedDates: [isoDate('2025-11-05'), isoDate('2025-11-06')], recordCounts: {} });
    expect(a.criticalMissing).toEqual(['2025-11-06']);
    expect(a.runs).toEqual([{ start: '2025-11-05', end: '2025-11-06', days: 2 }]);
  });

  it('exactly minRecordsPerDate rows is enough', () => {
    const a = analyzeGaps({
      ...base,
      expectedDates: [isoDate('2025-11-10'), isoDate('2025-11-11')],
      recordCounts: { '2025-11-10': 100, '2025-11-11': 99 },
    });
    expect(a.missingDates).toEqual(['2025-11-11']);
  });
});

describe('analyzeRange', () => {
  it('judges every date of the range, both ends included, and nothing outside it', () => {
    const start = isoDate('2025-11-10');
    const end = isoDate('2025-11-14');
    const a = analyzeRange({
      start,
      end,
      expectedDates: [addDays(start, -1), start, addDays(start, 2), end, addDays(end, 1)],
      recordCounts: { [addDays(start, 2)]: 100 },
      policy: { minRecordsPerDate: 100 },
    });
    expect(a.missingDates).toEqual([start, end]);
    expect(a.expectedCount).toBe(3);
    // Nothing is critical unless asked; asked for more days than the range, every missing date is.
    expect(a.criticalMissing).toEqual([]);
    const wide = analyzeRange({
      start,
      end,
      expectedDates: [start, end],
      recordCounts: {},
      policy: { minRecordsPerDate: 1, criticalLookbackDays: 30 },
    });
    expect(wide.criticalMissing).toEqual([start, end]);
    expect(wide.criticalStart).toBe(start);
  });
});
