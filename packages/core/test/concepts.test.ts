import { describe, expect, it } from 'vitest';
import { analyzeGaps, decide, DEFAULT_POLICY, isoDate, POLICY_PRESETS } from '@smart-backfill/core';

// The worked example of docs/concepts.md, number for number.
describe('docs/concepts.md worked example', () => {
  const d = isoDate;
  const asOf = d('2025-11-16');
  const schedule = [
    '2025-10-14',
    '2025-10-18',
    '2025-10-22',
    '2025-10-25',
    '2025-10-29',
    '2025-11-01',
    '2025-11-05',
    '2025-11-08',
    '2025-11-12',
    '2025-11-14',
    '2025-11-15',
    '2025-11-16',
  ].map(d);
  const counts: Record<string, number> = Object.fromEntries(schedule.map((x) => [x, 240]));
  delete counts['2025-10-25'];
  delete counts['2025-11-15'];
  delete counts['2025-11-16'];
  counts['2025-11-14'] = 40;
  const a = analyzeGaps({ asOf, expectedDates: schedule, recordCounts: counts, policy: DEFAULT_POLICY });

  it('analysis', () => {
    expect(a).toEqual({
      asOf: '2025-11-16',
      windowStart: '2025-10-17',
      windowEnd: '2025-11-15',
      criticalStart: '2025-11-06',
      expectedCount: 10,
      missingDates: ['2025-10-25', '2025-11-14', '2025-11-15'],
      absentDates: ['2025-10-25', '2025-11-15'],
      incompleteDates: [{ date: '2025-11-14', count: 40 }],
      criticalMissing: ['2025-11-14', '2025-11-15'],
      gapSize: 3,
      criticalGapSize: 2,
      hasGaps: true,
      runs: [
        { start: '2025-10-25', end: '2025-10-25', days: 1 },
        { start: '2025-11-14', end: '2025-11-15', days: 2 },
      ],
    });
  });

  it('decisions', () => {
    expect(decide(a, DEFAULT_POLICY)).toEqual({
      _tag: 'Backfill',
      toQueue: ['2025-10-25', '2025-11-14', '2025-11-15'],
      inFlight: [],
      holdRun: true,
    });
    expect(decide(a, DEFAULT_POLICY, { activeRequests: [d('2025-10-25')] })).toEqual({
      _tag: 'Backfill',
      toQueue: ['2025-11-14', '2025-11-15'],
      inFlight: ['2025-10-25'],
      holdRun: true,
    });
    expect(decide(a, POLICY_PRESETS.conservative)).toEqual({
      _tag: 'Escalate',
      dates: a.missingDates,
      reason: 'gap_exceeds_threshold',
      holdRun: true,
    });
    expect(decide(a, DEFAULT_POLICY, { failedAttempts: new Map([[d('2025-10-25'), 3]]) })).toEqual({
      _tag: 'Escalate',
      dates: ['2025-10-25'],
      reason: 'backfill_keeps_failing',
      holdRun: true,
    });
    const onlyOld = analyzeGaps({
      asOf,
      expectedDates: schedule,
      recordCounts: { ...counts, '2025-11-14': 240, '2025-11-15': 200 },
      policy: DEFAULT_POLICY,
    });
    const critical = { ...DEFAULT_POLICY, blockOn: 'critical' as const };
    expect(onlyOld.missingDates).toEqual(['2025-10-25']);
    expect(decide(onlyOld, critical)).toEqual({ _tag: 'Backfill', toQueue: ['2025-10-25'], inFlight: [], holdRun: false });
    expect(decide(onlyOld, critical, { activeRequests: [d('2025-10-25')] })).toEqual({
      _tag: 'Proceed',
      reason: 'gaps_outside_critical_window',
    });
  });
});
