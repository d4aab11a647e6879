import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { diagnoseSchedule, isoDate, type ScheduleWindowDescription } from '../src/index.js';

const query = { start: isoDate('2025-11-01'), end: isoDate('2025-11-30') };
const calendar = (found: ScheduleWindowDescription['statusFilter'], rows: number): ScheduleWindowDescription => ({
  source: 'calendar',
  rowsInWindow: rows,
  statusFilter: found,
});

describe('diagnoseSchedule', () => {
  it('says nothing when the window has expected dates', () => {
    expect(diagnoseSchedule({ query, expectedCount: 3, description: calendar(undefined, 0) })).toEqual({ _tag: 'Scheduled' });
  });

  it('calls rows that no accepted status matches a configuration problem, naming what it found', () => {
    const d = diagnoseSchedule({
      query,
      expectedCount: 0,
      description: calendar(
        {
          column: 'state',
          accepted: ['Open'],
          found: [
            { status: 'open', count: 27 },
            { status: null, count: 1 },
            { status: 'closed', count: 4 },
          ],
        },
        32,
      ),
    });
    expect(d).toEqual({
      _tag: 'NoneAccepted',
      message:
        'schedule "calendar" has 32 rows between 2025-11-01 and 2025-11-30 but none with state in ("Open"); found: "closed" (4), "open" (27), NULL (1)',
    });
  });

  it('warns, and proceeds, when the schedule has no rows at all in the window', () => {
    const d = diagnoseSchedule({
      query,
      expectedCount: 0,
      description: calendar({ column: 'state', accepted: ['open'], found: [] }, 0),
    });
    expect(d._tag).toBe('Empty');
    expect(d._tag === 'Empty' && d.warning).toMatch(
      /^schedule "calendar" has no rows between 2025-11-01 and 2025-11-30; nothing was checked/,
    );
  });

  it('warns when the source cannot describe itself', () => {
    expect(diagnoseSchedule({ query, expectedCount: 0 })).toEqual({
      _tag: 'Empty',
      warning: 'the schedule has no expected dates between 2025-11-01 and 2025-11-30; nothing was checked',
    });
  });

  it('never calls a window with an accepted status among its rows a mismatch', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ status: fc.option(fc.constantFrom('open', 'closed', 'Open'), { nil: null }), count: fc.integer({ min: 1, max: 9 }) }),
        ),
        fc.constantFrom<readonly string[]>(['open'], ['Open'], ['open', 'closed']),
        (found, accepted) => {
          const rows = found.reduce((n, s) => n + s.count, 0);
          const d = diagnoseSchedule({ query, expectedCount: 0, description: calendar({ column: 'state', accepted, found }, rows) });
          const matches = found.some((s) => s.status !== null && accepted.includes(s.status));
          expect(d._tag).toBe(rows > 0 && !matches ? 'NoneAccepted' : 'Empty');
        },
      ),
    );
  });
});
