import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyzeGaps,
  analyzeGapsDense,
  fromDenseAnalysis,
  fromEpochDays,
  isoDate,
  toDenseCounts,
  toDenseInput,
  toEpochDay,
  toEpochDays,
  type IsoDate,
} from '@smart-backfill/core';
import { scenarioArb } from './arbitraries.js';

describe('analyzeGapsDense', () => {
  it('agrees exactly with analyzeGaps (via toDenseInput)', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const input = { asOf: s.asOf, expectedDates: s.expected, recordCounts: s.counts, policy: s.policy };
        const a = analyzeGaps(input);
        const d = analyzeGapsDense(toDenseInput(input));
        expect(fromDenseAnalysis(d)).toEqual(a);
        expect(fromEpochDays(d.missingDays)).toEqual(a.missingDates);
        expect(d.gapSize).toBe(a.gapSize);
        expect(d.criticalGapSize).toBe(a.criticalGapSize);
        // Critical days are the newest suffix of the missing days.
        expect(fromEpochDays(d.missingDays.subarray(d.gapSize - d.criticalGapSize))).toEqual(a.criticalMissing);
      }),
    );
  });

  it('agrees with analyzeGaps on raw epoch-day inputs: number[] or Int32Array, any count column offset', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: -40, max: 40 }), fc.nat({ max: 150 }), fc.boolean(), (s, shift, width, typed) => {
        // A count column that starts anywhere near the window and may not cover it.
        const startDay = s.asOfDay - s.policy.lookbackDays + shift;
        const counts = toDenseCounts(s.counts, startDay, width);
        const covered = new Map<IsoDate, number>();
        for (let i = 0; i < width; i++) if (counts.values[i]! !== 0) covered.set(fromEpochDays([startDay + i])[0]!, counts.values[i]!);
        const expectedDays = typed ? toEpochDays(s.expected) : s.expected.map(toEpochDay);
        const d = analyzeGapsDense({ asOfDay: s.asOfDay, expectedDays, counts, policy: s.policy });
        const a = analyzeGaps({ asOf: s.asOf, expectedDates: s.expected, recordCounts: covered, policy: s.policy });
        expect(fromDenseAnalysis(d)).toEqual(a);
      }),
    );
  });

  it('results never share memory with a later call (scratch buffers are copied out)', () => {
    fc.assert(
      fc.property(scenarioArb, scenarioArb, (s1, s2) => {
        const in1 = toDenseInput({ asOf: s1.asOf, expectedDates: s1.expected, recordCounts: s1.counts, policy: s1.policy });
        const first = analyzeGapsDense(in1);
        const snapshot = { days: [...first.missingDays], counts: [...first.missingCounts] };
        analyzeGapsDense(toDenseInput({ asOf: s2.asOf, expectedDates: s2.expected, recordCounts: s2.counts, policy: s2.policy }));
        expect({ days: [...first.missingDays], counts: [...first.missingCounts] }).toEqual(snapshot);
        expect(analyzeGapsDense(in1)).toEqual(first);
      }),
    );
  });

  it('seed scenario without a string in sight', () => {
    const asOfDay = toEpochDay(isoDate('2025-11-16'));
    const d = analyzeGapsDense({
      asOfDay,
      expectedDays: Int32Array.of(asOfDay - 3, asOfDay - 2, asOfDay - 1, asOfDay),
      counts: { startDay: asOfDay - 3, values: Int32Array.of(250, 40, 0, 0) },
      policy: { lookbackDays: 30, criticalLookbackDays: 10, minRecordsPerDate: 100 },
    });
    expect([...d.missingDays]).toEqual([asOfDay - 2, asOfDay - 1]);
    expect([...d.missingCounts]).toEqual([40, 0]);
    expect(d.criticalGapSize).toBe(2);
    expect(fromEpochDays(d.missingDays)).toEqual(['2025-11-14', '2025-11-15']);
  });
});
