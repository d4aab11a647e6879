import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyzeGaps,
  decide,
  DEFAULT_POLICY,
  isoDate,
  type Decision,
  type GapAnalysis,
  type GapPolicy,
  type IsoDate,
} from '@smart-backfill/core';
import { scenarioArb } from './arbitraries.js';

const decisionPolicyArb = fc.record({
  autoBackfillThreshold: fc.nat({ max: 8 }),
  blockOn: fc.constantFrom<GapPolicy['blockOn']>('any', 'critical'),
  maxAttempts: fc.integer({ min: 1, max: 4 }),
});

/** A scenario, its analysis, and a context drawn from its own missing dates (plus strangers). */
const caseArb = fc.tuple(scenarioArb, decisionPolicyArb, fc.boolean(), fc.nat(), fc.nat()).chain(([s, p, isBackfill, seedA, seedF]) => {
  const analysis = analyzeGaps({ asOf: s.asOf, expectedDates: s.expected, recordCounts: s.counts, policy: s.policy });
  const pool = [...analysis.missingDates, isoDate('2000-01-01')];
  return fc.record({
    analysis: fc.constant(analysis),
    policy: fc.constant(p),
    isBackfill: fc.constant(isBackfill && seedA % 4 === 0),
    active: fc.subarray(pool),
    failed: fc.array(fc.tuple(fc.constantFrom(...pool), fc.nat({ max: 5 })), { maxLength: 3 }).map((xs) => new Map(xs)),
    useRecord: fc.constant(seedF % 2 === 0),
  });
});

const datesOf = (d: Decision): IsoDate[] => {
  switch (d._tag) {
    case 'Proceed':
      return [];
    case 'Backfill':
      return [...d.toQueue, ...d.inFlight];
    case 'Escalate':
      return [...d.dates];
  }
};

