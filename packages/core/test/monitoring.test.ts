import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backfillStats,
  dependencyFailureRate,
  detectedGapDates,
  distinctGapDates,
  gapDetectionsByDay,
  isDependencyError,
  isoDate,
  newRequest,
  summarizeDurations,
  timeToRecovery,
  type BackfillRequest,
  type IsoDate,
  type RunRecord,
} from '@smart-backfill/core';

const MIN = 60_000;
const DAY = 86_400_000;
const NOV16 = Date.UTC(2025, 10, 16, 8, 0); // 08:00 UTC on Nov 16
const ALL = { since: 0, until: Number.MAX_SAFE_INTEGER };

let n = 0;
const run = (r: Partial<RunRecord> & Pick<RunRecord, 'processorName' | 'startedAt'>): RunRecord => ({
  runId: `run-${++n}`,
  runDate: isoDate('2025-11-16'),
  trigger: 'scheduled',
  isBackfill: false,
  outcome: 'succeeded',
  skipReason: null,
  errorMessage: null,
  finishedAt: r.startedAt + MIN,
  durationMs: MIN,
  metadata: {},
  ...r,
});
const request = (r: Partial<BackfillRequest> & Pick<BackfillRequest, 'processorName' | 'date' | 'requestedAt'>): BackfillRequest => ({
  ...newRequest({
    requestId: `req-${++n}`,
    processorName: r.processorName,
    date: r.date,
    requestType: 'auto',
    priority: 'normal',
    requestedAt: r.requestedAt,
    requestedBy: 'smart_backfill_detection',
    triggerReason: 'auto_backfill',
    metadata: {},
  }),
  ...r,
});

const runArb: fc.Arbitrary<RunRecord> = fc
  .record({
    processorName: fc.constantFrom('P', 'Q', 'R'),
    startedAt: fc.integer({ min: NOV16 - 40 * DAY, max: NOV16 }),
    trigger: fc.constantFrom('scheduled', 'backfill', 'resume', 'manual', 'cascade') as fc.Arbitrary<RunRecord['trigger']>,
    outcome: fc.constantFrom('succeeded', 'failed', 'skipped') as fc.Arbitrary<RunRecord['outcome']>,
    skipReason: fc.constantFrom(null, 'backfill_queued', 'waiting_for_backfill', 'gap_escalated') as fc.Arbitrary<RunRecord['skipReason']>,
    errorMessage: fc.constantFrom(null, 'Missing dependency for Nov 15', 'timeout', 'Dependencies not ready'),
    gap: fc.nat({ max: 5 }),
  })
  .map(({ gap, ...r }) =>
    run({
      ...r,
      isBackfill: r.trigger === 'backfill',
      metadata: { gap_size: gap, missing_dates: Array.from({ length: gap }, (_, i) => isoDate(`2025-11-0${i + 1}`)) },
    }),
  );

describe('gapDetectionsByDay', () => {
  it("groups backfill_queued runs by UTC day and processor, summing gap_size, like the seed's query", () => {
    const runs = [
      run({ processorName: 'P', startedAt: NOV16, skipReason: 'backfill_queued', outcome: 'skipped', metadata: { gap_size: 1 } }),
      run({
        processorName: 'P',
        startedAt: NOV16 + 3 * 3_600_000,
        skipReason: 'backfill_queued',
        outcome: 'skipped',
        metadata: { gap_size: 2 },
      }),
      run({
        processorName: 'Q',
        startedAt: NOV16 + 15 * 3_600_000 + 59 * MIN,
        skipReason: 'backfill_queued',
        outcome: 'skipped',
        metadata: { missing_dates: [isoDate('2025-11-10')] },
      }),
      run({ processorName: 'Q', startedAt: NOV16 - DAY, skipReason: 'backfill_queued', outcome: 'skipped', metadata: { gap_size: 4 } }),
      run({ processorName: 'Q', startedAt: NOV16, skipReason: 'waiting_for_backfill', outcome: 'skipped', metadata: { gap_size: 9 } }),
      run({
        processorName: 'Q',
        startedAt: NOV16 - 31 * DAY,
        skipReason: 'backfill_queued',
        outcome: 'skipped',
        metadata: { gap_size: 9 },
      }),
    ];
    expect(gapDetectionsByDay(runs, { since: NOV16 - 30 * DAY, until: NOV16 + DAY })).toEqual([
      { date: '2025-11-16', processorName: 'P', gapDetections: 2, totalMissingDates: 3 },
      { date: '2025-11-16', processorName: 'Q', gapDetections: 1, totalMissingDates: 1 },
      { date: '2025-11-15', processorName: 'Q', gapDetections: 1, totalMissingDates: 4 },
    ]);
  });

  it('counts every backfill_queued run in the window exactly once', () => {
    fc.assert(
      fc.property(fc.array(runArb, { maxLength: 40 }), fc.integer({ min: NOV16 - 40 * DAY, max: NOV16 }), (runs, since) => {
        const w = { since, until: NOV16 + 1 };
        const rows = gapDetectionsByDay(runs, w);
        const hits = runs.filter((r) => r.skipReason === 'backfill_queued' && r.startedAt >= since && r.startedAt < w.until);
        expect(rows.reduce((s, r) => s + r.gapDetections, 0)).toBe(hits.length);
        expect(rows.reduce((s, r) => s + r.totalMissingDates, 0)).toBe(hits.reduce((s, r) => s + (r.metadata.gap_size ?? 0), 0));
        for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.date >= rows[i]!.date).toBe(true);
      }),
    );
  });
});

