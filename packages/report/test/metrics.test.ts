import { describe, expect, it } from 'vitest';
import {
  isoDate,
  newRequest,
  type AlertRecord,
  type BackfillRequest,
  type HeldRun,
  type IsoDate,
  type RunRecord,
} from '@smart-backfill/core';
import { computeMetrics, renderMetrics, type MetricsReport } from '@smart-backfill/report';
import { aHeldRun } from './held-run-fixture.js';
import { parsePrometheus } from './prometheus-parse.js';

const MIN = 60_000;
const t = (day: number, hour: number, minute = 0): number => Date.UTC(2025, 10, day, hour, minute); // November 2025
const tOct = (day: number, hour: number): number => Date.UTC(2025, 9, day, hour);
const d = (s: string): IsoDate => isoDate(s);

let n = 0;
const run = (r: Partial<RunRecord> & Pick<RunRecord, 'startedAt' | 'runDate'>): RunRecord => ({
  runId: `r${++n}`,
  processorName: 'A',
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
const req = (date: string, requestedAt: number, rest: Partial<BackfillRequest> = {}): BackfillRequest => ({
  ...newRequest({
    requestId: `q${++n}`,
    processorName: 'A',
    date: d(date),
    requestType: 'auto',
    priority: 'normal',
    requestedAt,
    requestedBy: 'smart_backfill_detection',
    triggerReason: 'auto_backfill',
    metadata: {},
  }),
  ...rest,
});
const done = (startedAt: number, minutes: number, status: 'completed' | 'failed' = 'completed'): Partial<BackfillRequest> => ({
  status,
  attempt: 1,
  startedAt,
  completedAt: startedAt + minutes * MIN,
  errorMessage: status === 'failed' ? 'boom' : null,
});

// A hand-built week: 1–8 November 2025. Every expected figure below is computed by hand in the comments.
const WINDOW = { since: t(1, 0), until: t(8, 0) };
const RUNS: RunRecord[] = [
  run({
    runDate: d('2025-11-02'),
    startedAt: t(2, 6),
    outcome: 'skipped',
    skipReason: 'backfill_queued',
    metadata: { gap_size: 2, missing_dates: [d('2025-10-30'), d('2025-10-31')] },
  }),
  run({ runDate: d('2025-10-30'), startedAt: t(2, 6, 30), isBackfill: true, trigger: 'backfill' }),
  run({
    runDate: d('2025-11-02'),
    startedAt: t(2, 7),
    outcome: 'skipped',
    skipReason: 'waiting_for_backfill',
    metadata: { gap_size: 2, missing_dates: [d('2025-10-30'), d('2025-10-31')] },
  }),
  run({ runDate: d('2025-11-02'), startedAt: t(2, 8), trigger: 'resume', finishedAt: t(2, 8, 10) }), // recovered 130 min after detection
  run({
    runDate: d('2025-11-04'),
    startedAt: t(4, 6),
    outcome: 'skipped',
    skipReason: 'backfill_queued',
    metadata: { gap_size: 1, missing_dates: [d('2025-11-03')] },
  }),
  run({ runDate: d('2025-11-04'), startedAt: t(4, 9), trigger: 'resume', finishedAt: t(4, 9, 30) }), // recovered after 210 min
  run({
    runDate: d('2025-11-05'),
    startedAt: t(5, 6),
    outcome: 'skipped',
    skipReason: 'gap_escalated',
    metadata: { gap_size: 5, missing_dates: ['2025-10-20', '2025-10-21', '2025-10-22', '2025-10-23', '2025-10-24'].map(d) },
  }),
  run({ runDate: d('2025-11-06'), startedAt: t(6, 6), outcome: 'failed', errorMessage: 'Missing dependency: box scores' }),
  run({ runDate: d('2025-11-07'), startedAt: t(7, 6) }),
  // Outside the window: ignored.
  run({
    runDate: d('2025-10-31'),
    startedAt: tOct(31, 6),
    outcome: 'skipped',
    skipReason: 'backfill_queued',
    metadata: { gap_size: 1, missing_dates: [d('2025-10-30')] },
  }),
];
const REQUESTS: BackfillRequest[] = [
  req('2025-10-30', t(2, 6), done(t(2, 6, 5), 20)),
  req('2025-10-31', t(2, 6), done(t(2, 6, 5), 40)), // the Nov 2 gap is filled at 06:45: 45 min
  req('2025-11-03', t(4, 6), done(t(4, 6, 10), 10, 'failed')),
  req('2025-11-03', t(4, 7), done(t(4, 7), 60)), // the Nov 4 gap is filled at 08:00: 120 min
  req('2025-10-25', t(6, 1)),
  req('2025-10-26', t(6, 1), { status: 'processing', attempt: 1, startedAt: t(6, 2) }),
  req('2025-10-20', tOct(20, 1), done(tOct(20, 2), 5)), // outside
];
const alert = (openedAt: number, resolvedAt: number | null): AlertRecord => ({
  alertKey: `A:${openedAt}`,
  processorName: 'A',
  reason: 'gap_exceeds_threshold',
  runDate: d('2025-11-05'),
  missingDates: [d('2025-10-20')],
  lastError: null,
  openedAt,
  updatedAt: openedAt,
  lastSentAt: openedAt,
  sendCount: 1,
  resolvedAt,
});
const held = (runDate: string, status: HeldRun['status']): HeldRun =>
  aHeldRun('A', d(runDate), t(2, 6), { reason: 'backfill_queued', status, releasedAt: status === 'held' ? null : t(2, 8) });

const report = (): MetricsReport =>
  computeMetrics({
    window: WINDOW,
    runs: RUNS,
    requests: REQUESTS,
    alerts: [alert(t(5, 6), null), alert(tOct(10, 6), tOct(11, 6))],
    heldRuns: [held('2025-11-05', 'held'), held('2025-11-02', 'resumed'), held('2025-11-04', 'resumed')],
    processors: ['B', 'A'],
  });

describe('computeMetrics against a hand-computed week', () => {
  it('gives every figure per processor', () => {
    const r = report();
    expect(r.days).toBe(7);
    expect(r.processors.map((p) => p.processorName)).toEqual(['A', 'B']);
    const a = r.processors[0]!;
    expect(a.runs).toBe(9); // the ten runs less the one before the window
    expect(a.gapDetections).toBe(2); // backfill_queued on Nov 2 and Nov 4
    expect(a.missingDatesDetected).toBe(3);
    expect(a.gapDetectionsPerDay).toBeCloseTo(2 / 7, 12);
    expect(a.detectionsByDay).toEqual([
      { date: '2025-11-04', gapDetections: 1, totalMissingDates: 1 },
      { date: '2025-11-02', gapDetections: 1, totalMissingDates: 2 },
    ]);
    expect(a.backfills).toEqual({ total: 6, queued: 1, processing: 1, completed: 3, failed: 1 });
    expect(a.successRate).toBe(0.75);
    // Finished: 20, 40, 10, 60 min → mean 32.5, nearest-rank p95 = 60.
    expect(a.backfillDuration).toEqual({ count: 4, avgMs: 32.5 * MIN, medianMs: 30 * MIN, p95Ms: 60 * MIN, maxMs: 60 * MIN });
    expect(a.gapEpisodes).toBe(3);
    expect(a.recovered).toBe(2);
    // Recovery 130 and 210 min; fill 45 and 120 min; the escalated gap never filled.
    expect(a.timeToRecovery).toMatchObject({ count: 2, medianMs: 170 * MIN, avgMs: 170 * MIN, p95Ms: 210 * MIN });
    expect(a.timeToFill).toMatchObject({ count: 2, medianMs: 82.5 * MIN, p95Ms: 120 * MIN });
    expect(a.runsHeld).toBe(3); // two backfill_queued, one waiting_for_backfill
    expect(a.escalations).toBe(1);
    expect(a.alertsOpened).toBe(1);
    expect(a.openAlerts).toBe(1);
    expect(a.heldNow).toBe(1);
    // 9 runs, of which 6 scheduled (a backfill run and two resumes are left out): 5 of 6 held, escalated or failed on a dependency.
    expect(a.dependencyFailurePct).toBeCloseTo((5 / 6) * 100, 12);
  });

  it('lists a processor without data with zeros and nulls', () => {
    const b = report().processors[1]!;
    expect(b).toMatchObject({
      processorName: 'B',
      runs: 0,
      gapDetections: 0,
      successRate: null,
      dependencyFailurePct: null,
      gapEpisodes: 0,
      heldNow: 0,
    });
    expect(b.backfillDuration).toEqual({ count: 0, avgMs: null, medianMs: null, p95Ms: null, maxMs: null });
    expect(b.timeToRecovery.medianMs).toBeNull();
  });
});

describe('renderMetrics', () => {
  it('prometheus: HELP and TYPE for every family, prefixed names, parses back to the same numbers', () => {
    const text = renderMetrics(report(), 'prometheus');
    const families = parsePrometheus(text);
    expect(families.length).toBeGreaterThan(10);
    for (const f of families) {
      expect(f.name.startsWith('smart_backfill_')).toBe(true);
      expect(f.help.length).toBeGreaterThan(0);
    }
    const value = (name: string, labels: Record<string, string>): number | undefined =>
      families
        .flatMap((f) => f.samples)
        .find(
          (s) =>
            s.name === name &&
            Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
            Object.keys(s.labels).length === Object.keys(labels).length,
        )?.value;
    expect(value('smart_backfill_window_seconds', {})).toBe(7 * 86_400);
    expect(value('smart_backfill_backfill_requests', { processor: 'A', status: 'failed' })).toBe(1);
    expect(value('smart_backfill_backfill_requests', { processor: 'A', status: 'completed' })).toBe(3);
    expect(value('smart_backfill_backfill_success_ratio', { processor: 'A' })).toBe(0.75);
    expect(value('smart_backfill_backfill_success_ratio', { processor: 'B' })).toBeUndefined(); // nothing finished: absent, not 0
    expect(value('smart_backfill_backfill_duration_seconds', { processor: 'A', quantile: '0.5' })).toBe(30 * 60); // durations 10, 20, 40, 60 min
    expect(value('smart_backfill_backfill_duration_seconds', { processor: 'A', quantile: '0.95' })).toBe(3600);
    expect(value('smart_backfill_backfill_duration_seconds_sum', { processor: 'A' })).toBe(130 * 60);
    expect(value('smart_backfill_backfill_duration_seconds_count', { processor: 'A' })).toBe(4);
    expect(value('smart_backfill_time_to_recovery_seconds', { processor: 'A', quantile: '0.5' })).toBe(170 * 60);
    expect(value('smart_backfill_time_to_recovery_seconds_count', { processor: 'A' })).toBe(2);
    expect(value('smart_backfill_runs_held', { processor: 'A' })).toBe(3);
    expect(value('smart_backfill_escalations', { processor: 'A' })).toBe(1);
    expect(value('smart_backfill_gap_detections', { processor: 'B' })).toBe(0);
    expect(families.find((f) => f.name === 'smart_backfill_time_to_recovery_seconds')?.type).toBe('summary');
  });

  it('prometheus: every summary that counted something has quantile="0.5" and "0.95" (the parser refuses one without)', () => {
    const text = renderMetrics(report(), 'prometheus');
    expect(() => parsePrometheus(text)).not.toThrow();
    const noMedian = text.replace(/^smart_backfill_backfill_duration_seconds\{processor="A",quantile="0\.5"\} .*\n/m, '');
    expect(noMedian).not.toBe(text);
    expect(() => parsePrometheus(noMedian)).toThrow(/smart_backfill_backfill_duration_seconds.*no quantile="0\.5"/);
  });

  it('prometheus: label values with quotes, backslashes and line feeds are escaped and read back intact', () => {
    const nasty = 'we"ird\\name\nnext} 1';
    const text = renderMetrics(
      computeMetrics({ window: WINDOW, runs: [run({ runDate: d('2025-11-02'), startedAt: t(2, 6), processorName: nasty })], requests: [] }),
      'prometheus',
    );
    expect(text).toContain('processor="we\\"ird\\\\name\\nnext} 1"');
    const runs = parsePrometheus(text).find((f) => f.name === 'smart_backfill_runs');
    expect(runs?.samples).toEqual([{ name: 'smart_backfill_runs', labels: { processor: nasty }, value: 1 }]);
  });

  it('json carries the same figures, with the window as dates', () => {
    const j = JSON.parse(renderMetrics(report(), 'json')) as {
      from: string;
      to: string;
      processors: { processorName: string; successRate: number | null }[];
    };
    expect(j.from).toBe('2025-11-01');
    expect(j.to).toBe('2025-11-07');
    expect(j.processors.map((p) => [p.processorName, p.successRate])).toEqual([
      ['A', 0.75],
      ['B', null],
    ]);
  });

  it('table: one row per processor with the headline figures', () => {
    const text = renderMetrics(report(), 'table');
    const rowA = text.split('\n').find((l) => l.startsWith('A '));
    expect(rowA?.split(/\s+/)).toEqual(['A', '9', '0.29', '2', '3', '1', '75%', '33m', '1h', '00m', '2h', '50m', '3', '1']);
    expect(text).toContain('2025-11-01 .. 2025-11-07 (7 days)');
    expect(text).toContain('2 of 3 gap(s) recovered; fill median 1h 23m, recovery median 2h 50m');
  });
});
