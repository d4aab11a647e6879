import { describe, expect, it } from 'vitest';
import {
  isoDate,
  newRequest,
  type AlertRecord,
  type BackfillRequest,
  type IsoDate,
  type RequestStatus,
  type RunRecord,
} from '@smart-backfill/core';
import { buildCalendarModel, classifyDay, type DayFacts, type DayState } from '@smart-backfill/report';
import { DAY_STATES, DAY_STYLES } from '../src/day-state.js';

const d = (s: string): IsoDate => isoDate(s);
const facts = (f: Partial<DayFacts>): DayFacts => ({
  date: d('2025-11-10'),
  today: d('2025-11-20'),
  expected: true,
  rows: 0,
  minRecordsPerDate: 10,
  ...f,
});

describe('classifyDay', () => {
  const cases: [string, Partial<DayFacts>, DayState][] = [
    ['enough rows', { rows: 10 }, 'complete'],
    ['one row short', { rows: 9 }, 'incomplete'],
    ['no rows, nothing queued', {}, 'missing'],
    ['not scheduled, no rows', { expected: false }, 'nothing_scheduled'],
    ['not scheduled, before the schedule starts', { expected: false, beforeSchedule: true }, 'before_schedule'],
    ['before the schedule starts, but a few rows', { expected: false, beforeSchedule: true, rows: 3 }, 'incomplete'],
    ['a gap once, healed by an automatic backfill', { rows: 10, healedBy: 'auto' }, 'healed_auto'],
    ['a gap once, healed by a person', { rows: 10, healedBy: 'manual' }, 'healed_manual'],
    ['a gap once, rows arrived without a backfill', { rows: 10, healedBy: 'other' }, 'healed_other'],
    ['a gap once, still short', { rows: 3, healedBy: 'manual' }, 'incomplete'],
    ['a gap once, a re-run in flight', { rows: 10, healedBy: 'auto', requestStatus: 'queued' }, 'queued'],
    ['not scheduled, a few rows', { expected: false, rows: 3 }, 'incomplete'],
    ['not scheduled, enough rows', { expected: false, rows: 12 }, 'complete'],
    ['queued', { requestStatus: 'queued' }, 'queued'],
    ['processing', { requestStatus: 'processing' }, 'processing'],
    ['re-run in flight over complete data', { rows: 50, requestStatus: 'processing' }, 'processing'],
    ['failed backfill, still empty', { requestStatus: 'failed' }, 'failed'],
    ['failed backfill, but data arrived', { rows: 10, requestStatus: 'failed' }, 'complete'],
    ['completed backfill, too few rows', { rows: 2, requestStatus: 'completed' }, 'incomplete'],
    ['open alert', { escalated: true }, 'escalated'],
    ['open alert over a failed backfill', { escalated: true, requestStatus: 'failed' }, 'escalated'],
    ['open alert, data arrived', { escalated: true, rows: 10 }, 'complete'],
    ['today, nothing yet', { date: d('2025-11-20') }, 'future'],
    ['today, not (yet) scheduled', { date: d('2025-11-20'), expected: false }, 'future'],
    ['today, before the schedule starts', { date: d('2025-11-20'), expected: false, beforeSchedule: true }, 'future'],
    ['today, already complete', { date: d('2025-11-20'), rows: 10 }, 'complete'],
    ['after today', { date: d('2025-11-21'), rows: 10 }, 'future'],
  ];
  it.each(cases)('%s', (_name, f, state) => {
    expect(classifyDay(facts(f))).toBe(state);
  });

  it('every state has a label, colour and (for gap states) a symbol', () => {
    for (const s of DAY_STATES) {
      expect(DAY_STYLES[s].label).not.toBe('');
      expect(DAY_STYLES[s].background).toMatch(/^#[0-9a-fA-F]{6}$/);
    }
    const gapStates: DayState[] = ['incomplete', 'missing', 'queued', 'processing', 'failed', 'escalated'];
    const symbols = gapStates.map((s) => DAY_STYLES[s].symbol);
    expect(symbols.every((x) => x !== '')).toBe(true);
    expect(new Set(symbols).size).toBe(gapStates.length);
    expect(new Set(DAY_STATES.map((s) => DAY_STYLES[s].background)).size).toBe(DAY_STATES.length);
  });
});

let n = 0;
const request = (date: string, status: RequestStatus, requestedAt: number, extra: Partial<BackfillRequest> = {}): BackfillRequest => ({
  ...newRequest({
    requestId: `q${++n}`,
    processorName: 'P',
    date: d(date),
    requestType: 'auto',
    priority: 'normal',
    requestedAt,
    requestedBy: 'x',
    triggerReason: 'auto_backfill',
    metadata: {},
  }),
  status,
  ...extra,
});
const alert = (dates: string[], resolvedAt: number | null, openedAt = 100): AlertRecord => ({
  alertKey: `k${++n}`,
  processorName: 'P',
  reason: 'gap_exceeds_threshold',
  runDate: d('2025-11-20'),
  missingDates: dates.map(d),
  lastError: 'still broken',
  openedAt,
  updatedAt: openedAt,
  lastSentAt: null,
  sendCount: 0,
  resolvedAt,
});

describe('buildCalendarModel', () => {
  // 2025-11-03 is a Monday; two weeks to Sunday 2025-11-16, "today" is Friday 2025-11-14.
  const input = {
    processorName: 'P',
    start: d('2025-11-03'),
    end: d('2025-11-16'),
    today: d('2025-11-14'),
    expectedDates: [
      '2025-11-03',
      '2025-11-04',
      '2025-11-05',
      '2025-11-06',
      '2025-11-07',
      '2025-11-10',
      '2025-11-11',
      '2025-11-12',
      '2025-11-13',
      '2025-11-14',
      '2025-11-03',
      '2025-12-01',
    ].map(d),
    recordCounts: { '2025-11-03': 20, '2025-11-04': 5, '2025-11-07': 20, '2025-11-10': 20, '2025-11-08': 2 },
    minRecordsPerDate: 10,
    requests: [
      request('2025-11-05', 'failed', 10, { errorMessage: 'old failure' }),
      request('2025-11-05', 'queued', 20), // newest decides
      request('2025-11-06', 'failed', 30, { attempt: 3, errorMessage: 'HTTP 504', startedAt: 31, completedAt: 32 }),
      request('2025-11-07', 'completed', 40),
      { ...request('2025-11-11', 'processing', 50), processorName: 'other' }, // another processor: ignored
    ],
    alerts: [alert(['2025-11-12', '2025-11-13'], null), alert(['2025-11-11'], 200)],
  };

  it('one cell per day with its state, counts of every state', () => {
    const m = buildCalendarModel(input);
    expect(m.days.map((c) => [c.date.slice(8), c.state])).toEqual([
      ['03', 'complete'],
      ['04', 'incomplete'],
      ['05', 'queued'],
      ['06', 'failed'],
      ['07', 'healed_auto'], // its automatic backfill completed
      ['08', 'incomplete'], // unscheduled but a few rows
      ['09', 'nothing_scheduled'],
      ['10', 'complete'],
      ['11', 'missing'], // its alert was resolved; another processor's request does not count
      ['12', 'escalated'],
      ['13', 'escalated'],
      ['14', 'future'],
      ['15', 'future'],
      ['16', 'future'],
    ]);
    expect(m.counts).toEqual({
      complete: 2,
      healed_auto: 1,
      healed_manual: 0,
      healed_other: 0,
      nothing_scheduled: 1,
      before_schedule: 0,
      incomplete: 2,
      missing: 1,
      queued: 1,
      processing: 0,
      failed: 1,
      escalated: 2,
      future: 3,
    });
    expect(Object.keys(m.counts).sort()).toEqual([...DAY_STATES].sort());
    expect(m.days.map((c) => c.weekday)).toEqual([0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6]);
  });

  it('each cell keeps the facts its tooltip shows', () => {
    const m = buildCalendarModel(input);
    const byDate = new Map(m.days.map((c) => [c.date, c]));
    expect(byDate.get(d('2025-11-05'))).toMatchObject({ requestCount: 2, request: { status: 'queued', requestedAt: 20 } });
    expect(byDate.get(d('2025-11-06'))).toMatchObject({
      rows: 0,
      expected: true,
      request: { status: 'failed', attempt: 3, errorMessage: 'HTTP 504', startedAt: 31, completedAt: 32 },
    });
    expect(byDate.get(d('2025-11-04'))).toMatchObject({ rows: 5, minRecordsPerDate: 10, request: null, alert: null });
    expect(byDate.get(d('2025-11-11'))?.alert).toMatchObject({ resolvedAt: 200 });
    expect(byDate.get(d('2025-11-12'))?.alert).toMatchObject({ resolvedAt: null, lastError: 'still broken' });
  });

  it('accepts counts as a Map and defaults today to the end', () => {
    const m = buildCalendarModel({ ...input, today: undefined, recordCounts: new Map([[d('2025-11-16'), 0]]) });
    expect(m.today).toBe('2025-11-16');
    expect(m.days.at(-1)?.state).toBe('future'); // today: its games may not be final yet
    expect(m.days.at(-2)?.state).toBe('nothing_scheduled');
    expect(m.days.find((c) => c.date === '2025-11-14')?.state).toBe('missing');
  });

  it('marks healed days by who healed them: the last completed backfill decides; a found-missing date without one healed otherwise', () => {
    const m = buildCalendarModel({
      ...input,
      recordCounts: { '2025-11-03': 20, '2025-11-04': 20, '2025-11-05': 20, '2025-11-06': 20, '2025-11-07': 20 },
      requests: [
        request('2025-11-04', 'completed', 10, { completedAt: 11 }),
        request('2025-11-04', 'completed', 20, { requestType: 'manual', completedAt: 21 }), // a person's backfill came last
        request('2025-11-05', 'completed', 30, { completedAt: 31 }),
      ],
      alerts: [alert(['2025-11-06'], 200)], // resolved: the rows arrived on their own
      runs: [],
    });
    const state = (s: string): DayState | undefined => m.days.find((c) => c.date === s)?.state;
    expect([state('2025-11-03'), state('2025-11-04'), state('2025-11-05'), state('2025-11-06')]).toEqual([
      'complete',
      'healed_manual',
      'healed_auto',
      'healed_other',
    ]);
    expect(m.days.filter((c) => c.wasGap).map((c) => c.date)).toEqual([
      '2025-11-04',
      '2025-11-05',
      '2025-11-06',
      '2025-11-10',
      '2025-11-11',
      '2025-11-12',
      '2025-11-13',
    ]);
  });

  it('a date a run found missing is a gap once (runs metadata), even with no request or alert', () => {
    const run = {
      processorName: 'P',
      outcome: 'skipped',
      skipReason: 'backfill_queued',
      startedAt: Date.UTC(2025, 10, 4),
      metadata: { missing_dates: [d('2025-11-03')] },
    } as unknown as RunRecord;
    const m = buildCalendarModel({ ...input, requests: [], alerts: [], runs: [run] });
    expect(m.days[0]).toMatchObject({ date: '2025-11-03', state: 'healed_other', wasGap: true });
  });

  it('tells days before the schedule starts from unscheduled days; null: the schedule started earlier', () => {
    const base = { ...input, start: d('2025-10-27'), requests: [], alerts: [] };
    const m = buildCalendarModel(base);
    expect(m.days.slice(0, 7).map((c) => c.state)).toEqual(Array(7).fill('before_schedule'));
    expect(m.days.find((c) => c.date === '2025-11-09')?.state).toBe('nothing_scheduled');
    expect(
      buildCalendarModel({ ...base, scheduleStart: null })
        .days.slice(0, 7)
        .map((c) => c.state),
    ).toEqual(Array(7).fill('nothing_scheduled'));
    expect(
      buildCalendarModel({ ...base, scheduleStart: d('2025-10-30') })
        .days.slice(0, 7)
        .map((c) => c.state),
    ).toEqual([...Array(3).fill('before_schedule'), ...Array(4).fill('nothing_scheduled')]);
  });

  it('rejects a range that ends before it starts, naming both dates', () => {
    expect(() => buildCalendarModel({ ...input, start: d('2025-11-10'), end: d('2025-11-09') })).toThrow(/2025-11-09.*2025-11-10/);
  });
});