describe('backfillStats', () => {
  it('counts per status, success rate, mean and p95 of startedAt → completedAt', () => {
    const g = isoDate('2025-11-15');
    const reqs = [
      request({
        processorName: 'P',
        date: g,
        requestedAt: NOV16,
        status: 'completed',
        attempt: 1,
        startedAt: NOV16,
        completedAt: NOV16 + 5 * MIN,
      }),
      request({
        processorName: 'P',
        date: g,
        requestedAt: NOV16,
        status: 'completed',
        attempt: 1,
        startedAt: NOV16,
        completedAt: NOV16 + 7 * MIN,
      }),
      request({
        processorName: 'P',
        date: g,
        requestedAt: NOV16,
        status: 'failed',
        attempt: 1,
        startedAt: NOV16,
        completedAt: NOV16 + 30 * MIN,
        errorMessage: 'x',
      }),
      request({ processorName: 'P', date: g, requestedAt: NOV16, status: 'processing', attempt: 1, startedAt: NOV16 }),
      request({ processorName: 'Q', date: g, requestedAt: NOV16 }),
      request({ processorName: 'Q', date: g, requestedAt: NOV16 - 8 * DAY, status: 'completed', startedAt: 0, completedAt: 1 }),
    ];
    expect(backfillStats(reqs, { since: NOV16 - 7 * DAY, until: NOV16 + 1 })).toEqual([
      {
        processorName: 'P',
        total: 4,
        queued: 0,
        processing: 1,
        completed: 2,
        failed: 1,
        successRate: 2 / 3,
        duration: { count: 3, avgMs: 14 * MIN, medianMs: 7 * MIN, p95Ms: 30 * MIN, maxMs: 30 * MIN },
      },
      {
        processorName: 'Q',
        total: 1,
        queued: 1,
        processing: 0,
        completed: 0,
        failed: 0,
        successRate: null,
        duration: { count: 0, avgMs: null, medianMs: null, p95Ms: null, maxMs: null },
      },
    ]);
  });
});

describe('summarizeDurations', () => {
  it('p95 is the nearest-rank percentile: an observed value with >= 95% at or below it', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 10_000 }), { minLength: 1, maxLength: 200 }), (xs) => {
        const s = summarizeDurations(xs);
        const p = s.p95Ms!;
        expect(xs).toContain(p);
        expect(xs.filter((x) => x <= p).length / xs.length).toBeGreaterThanOrEqual(0.95);
        expect(xs.filter((x) => x < p).length / xs.length).toBeLessThan(0.95);
        expect(s.avgMs! * xs.length).toBeCloseTo(
          xs.reduce((a, b) => a + b, 0),
          6,
        );
        expect(s.maxMs).toBe(Math.max(...xs));
        // The median: at least half the values at or below it, at least half at or above it.
        const med = s.medianMs!;
        expect(xs.filter((x) => x <= med).length * 2).toBeGreaterThanOrEqual(xs.length);
        expect(xs.filter((x) => x >= med).length * 2).toBeGreaterThanOrEqual(xs.length);
      }),
    );
  });
});

