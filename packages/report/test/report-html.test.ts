import { describe, expect, it } from 'vitest';
import {
  assess,
  isoDate,
  newRequest,
  suggestPolicy,
  type BackfillRequest,
  type IsoDate,
  type RequestStatus,
  type RunRecord,
} from '@smart-backfill/core';
import { buildReportModel, escapeHtml, nextSteps, renderReportHtml, type ProcessorReportInput } from '@smart-backfill/report';
import { cellDescription } from '../src/render-html.js';
import { DAY_STATES } from '../src/day-state.js';
import { aHeldRun } from './held-run-fixture.js';

const d = (s: string): IsoDate => isoDate(s);
const MIN = 60_000;
const nov = (day: number, hour: number, minute = 0): number => Date.UTC(2025, 10, day, hour, minute);

let n = 0;
const request = (
  name: string,
  date: string,
  status: RequestStatus,
  requestedAt: number,
  extra: Partial<BackfillRequest> = {},
): BackfillRequest => ({
  ...newRequest({
    requestId: `q${++n}`,
    processorName: name,
    date: d(date),
    requestType: 'auto',
    priority: 'normal',
    requestedAt,
    requestedBy: 'smart_backfill_detection',
    triggerReason: 'auto_backfill',
    metadata: {},
  }),
  status,
  ...extra,
});
const run = (name: string, r: Partial<RunRecord> & Pick<RunRecord, 'runDate' | 'startedAt'>): RunRecord => ({
  runId: `r${++n}`,
  processorName: name,
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

const NASTY_NAME = '<img src=x onerror=alert(1)>';
const NASTY_ERROR = '</script><script>alert("x")</script> & more';

// Two weeks, Monday 2025-11-03 to Sunday 2025-11-16, today Friday the 14th. Weekdays are scheduled.
const processor = (name: string): ProcessorReportInput => ({
  processorName: name,
  start: d('2025-11-03'),
  end: d('2025-11-16'),
  today: d('2025-11-14'),
  expectedDates: ['03', '04', '05', '06', '07', '10', '11', '12', '13', '14'].map((x) => d(`2025-11-${x}`)),
  recordCounts: { '2025-11-03': 20, '2025-11-04': 5, '2025-11-07': 20, '2025-11-10': 20 },
  minRecordsPerDate: 10,
  requests: [
    request(name, '2025-11-05', 'failed', nov(5, 1), { startedAt: nov(5, 2), completedAt: nov(5, 3), errorMessage: 'first try' }),
    request(name, '2025-11-05', 'queued', nov(6, 1)),
    request(name, '2025-11-06', 'failed', nov(7, 1), {
      attempt: 3,
      startedAt: nov(7, 2),
      completedAt: nov(7, 2, 30),
      errorMessage: NASTY_ERROR,
    }),
    request(name, '2025-11-07', 'completed', nov(8, 6), { startedAt: nov(8, 6, 5), completedAt: nov(8, 6, 20) }),
    request(name, '2025-11-10', 'completed', nov(11, 9), {
      requestType: 'manual',
      requestedBy: 'on-call',
      startedAt: nov(11, 9),
      completedAt: nov(11, 10),
    }),
  ],
  alerts: [
    {
      alertKey: 'k',
      processorName: name,
      reason: 'gap_exceeds_threshold',
      runDate: d('2025-11-14'),
      missingDates: [d('2025-11-12'), d('2025-11-13')],
      lastError: null,
      openedAt: nov(14, 6),
      updatedAt: nov(14, 6),
      lastSentAt: nov(14, 6),
      sendCount: 1,
      resolvedAt: null,
    },
  ],
  runs: [
    // Found 07 missing on the 8th at 06:00, the held run succeeded at 06:40: recovery 40 min.
    run(name, {
      runDate: d('2025-11-08'),
      startedAt: nov(8, 6),
      outcome: 'skipped',
      skipReason: 'backfill_queued',
      metadata: { gap_size: 1, missing_dates: [d('2025-11-07')] },
    }),
    run(name, { runDate: d('2025-11-08'), startedAt: nov(8, 6, 30), trigger: 'resume', finishedAt: nov(8, 6, 40) }),
    // Found 03 short on the 9th; it healed with late data, the run succeeded 100 min later.
    run(name, {
      runDate: d('2025-11-09'),
      startedAt: nov(9, 6),
      outcome: 'skipped',
      skipReason: 'backfill_queued',
      metadata: { gap_size: 1, missing_dates: [d('2025-11-03')] },
    }),
    run(name, { runDate: d('2025-11-09'), startedAt: nov(9, 7, 30), trigger: 'resume', finishedAt: nov(9, 7, 40) }),
    // Found 10 missing on the 11th; on-call backfilled it by hand at 09:00.
    run(name, {
      runDate: d('2025-11-11'),
      startedAt: nov(11, 6),
      outcome: 'skipped',
      skipReason: 'gap_escalated',
      metadata: { gap_size: 1, missing_dates: [d('2025-11-10')] },
    }),
  ],
  heldRuns: [
    aHeldRun(name, d('2025-11-08'), nov(8, 6), {
      reason: 'backfill_queued',
      waitingFor: [d('2025-11-07')],
      status: 'resumed',
      releasedAt: nov(8, 6, 30),
      claimedBy: 'worker-1',
      claimedAt: nov(8, 6, 29),
      leaseUntil: nov(8, 6, 44),
      claims: 1,
      resumeRunId: 'run-resume',
    }),
    aHeldRun(name, d('2025-11-14'), nov(14, 6), { reason: 'gap_escalated', waitingFor: [d('2025-11-12'), d('2025-11-13')] }),
  ],
});

describe('buildReportModel', () => {
  it('KPIs from hand-computed data', () => {
    const m = buildReportModel({ generatedAt: nov(14, 12), processors: [processor('P')] });
    // Gap dates up to the 13th: 04 (incomplete), 05 (queued), 06 (failed), 11 (missing), 12 and 13 (escalated) are open;
    // 07 healed by an automatic backfill, 10 by a manual one, 03 without a backfill (its rows arrived late).
    expect(m.kpis).toEqual({
      gaps: 9,
      healedAutomatically: 1,
      healedManually: 1,
      healedOtherwise: 1,
      open: 6,
      detectedGaps: 3,
      timesToRecoveryMs: [40 * MIN, 100 * MIN],
      medianTimeToRecoveryMs: 70 * MIN,
      recoveredGaps: 2,
      successRate: 0.5, // 2 completed, 2 failed
      finishedBackfills: 4,
    });
    expect(m.processors[0]?.kpis).toEqual(m.kpis);
    // The tiles count the calendar's cells: the healed figures are the healed states' counts.
    const c = m.processors[0]!.calendar.counts;
    expect([c.healed_auto, c.healed_manual, c.healed_other]).toEqual([1, 1, 1]);
  });

  it('a manual rebuild of healthy dates is not a gap', () => {
    const days = ['03', '04', '05', '06', '07', '10', '11', '12', '13'].map((x) => d(`2025-11-${x}`));
    const calm: ProcessorReportInput = {
      processorName: 'R',
      start: d('2025-11-03'),
      end: d('2025-11-16'),
      today: d('2025-11-14'),
      expectedDates: days,
      recordCounts: Object.fromEntries(days.map((x) => [x, 20])),
      minRecordsPerDate: 10,
      // On-call rebuilt every (healthy) date by hand.
      requests: days.map((g, i) =>
        request('R', g, 'completed', nov(13, 9, i), {
          requestType: 'manual',
          requestedBy: 'on-call',
          startedAt: nov(13, 9, i),
          completedAt: nov(13, 10, i),
        }),
      ),
    };
    const k = buildReportModel({ generatedAt: nov(14, 12), processors: [calm] }).kpis;
    expect(k).toMatchObject({ gaps: 0, healedManually: 0, open: 0, finishedBackfills: days.length });
  });

  it('sums KPIs over processors; tables newest first and limited', () => {
    const m = buildReportModel({ generatedAt: nov(14, 12), processors: [processor('P'), processor('Q')], recentLimit: 3 });
    expect(m.kpis.gaps).toBe(18);
    expect(m.kpis.medianTimeToRecoveryMs).toBe(70 * MIN);
    expect(m.recentRequests).toHaveLength(3);
    expect(m.recentRequests.map((r) => r.requestedAt)).toEqual([nov(11, 9), nov(11, 9), nov(8, 6)]);
    expect(m.heldRuns.map((h) => h.status)).toEqual(['held', 'held', 'resumed']);
  });

  it('needs at least one processor', () => {
    expect(() => buildReportModel({ generatedAt: 0, processors: [] })).toThrow(/at least one processor/);
  });
});

describe('renderReportHtml', () => {
  const assessment = assess({ gapsPer30Days: 7, dependencyFailurePct: null, manualBackfillMinutesPerWeek: 12 });
  const suggestion = suggestPolicy({ rowsPerDate: [20, 20, 30], gapSizes: [1, 2] });
  const model = buildReportModel({
    generatedAt: nov(14, 12),
    processors: [
      { ...processor(NASTY_NAME), assessment, suggestion, nextSteps: nextSteps(assessment, { processorName: NASTY_NAME, suggestion }) },
      processor('plain'),
    ],
  });
  const page = renderReportHtml(model);

  it('one cell per day, its state in data-state, matching the model', () => {
    for (const s of DAY_STATES) {
      const inPage = page.match(new RegExp(`<div class="day [^"]*" data-state="${s}"`, 'g'))?.length ?? 0;
      expect(inPage, s).toBe(model.processors.reduce((a, p) => a + p.calendar.counts[s], 0));
    }
    expect(page.match(/<div class="day /g)).toHaveLength(28);
  });

  it('escapes user data: processor names and error messages never become markup', () => {
    expect(page).not.toContain('<img');
    expect(page).not.toContain('alert("x")</script>');
    expect(page.match(/<script>/g)).toHaveLength(1); // ours, at the end
    expect(page).toContain(escapeHtml(NASTY_NAME));
    expect(page).toContain(escapeHtml(NASTY_ERROR));
  });

  it('is self-contained: no URLs, no external resources, a CSP that forbids loading any', () => {
    expect(page).not.toMatch(/https?:\/\//);
    // User data is escaped, so every `<` opens one of our tags and every attribute value is quoted
    // without a quote inside: the attribute names can be read exactly. None of them loads anything.
    const names = new Set<string>();
    for (const tag of page.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g)) {
      const attrs = tag[2] ?? '';
      expect(attrs, tag[0]).toMatch(/^(\s+[a-zA-Z-]+(="[^"]*")?)*\s*\/?$/);
      for (const a of attrs.matchAll(/\s+([a-zA-Z-]+)(?:="[^"]*")?/g)) names.add((a[1] ?? '').toLowerCase());
    }
    expect(names.has('class') && names.has('aria-label')).toBe(true);
    for (const bad of ['src', 'href', 'srcset', 'action', 'poster', 'data', 'background', 'formaction'])
      expect(names.has(bad), bad).toBe(false);
    expect(page).not.toMatch(/<(link|img|iframe|object|embed|audio|video|source|form|base)\b/i);
    expect(page).not.toMatch(/@import|@font-face|url\(/i);
    expect(page).toContain(`content="default-src 'none';`);
    expect(page.startsWith('<!doctype html>')).toBe(true);
  });

  it('shows the KPIs, the verdict with its checklist, and both tables', () => {
    expect(page).toMatch(/data-kpi="gaps"><span class="v">18</);
    expect(page).toMatch(/data-kpi="ttr"><span class="v">1h 10m</);
    expect(page).toMatch(/data-kpi="success"><span class="v">50%</);
    // 7 gaps in 30 days is over the implement line, but the checklist is not all ticked: the verdict and the checklist agree.
    expect(page).toContain('data-verdict="monitor"');
    expect(page).toContain('Decision checklist (not all ticked: don&#39;t implement yet)');
    expect(page.match(/data-status="(passed|failed|unknown)"/g)).toHaveLength(assessment.checklist.length);
    expect(page.match(/<tr data-request-status=/g)).toHaveLength(10);
    expect(page.match(/<tr data-held-status="held"/g)).toHaveLength(2);
  });

  it('an UNKNOWN verdict shows as unknown, with what could not be measured', () => {
    const unknown = assess({
      gapsPer30Days: { value: null, reason: 'could not read the target table "orders_daily"' },
      dependencyFailurePct: 0,
      manualBackfillMinutesPerWeek: 0,
    });
    const html = renderReportHtml(
      buildReportModel({
        generatedAt: nov(14, 12),
        processors: [{ ...processor('P'), assessment: unknown, nextSteps: nextSteps(unknown, { processorName: 'P' }) }],
      }),
    );
    expect(html).toContain('data-verdict="unknown"');
    expect(html).toContain('data-verdict-for="P">P: Unknown: could not measure</span>');
    expect(html).toContain('because gap frequency not measured: could not read the target table &quot;orders_daily&quot;');
    expect(html).not.toMatch(/Not needed/);
  });

  it('says what each figure is of, in neutral words; a report over game data may use its own', () => {
    expect(page).toMatch(
      /data-kpi="ttr"><span class="v">1h 10m<\/span><span class="l">Median time to recovery over 4 healed gaps<\/span><span class="d">40m, 1h 40m, 40m, 1h 40m: from the first check/,
    );
    expect(page).toMatch(
      /data-kpi="success"><span class="v">50%<\/span><span class="l">Backfill success rate<\/span><span class="d">completed of 8 finished backfills/,
    );
    expect(page).toContain('median time to recovery 1h 10m over 2 healed gaps');
    expect(page).toContain('data-legend="nothing_scheduled" data-count="4"');
    expect(page).toContain('nothing scheduled (4)');
    expect(page).toContain('healed by a person (2)');
    expect(page).not.toMatch(/game/i);
    const nba = renderReportHtml(
      buildReportModel({
        generatedAt: nov(14, 12),
        processors: [processor('P')],
        stateLabels: { nothing_scheduled: 'no games scheduled' },
      }),
    );
    expect(nba).toContain('no games scheduled (2)');
    expect(nba).toContain('expected: no (no games scheduled)');
  });

  it('each tooltip names the date, expectation, rows, request status and times', () => {
    const failed = model.processors[1]!.calendar.days.find((c) => c.state === 'failed')!;
    expect(cellDescription(failed)).toEqual([
      'Thursday 2025-11-06: backfill failed',
      'expected: yes (scheduled); rows 0 of at least 10',
      'auto backfill failed, attempt 3; requested 2025-11-07 01:00 UTC, started 2025-11-07 02:00 UTC, failed 2025-11-07 02:30 UTC',
      `error: ${NASTY_ERROR}`,
    ]);
    const esc = model.processors[1]!.calendar.days.find((c) => c.state === 'escalated')!;
    expect(cellDescription(esc)[2]).toBe('alert (gap exceeds threshold) opened 2025-11-14 06:00 UTC, still open');
    expect(page).toContain(`aria-label="2025-11-06: backfill failed"`);
  });
});
