import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addDays, dateRange, fromEpochDay, isoDate, toEpochDay, type IsoDate } from '@smart-backfill/core';
import { formatAlert, formatDateRanges, formatDuration, healCommands } from '@smart-backfill/alerts';
import { notice } from './helpers.js';

const d = (...s: string[]): IsoDate[] => s.map(isoDate);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const RANGE = /^([A-Z][a-z]{2}) (\d{1,2})(?:, (\d{4}))?(?:–(\d{1,2})| – ([A-Z][a-z]{2}) (\d{1,2}))?(?:, (\d{4}))?$/;

/** Read `formatDateRanges` output back into dates: the test's own, independent parser. */
const parseRanges = (text: string, refYear: string): IsoDate[] => {
  if (text === '') return [];
  const withYear = /, \d{4}/.test(text);
  const out: IsoDate[] = [];
  for (const piece of text.split(withYear ? '; ' : ', ')) {
    const m = RANGE.exec(piece);
    if (m === null) throw new Error(`unparseable range ${JSON.stringify(piece)} in ${JSON.stringify(text)}`);
    const [, m1, d1, y1, dEnd, m2, d2, y2] = m;
    const startYear = y1 ?? y2 ?? refYear;
    const endYear = y2 ?? startYear;
    const iso = (y: string, mon: string, day: string): IsoDate =>
      isoDate(`${y}-${String(MONTHS.indexOf(mon) + 1).padStart(2, '0')}-${day.padStart(2, '0')}`);
    const start = iso(startYear, m1!, d1!);
    const end = dEnd !== undefined ? iso(startYear, m1!, dEnd) : m2 !== undefined ? iso(endYear, m2, d2!) : start;
    out.push(...dateRange(start, end));
  }
  return out;
};

describe('formatDateRanges', () => {
  it('collapses consecutive days and keeps single days apart', () => {
    expect(formatDateRanges(d('2025-11-12', '2025-11-03', '2025-11-04', '2025-11-05', '2025-11-06', '2025-11-07'))).toBe('Nov 3–7, Nov 12');
    expect(formatDateRanges(d('2025-11-03', '2025-11-03'))).toBe('Nov 3');
    expect(formatDateRanges([])).toBe('');
  });

  it('spans months without repeating the year', () => {
    expect(formatDateRanges(dateRange(isoDate('2025-11-28'), isoDate('2025-12-02')))).toBe('Nov 28 – Dec 2');
  });

  it('names both years when a range crosses New Year, and switches to "; " between ranges', () => {
    const dates = [...dateRange(isoDate('2025-12-30'), isoDate('2026-01-02')), isoDate('2026-01-05')];
    expect(formatDateRanges(dates)).toBe('Dec 30, 2025 – Jan 2, 2026; Jan 5, 2026');
  });

  it('shows the year when the dates are not in the reference year', () => {
    expect(formatDateRanges(d('2024-11-03', '2024-11-04'), { referenceDate: isoDate('2025-01-10') })).toBe('Nov 3–4, 2024');
    expect(formatDateRanges(d('2025-01-03'), { referenceDate: isoDate('2025-01-10') })).toBe('Jan 3');
    expect(formatDateRanges(d('2025-01-03'), { years: 'always' })).toBe('Jan 3, 2025');
  });

  it('stops after maxRanges and says how much is left', () => {
    const dates = d('2025-11-01', '2025-11-03', '2025-11-05', '2025-11-06', '2025-11-09');
    expect(formatDateRanges(dates, { maxRanges: 2 })).toBe('Nov 1, Nov 3 and 2 more ranges (3 days)');
  });

  it('round-trips: reading the text back gives exactly the input dates (property)', () => {
    const day0 = toEpochDay(isoDate('2024-10-01'));
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 500 }),
        (offsets, refOffset) => {
          const dates = offsets.map((o) => fromEpochDay(day0 + o));
          const ref = fromEpochDay(day0 + refOffset);
          const text = formatDateRanges(dates, { referenceDate: ref });
          expect(parseRanges(text, ref.slice(0, 4))).toEqual([...dates].sort());
        },
      ),
    );
  });
});

describe('formatDuration', () => {
  it('uses the two largest units', () => {
    expect(formatDuration(3 * 3_600_000 + 12 * 60_000 + 5_000)).toBe('3 hours 12 minutes');
    expect(formatDuration(2 * 86_400_000 + 4 * 3_600_000)).toBe('2 days 4 hours');
    expect(formatDuration(86_400_000 + 30 * 60_000)).toBe('1 day');
    expect(formatDuration(45_000)).toBe('45 seconds');
    expect(formatDuration(61_000)).toBe('1 minute 1 second');
    expect(formatDuration(500)).toBe('under a second');
    expect(formatDuration(-5)).toBe('under a second');
  });
});

describe('healCommands', () => {
  it('splits the engine command into one per contiguous range', () => {
    expect(healCommands(notice())).toEqual([
      'smart-backfill backfill player_game_summary --from 2025-11-03 --to 2025-11-07',
      'smart-backfill backfill player_game_summary --from 2025-11-12 --to 2025-11-12',
    ]);
  });

  it('keeps a single range, the = form, and commands it cannot read as they are', () => {
    const one = notice({
      missingDates: d('2025-11-03', '2025-11-04'),
      healCommand: 'smart-backfill backfill P --from=2025-11-03 --to=2025-11-04',
    });
    expect(healCommands(one)).toEqual(['smart-backfill backfill P --from=2025-11-03 --to=2025-11-04']);
    const eq = notice({ healCommand: 'smart-backfill backfill P --from=2025-11-03 --to=2025-11-12' });
    expect(healCommands(eq)).toEqual([
      'smart-backfill backfill P --from=2025-11-03 --to=2025-11-07',
      'smart-backfill backfill P --from=2025-11-12 --to=2025-11-12',
    ]);
    expect(healCommands(notice({ healCommand: 'make backfill' }))).toEqual(['make backfill']);
  });

  it('never widens the range the engine asked for', () => {
    const narrow = notice({ healCommand: 'smart-backfill backfill P --from 2025-11-03 --to 2025-11-05' });
    expect(healCommands(narrow)).toEqual(['smart-backfill backfill P --from 2025-11-03 --to 2025-11-05']);
  });

  it('gives none for a healed notice', () => {
    expect(healCommands(notice({ kind: 'healed' }))).toEqual([]);
  });
});