describe('timeToRecovery', () => {
  it("the seed's scenario: detected, filled 5 minutes later, run succeeds 10 minutes after detection", () => {
    const nov15 = isoDate('2025-11-15');
    const runs = [
      run({
        processorName: 'P',
        startedAt: NOV16,
        outcome: 'skipped',
        skipReason: 'backfill_queued',
        metadata: { gap_size: 1, missing_dates: [nov15] },
      }),
      run({
        processorName: 'P',
        runDate: nov15,
        isBackfill: true,
        trigger: 'backfill',
        startedAt: NOV16 + MIN,
        finishedAt: NOV16 + 5 * MIN,
      }),
      run({ processorName: 'P', startedAt: NOV16 + 9 * MIN, finishedAt: NOV16 + 10 * MIN, trigger: 'resume' }),
    ];
    const reqs = [
      request({
        processorName: 'P',
        date: nov15,
        requestedAt: NOV16,
        status: 'completed',
        attempt: 1,
        startedAt: NOV16 + MIN,
        completedAt: NOV16 + 5 * MIN,
      }),
    ];
    expect(timeToRecovery(runs, reqs, ALL)).toEqual([
      {
        processorName: 'P',
        runDate: '2025-11-16',
        missingDates: ['2025-11-15'],
        detectedAt: NOV16,
        detections: 1,
        escalated: false,
        gapFilledAt: NOV16 + 5 * MIN,
        recoveredAt: NOV16 + 10 * MIN,
        detectionToFilledMs: 5 * MIN,
        filledToRecoveredMs: 5 * MIN,
        detectionToRecoveredMs: 10 * MIN,
      },
    ]);
  });

  it('a gap is filled only when every missing date has a completion after detection; re-checks join the episode', () => {
    const [a, b] = [isoDate('2025-11-14'), isoDate('2025-11-15')];
    const runs = [
      run({ processorName: 'P', startedAt: NOV16, outcome: 'skipped', skipReason: 'backfill_queued', metadata: { missing_dates: [a] } }),
      run({
        processorName: 'P',
        startedAt: NOV16 + 60 * MIN,
        outcome: 'skipped',
        skipReason: 'waiting_for_backfill',
        metadata: { missing_dates: [a, b] },
      }),
      run({ processorName: 'Q', startedAt: NOV16, outcome: 'skipped', skipReason: 'gap_escalated', metadata: { missing_dates: [a] } }),
    ];
    const reqs = [
      request({ processorName: 'P', date: a, requestedAt: NOV16 - DAY, status: 'completed', completedAt: NOV16 - 1 }), // before detection: does not count
      request({ processorName: 'P', date: a, requestedAt: NOV16, status: 'completed', completedAt: NOV16 + 20 * MIN }),
    ];
    const [p, q] = timeToRecovery(runs, reqs, ALL);
    expect(p).toMatchObject({
      processorName: 'P',
      missingDates: [a, b],
      detections: 2,
      gapFilledAt: null,
      recoveredAt: null,
      detectionToRecoveredMs: null,
    });
    expect(q).toMatchObject({ processorName: 'Q', escalated: true, gapFilledAt: null });
    const filled = timeToRecovery(
      runs,
      [...reqs, request({ processorName: 'P', date: b, requestedAt: NOV16, status: 'completed', completedAt: NOV16 + 90 * MIN })],
      ALL,
    );
    expect(filled[0]).toMatchObject({ gapFilledAt: NOV16 + 90 * MIN, detectionToFilledMs: 90 * MIN });
    expect(timeToRecovery(runs, reqs, { since: NOV16 + 1, until: NOV16 + DAY })).toEqual([]);
  });
});

