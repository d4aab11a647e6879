import { describe, expect, it } from 'vitest';
import { analyzeGaps, decide, DEFAULT_POLICY, isoDate } from '@smart-backfill/core';

describe('seed scenario', () => {
  it('Nov 15 missing, run on Nov 16 → backfill Nov 15 and hold', () => {
    const a = analyzeGaps({
      asOf: isoDate('2025-11-16'),
      expectedDates: [isoDate('2025-11-14'), isoDate('2025-11-15'), isoDate('2025-11-16')],
      recordCounts: { '2025-11-14': 250, '2025-11-16': 0 },
      policy: DEFAULT_POLICY,
    });
    expect(a.missingDates).toEqual(['2025-11-15']);
    expect(decide(a, DEFAULT_POLICY)).toEqual({ _tag: 'Backfill', toQueue: ['2025-11-15'], inFlight: [], holdRun: true });
  });
});