describe('formatAlert', () => {
  it('escalated over the threshold: processor, run date, ranges, absent vs incomplete with counts, why, commands', () => {
    const f = formatAlert(notice());
    expect(f.title).toBe('player_game_summary: 6 dates missing (Nov 3–7, Nov 12), too many to backfill automatically');
    expect(f.text.split('\n')).toEqual([
      'Processor: player_game_summary',
      'Run date: 2025-11-20',
      'Missing: 6 dates — Nov 3–7, Nov 12',
      '  absent (no rows): Nov 3–5, Nov 12',
      '  incomplete (too few rows): Nov 6 (12 rows), Nov 7 (40 rows)',
      'Why: the gap (6 missing dates) is larger than the automatic backfill threshold, so nothing was queued: a person should decide before backfilling this much.',
      'Heal it with (one command per range):',
      '  smart-backfill backfill player_game_summary --from 2025-11-03 --to 2025-11-07',
      '  smart-backfill backfill player_game_summary --from 2025-11-12 --to 2025-11-12',
      'Opened 2025-11-20 06:00 UTC.',
      'Alert key: player_game_summary:gap:2025-11-03',
    ]);
    expect(f.fields).toMatchObject({
      kind: 'escalated',
      alert_key: 'player_game_summary:gap:2025-11-03',
      processor: 'player_game_summary',
      run_date: '2025-11-20',
      reason: 'gap_exceeds_threshold',
      missing_count: 6,
      missing_ranges: 'Nov 3–7, Nov 12',
      absent_dates: ['2025-11-03', '2025-11-04', '2025-11-05', '2025-11-12'],
      incomplete_dates: [
        { date: '2025-11-06', rows: 12 },
        { date: '2025-11-07', rows: 40 },
      ],
      opened_at: '2025-11-20T06:00:00.000Z',
      test: false,
    });
  });

  it('a backfill that keeps failing names the date and its last error', () => {
    const f = formatAlert(
      notice({
        reason: 'backfill_keeps_failing',
        missingDates: d('2025-11-12'),
        absentDates: d('2025-11-12'),
        incompleteDates: [],
        lastError: 'BigQuery: Not found: Table nba_raw.game_schedule',
        healCommand: 'smart-backfill backfill player_game_summary --from 2025-11-12 --to 2025-11-12',
      }),
    );
    expect(f.title).toBe('player_game_summary: backfill of Nov 12 keeps failing');
    expect(f.text).toContain('Why: the backfill of Nov 12 failed too many times, so it is no longer re-queued automatically.');
    expect(f.text).toContain('Last error: BigQuery: Not found: Table nba_raw.game_schedule');
    expect(f.text).toContain('Heal it with:\n  smart-backfill backfill player_game_summary --from 2025-11-12 --to 2025-11-12');
    expect(f.fields.last_error).toBe('BigQuery: Not found: Table nba_raw.game_schedule');
  });

  it('a reminder says how long it has been open', () => {
    const f = formatAlert(notice({ kind: 'reminder', openedAt: Date.parse('2025-11-18T05:00:00Z') }));
    expect(f.title).toMatch(/ — still open after 2 days 1 hour$/);
    expect(f.text).toContain('Open for 2 days 1 hour, since 2025-11-18 05:00 UTC.');
    expect(f.fields.open_for_ms).toBe(49 * 3_600_000);
  });

  it('a healed notice says the time to recovery and offers no command', () => {
    const f = formatAlert(
      notice({ kind: 'healed', at: Date.parse('2025-11-20T09:12:00Z'), timeToRecoveryMs: 3 * 3_600_000 + 12 * 60_000 }),
    );
    expect(f.title).toBe('Healed: player_game_summary is whole again after 3 hours 12 minutes');
    expect(f.text).toContain('Time to recovery: 3 hours 12 minutes (opened 2025-11-20 06:00 UTC, healed 2025-11-20 09:12 UTC).');
    expect(f.text).not.toContain('smart-backfill backfill');
    expect(f.fields).toMatchObject({ time_to_recovery_ms: 11_520_000, time_to_recovery: '3 hours 12 minutes', heal_commands: [] });
  });

  it('a healed notice without timeToRecoveryMs measures from opening', () => {
    const f = formatAlert(notice({ kind: 'healed', at: Date.parse('2025-11-20T07:00:00Z') }));
    expect(f.fields.time_to_recovery).toBe('1 hour');
  });

  it('long gaps are shortened in the text but complete in the fields', () => {
    const many = Array.from({ length: 30 }, (_, i) => addDays(isoDate('2025-09-01'), i * 2));
    const f = formatAlert(
      notice({
        missingDates: many,
        absentDates: many,
        incompleteDates: [],
        healCommand: 'smart-backfill backfill P --from 2025-09-01 --to 2025-10-29',
      }),
    );
    expect(f.title).toContain('Sep 1, Sep 3, Sep 5 and 27 more ranges');
    expect(f.fields.missing_dates).toHaveLength(30);
    expect(f.fields.heal_commands).toHaveLength(30);
  });
});