describe('dependencyFailureRate', () => {
  it('counts holds, escalations and dependency errors once per run', () => {
    const runs = [
      run({ processorName: 'P', startedAt: NOV16 }),
      run({ processorName: 'P', startedAt: NOV16, outcome: 'skipped', skipReason: 'backfill_queued' }),
      run({ processorName: 'P', startedAt: NOV16, outcome: 'skipped', skipReason: 'waiting_for_backfill' }),
      run({ processorName: 'P', startedAt: NOV16, outcome: 'skipped', skipReason: 'gap_escalated' }),
      run({ processorName: 'Q', startedAt: NOV16, outcome: 'failed', errorMessage: 'Missing dependency for Nov 15' }),
      run({ processorName: 'Q', startedAt: NOV16, outcome: 'failed', errorMessage: 'timeout' }),
      run({ processorName: 'Q', startedAt: NOV16, isBackfill: true, trigger: 'backfill' }),
      run({ processorName: 'Q', startedAt: NOV16 }),
    ];
    const rep = dependencyFailureRate(runs, ALL);
    expect(rep.byProcessor).toEqual([
      {
        processorName: 'P',
        totalRuns: 4,
        scheduledRuns: 4,
        dependencyFailures: 3,
        heldRuns: 2,
        escalations: 1,
        dependencyErrors: 0,
        failedRuns: 0,
        dependencyFailurePct: 75,
      },
      {
        processorName: 'Q',
        totalRuns: 4,
        scheduledRuns: 3,
        dependencyFailures: 1,
        heldRuns: 0,
        escalations: 0,
        dependencyErrors: 1,
        failedRuns: 2,
        dependencyFailurePct: (1 / 3) * 100,
      },
    ]);
    expect(rep.overall).toEqual({
      totalRuns: 8,
      scheduledRuns: 7,
      dependencyFailures: 4,
      heldRuns: 2,
      escalations: 1,
      dependencyErrors: 1,
      failedRuns: 2,
      dependencyFailurePct: (4 / 7) * 100,
    });
    expect(dependencyFailureRate([], ALL).overall.dependencyFailurePct).toBeNull();
  });

  it('counts scheduled runs only: rebuilding 25 dates does not dilute the rate, a re-held resume does not inflate it', () => {
    const scheduled = [
      ...Array.from({ length: 18 }, (_, i) => run({ processorName: 'P', startedAt: NOV16 + i })),
      run({ processorName: 'P', startedAt: NOV16, outcome: 'skipped', skipReason: 'backfill_queued' }),
      run({ processorName: 'P', startedAt: NOV16, outcome: 'failed', errorMessage: 'dependency missing' }),
    ];
    const rebuild = Array.from({ length: 25 }, (_, i) =>
      run({ processorName: 'P', startedAt: NOV16 + i, trigger: 'backfill', isBackfill: true }),
    );
    const others = [
      run({ processorName: 'P', startedAt: NOV16, trigger: 'resume', outcome: 'skipped', skipReason: 'waiting_for_backfill' }),
      run({ processorName: 'P', startedAt: NOV16, trigger: 'cascade' }),
      run({ processorName: 'P', startedAt: NOV16, trigger: 'manual', outcome: 'failed', errorMessage: 'dependency missing' }),
    ];
    const o = dependencyFailureRate([...scheduled, ...rebuild, ...others], ALL).overall;
    expect(o).toMatchObject({ totalRuns: 48, scheduledRuns: 20, dependencyFailures: 2, heldRuns: 1, dependencyErrors: 1 });
    expect(o.dependencyFailurePct).toBe(10);
    expect(dependencyFailureRate(rebuild, ALL).overall.dependencyFailurePct).toBeNull();
  });

  it("matches the seed's LIKE '%dependency%' and also 'Dependencies'", () => {
    expect(isDependencyError({ outcome: 'failed', errorMessage: 'Missing dependency for Nov 15' })).toBe(true);
    expect(isDependencyError({ outcome: 'failed', errorMessage: 'Dependencies not ready' })).toBe(true);
    expect(isDependencyError({ outcome: 'succeeded', errorMessage: 'dependency' })).toBe(false);
    expect(isDependencyError({ outcome: 'failed', errorMessage: null })).toBe(false);
  });

  it('overall is the sum of the processors; every figure is within its total', () => {
    fc.assert(
      fc.property(fc.array(runArb, { maxLength: 40 }), (runs) => {
        const w = { since: NOV16 - 30 * DAY, until: NOV16 + 1 };
        const rep = dependencyFailureRate(runs, w);
        const sum = (
          k: 'totalRuns' | 'scheduledRuns' | 'dependencyFailures' | 'heldRuns' | 'escalations' | 'dependencyErrors' | 'failedRuns',
        ) => rep.byProcessor.reduce((s, r) => s + r[k], 0);
        for (const k of [
          'totalRuns',
          'scheduledRuns',
          'dependencyFailures',
          'heldRuns',
          'escalations',
          'dependencyErrors',
          'failedRuns',
        ] as const)
          expect(sum(k)).toBe(rep.overall[k]);
        for (const r of [...rep.byProcessor, rep.overall]) {
          expect(r.dependencyFailures).toBeLessThanOrEqual(r.scheduledRuns);
          expect(r.scheduledRuns).toBeLessThanOrEqual(r.totalRuns);
          expect(r.dependencyFailures).toBeLessThanOrEqual(r.heldRuns + r.escalations + r.dependencyErrors);
          expect(r.dependencyFailures).toBeGreaterThanOrEqual(Math.max(r.heldRuns + r.escalations, r.dependencyErrors));
        }
        const inW = runs.filter((r) => r.startedAt >= w.since && r.startedAt < w.until);
        expect(rep.overall.totalRuns).toBe(inW.length);
        expect(rep.overall.scheduledRuns).toBe(inW.filter((r) => r.trigger === 'scheduled').length);
      }),
    );
  });
});