describe('decide properties', () => {
  it('follows the rules in order, never duplicates a date, never queues an active one', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(caseArb, ({ analysis: a, policy, isBackfill, active, failed, useRecord }) => {
        const failedAttempts = useRecord ? Object.fromEntries(failed) : failed;
        const d = decide(a, policy, { isBackfill, activeRequests: active, failedAttempts });
        const holdRun = policy.blockOn === 'any' || a.criticalGapSize > 0;
        const failing = a.missingDates.filter((x) => (failed.get(x) ?? 0) >= policy.maxAttempts);
        const all = datesOf(d);
        expect(new Set(all).size).toBe(all.length);
        expect(all.every((x) => a.missingDates.includes(x))).toBe(true);
        let want: Decision;
        if (isBackfill) want = { _tag: 'Proceed', reason: 'is_backfill' };
        else if (!a.hasGaps) want = { _tag: 'Proceed', reason: 'no_gaps' };
        else if (failing.length > 0) want = { _tag: 'Escalate', dates: failing, reason: 'backfill_keeps_failing', holdRun };
        else if (a.gapSize > policy.autoBackfillThreshold)
          want = { _tag: 'Escalate', dates: a.missingDates, reason: 'gap_exceeds_threshold', holdRun };
        else {
          const toQueue = a.missingDates.filter((x) => !active.includes(x));
          const inFlight = a.missingDates.filter((x) => active.includes(x));
          want =
            !holdRun && toQueue.length === 0
              ? { _tag: 'Proceed', reason: 'gaps_outside_critical_window' }
              : { _tag: 'Backfill', toQueue, inFlight, holdRun };
        }
        expect(d).toEqual(want);
        seen.add(d._tag === 'Backfill' ? `Backfill/${d.holdRun}` : `${d._tag}/${d.reason}`);
        if (d._tag === 'Backfill') {
          // toQueue ∪ inFlight = missing, disjoint, no active date queued.
          expect([...d.toQueue, ...d.inFlight].sort()).toEqual(a.missingDates);
          expect(d.toQueue.some((x) => active.includes(x))).toBe(false);
        }
      }),
      { numRuns: 400 },
    );
    // The generated cases reach every outcome, so the rules above were all exercised.
    expect([...seen].sort()).toEqual([
      'Backfill/false',
      'Backfill/true',
      'Escalate/backfill_keeps_failing',
      'Escalate/gap_exceeds_threshold',
      'Proceed/gaps_outside_critical_window',
      'Proceed/is_backfill',
      'Proceed/no_gaps',
    ]);
  });

  it('dates that wait for their inputs: the rules run over the other dates alone, and the waiting ones are in flight', () => {
    fc.assert(
      fc.property(caseArb, fc.nat(), ({ analysis: a, policy, active, failed }, seed) => {
        const waiting = new Set(a.missingDates.filter((_, i) => (seed >> (i % 30)) % 2 === 1));
        const d = decide(a, policy, { activeRequests: active, failedAttempts: failed, waitingForInputs: waiting });
        // As if the waiting dates were not missing at all, except that they are reported in flight.
        const own = a.missingDates.filter((x) => !waiting.has(x));
        const without = decide({ ...a, missingDates: own, gapSize: own.length, hasGaps: a.hasGaps }, policy, {
          activeRequests: active,
          failedAttempts: failed,
        });
        if (without._tag === 'Escalate') expect(d).toEqual(without);
        if (d._tag === 'Escalate') expect(d.dates.some((x) => waiting.has(x))).toBe(false);
        if (d._tag === 'Backfill') {
          expect(d.toQueue.some((x) => waiting.has(x))).toBe(false);
          expect([...waiting].every((x) => d.inFlight.includes(x))).toBe(true);
          expect([...d.toQueue, ...d.inFlight].sort()).toEqual(a.missingDates);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a backfill run always proceeds, whatever the gap', () => {
    fc.assert(
      fc.property(caseArb, ({ analysis, policy }) => {
        expect(decide(analysis, policy, { isBackfill: true })).toEqual({ _tag: 'Proceed', reason: 'is_backfill' });
      }),
    );
  });
});

describe('decide examples', () => {
  const asOf = isoDate('2025-11-16');
  const analysisOf = (missing: string[]): GapAnalysis =>
    analyzeGaps({ asOf, expectedDates: missing.map(isoDate), recordCounts: {}, policy: DEFAULT_POLICY });

  it('seed scenario: Nov 15 missing on Nov 16 → Backfill Nov 15, hold the run', () => {
    expect(decide(analysisOf(['2025-11-15']), DEFAULT_POLICY)).toEqual({
      _tag: 'Backfill',
      toQueue: ['2025-11-15'],
      inFlight: [],
      holdRun: true,
    });
  });

  it('the next run finds Nov 15 in flight and does not queue it again', () => {
    expect(decide(analysisOf(['2025-11-15']), DEFAULT_POLICY, { activeRequests: [isoDate('2025-11-15')] })).toEqual({
      _tag: 'Backfill',
      toQueue: [],
      inFlight: ['2025-11-15'],
      holdRun: true,
    });
  });

  it('Proceed: is_backfill, no_gaps, gaps_outside_critical_window', () => {
    expect(decide(analysisOf(['2025-11-15']), DEFAULT_POLICY, { isBackfill: true })).toEqual({ _tag: 'Proceed', reason: 'is_backfill' });
    expect(decide(analysisOf([]), DEFAULT_POLICY)).toEqual({ _tag: 'Proceed', reason: 'no_gaps' });
    const old = analysisOf(['2025-10-20']);
    const critical = { ...DEFAULT_POLICY, blockOn: 'critical' as const };
    // Outside the critical window: queue it but do not hold; once in flight, just run.
    expect(decide(old, critical)).toEqual({ _tag: 'Backfill', toQueue: ['2025-10-20'], inFlight: [], holdRun: false });
    expect(decide(old, critical, { activeRequests: [isoDate('2025-10-20')] })).toEqual({
      _tag: 'Proceed',
      reason: 'gaps_outside_critical_window',
    });
    // Inside the critical window, blockOn critical still holds.
    expect(decide(analysisOf(['2025-11-10']), critical)).toMatchObject({ _tag: 'Backfill', holdRun: true });
  });

  it('Escalate: gap_exceeds_threshold at threshold + 1, not at the threshold', () => {
    const three = analysisOf(['2025-11-01', '2025-11-02', '2025-11-03']);
    expect(decide(three, DEFAULT_POLICY)._tag).toBe('Backfill');
    const four = analysisOf(['2025-11-01', '2025-11-02', '2025-11-03', '2025-11-04']);
    expect(decide(four, DEFAULT_POLICY)).toEqual({
      _tag: 'Escalate',
      dates: four.missingDates,
      reason: 'gap_exceeds_threshold',
      holdRun: true,
    });
  });

  it('Escalate: backfill_keeps_failing after maxAttempts, before the threshold rule', () => {
    const a = analysisOf(['2025-11-14', '2025-11-15']);
    const failedAttempts = new Map([
      [isoDate('2025-11-14'), 3],
      [isoDate('2025-11-15'), 2],
    ]);
    expect(decide(a, DEFAULT_POLICY, { failedAttempts })).toEqual({
      _tag: 'Escalate',
      dates: ['2025-11-14'],
      reason: 'backfill_keeps_failing',
      holdRun: true,
    });
    expect(decide(a, { ...DEFAULT_POLICY, maxAttempts: 4 }, { failedAttempts })._tag).toBe('Backfill');
  });

  it('dates that wait for their inputs are the input’s gap: neither escalated nor queued, only in flight', () => {
    const five = analysisOf(['2025-11-10', '2025-11-11', '2025-11-12', '2025-11-13', '2025-11-14']);
    const waitingForInputs = new Set(five.missingDates);
    // Five missing, over the threshold, and one failing: all wait for an input, so none is this processor's to escalate.
    const failedAttempts = new Map([[isoDate('2025-11-10'), 3]]);
    expect(decide(five, DEFAULT_POLICY, { waitingForInputs, failedAttempts })).toEqual({
      _tag: 'Backfill',
      toQueue: [],
      inFlight: five.missingDates,
      holdRun: true,
    });
    // Only its own dates are escalated, and only when they alone are too many.
    const ownFour = new Set([isoDate('2025-11-10')]);
    expect(decide(five, DEFAULT_POLICY, { waitingForInputs: ownFour })).toEqual({
      _tag: 'Escalate',
      dates: ['2025-11-11', '2025-11-12', '2025-11-13', '2025-11-14'],
      reason: 'gap_exceeds_threshold',
      holdRun: true,
    });
    const ownTwo = new Set(five.missingDates.slice(0, 3));
    expect(decide(five, DEFAULT_POLICY, { waitingForInputs: ownTwo })).toEqual({
      _tag: 'Backfill',
      toQueue: ['2025-11-13', '2025-11-14'],
      inFlight: five.missingDates.slice(0, 3),
      holdRun: true,
    });
  });
});