describe('distinctGapDates', () => {
  it('counts each (processor, missing date) once', () => {
    const d = (s: string): IsoDate => isoDate(s);
    const runs = [
      run({
        processorName: 'P',
        startedAt: NOV16,
        outcome: 'skipped',
        skipReason: 'backfill_queued',
        metadata: { missing_dates: [d('2025-11-14'), d('2025-11-15')] },
      }),
      run({
        processorName: 'P',
        startedAt: NOV16 + 1,
        outcome: 'skipped',
        skipReason: 'waiting_for_backfill',
        metadata: { missing_dates: [d('2025-11-15')] },
      }),
      run({
        processorName: 'Q',
        startedAt: NOV16,
        outcome: 'skipped',
        skipReason: 'gap_escalated',
        metadata: { missing_dates: [d('2025-11-15')] },
      }),
      run({ processorName: 'Q', startedAt: NOV16, metadata: { missing_dates: [d('2025-11-01')] } }),
    ];
    expect(distinctGapDates(runs, ALL)).toBe(3);
  });
});

describe('detectedGapDates: what counts as a gap', () => {
  const d = (s: string): IsoDate => isoDate(s);
  it('dates a check found missing (gap-skipped runs, automatic requests), never a manual request', () => {
    const runs = [
      run({
        processorName: 'P',
        startedAt: NOV16,
        outcome: 'skipped',
        skipReason: 'backfill_queued',
        metadata: { gap_size: 1, missing_dates: [d('2025-11-15')] },
      }),
      // A run that was not held says nothing about gaps, whatever its metadata.
      run({ processorName: 'P', startedAt: NOV16, metadata: { missing_dates: [d('2025-11-01')] } }),
    ];
    const requests = [
      request({ processorName: 'P', date: d('2025-11-10'), requestedAt: NOV16 }),
      // A person rebuilding 25 healthy dates: none of them is a gap.
      ...Array.from({ length: 25 }, (_, i) =>
        request({
          processorName: 'P',
          date: d(`2025-10-${String(i + 1).padStart(2, '0')}`),
          requestedAt: NOV16,
          requestType: 'manual',
        }),
      ),
    ];
    expect([...detectedGapDates(runs, requests, ALL)].sort()).toEqual(['2025-11-10', '2025-11-15']);
    expect([...detectedGapDates(runs, requests, { since: NOV16 + 1, until: NOV16 + DAY })]).toEqual([]);
  });

  it('manual requests never change the set', () => {
    fc.assert(
      fc.property(
        fc.array(runArb, { maxLength: 20 }),
        fc.array(fc.record({ day: fc.integer({ min: 1, max: 28 }), manual: fc.boolean() }), { maxLength: 20 }),
        (runs, reqs) => {
          const requests = reqs.map((r) =>
            request({
              processorName: 'P',
              date: d(`2025-11-${String(r.day).padStart(2, '0')}`),
              requestedAt: NOV16,
              requestType: r.manual ? 'manual' : 'auto',
            }),
          );
          const auto = requests.filter((r) => r.requestType === 'auto');
          expect(detectedGapDates(runs, requests, ALL)).toEqual(detectedGapDates(runs, auto, ALL));
        },
      ),
    );
  });
});
