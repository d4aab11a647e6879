import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  healedGaps,
  isoDate,
  medianOf,
  newRequest,
  timeToRecovery,
  type BackfillRequest,
  type IsoDate,
  type RunRecord,
} from '@smart-backfill/core';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const ALL = { since: 0, until: Number.MAX_SAFE_INTEGER };
const at = (d: string, h = 6): number => Date.parse(`${d}T00:00:00Z`) + h * HOUR;

let n = 0;
const run = (r: Partial<RunRecord> & Pick<RunRecord, 'runDate' | 'startedAt'>): RunRecord => ({
  runId: `run-${++n}`,
  processorName: 'P',
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
const held = (runDate: string, startedAt: number, missing: readonly string[], escalated = false): RunRecord =>
  run({
    runDate: isoDate(runDate),
    startedAt,
    outcome: 'skipped',
    skipReason: escalated ? 'gap_escalated' : 'backfill_queued',
    metadata: { gap_size: missing.length, missing_dates: missing.map((d) => isoDate(d)) },
  });
const done = (date: string, completedAt: number, requestType: 'auto' | 'manual' = 'auto'): BackfillRequest => ({
  ...newRequest({
    requestId: `req-${++n}`,
    processorName: 'P',
    date: isoDate(date),
    requestType,
    priority: 'normal',
    requestedAt: completedAt - 5 * MIN,
    requestedBy: requestType === 'auto' ? 'smart_backfill_detection' : 'on-call',
    triggerReason: requestType === 'auto' ? 'auto_backfill' : 'manual_backfill',
    metadata: {},
  }),
  status: 'completed',
  attempt: 1,
  startedAt: completedAt - 2 * MIN,
  completedAt,
});
const days = (from: string, to: string): string[] => {
  const out: string[] = [];
  for (let d = isoDate(from); d <= isoDate(to); d = addDays(d, 1)) out.push(d);
  return out;
};

/** The demo's season: two one-day gaps healed by themselves, and an outage (Dec 1–8) that five nightly runs found, escalated and a person healed. */
const season = (): { runs: RunRecord[]; requests: BackfillRequest[] } => {
  const runs: RunRecord[] = [];
  const requests: BackfillRequest[] = [];
  for (const [gap, runDate] of [
    ['2025-11-15', '2025-11-16'],
    ['2025-11-24', '2025-11-25'],
  ] as const) {
    runs.push(held(runDate, at(addDays(isoDate(runDate), 1)), [gap]));
    requests.push(done(gap, at(addDays(isoDate(runDate), 1)) + 3 * MIN));
    runs.push(run({ runDate: isoDate(runDate), trigger: 'resume', startedAt: at(addDays(isoDate(runDate), 1)) + 4 * MIN }));
  }
  for (const runDate of days('2025-12-06', '2025-12-10'))
    runs.push(
      held(
        runDate,
        at(addDays(isoDate(runDate), 1)),
        days('2025-12-01', runDate < '2025-12-09' ? addDays(isoDate(runDate), -1) : '2025-12-08'),
        true,
      ),
    );
  const healed = at('2025-12-11', 10) + 5 * MIN;
  for (const d of days('2025-12-01', '2025-12-08')) requests.push(done(d, healed - MIN, 'manual'));
  // Dec 6–8 were rebuilt by their own backfills; Dec 9–10 resumed.
  for (const d of days('2025-12-01', '2025-12-08'))
    runs.push(run({ runDate: isoDate(d), trigger: 'backfill', isBackfill: true, startedAt: healed - 2 * MIN, finishedAt: healed - MIN }));
  for (const d of ['2025-12-09', '2025-12-10'])
    runs.push(run({ runDate: isoDate(d), trigger: 'resume', startedAt: healed - MIN, finishedAt: healed }));
  return { runs, requests };
};

describe('healedGaps', () => {
  it('one outage is one gap: first detection to the last held run done, healed by a person; the median is over three gaps', () => {
    const { runs, requests } = season();
    // Per held run there are seven episodes and the rebuilt ones never "recover": the figure the report used to print.
    expect(timeToRecovery(runs, requests, ALL)).toHaveLength(7);
    const gaps = healedGaps(runs, requests, ALL);
    expect(gaps.map((g) => [g.missingDates.length, g.runDates.length, g.escalated, g.healedBy, g.timeToRecoveryMs])).toEqual([
      [1, 1, false, 'auto', 5 * MIN],
      [1, 1, false, 'auto', 5 * MIN],
      [8, 5, true, 'manual', 4 * DAY + 4 * HOUR + 5 * MIN],
    ]);
    expect(gaps[2]?.detectedAt).toBe(at('2025-12-07'));
    expect(medianOf(gaps.map((g) => g.timeToRecoveryMs as number))).toBe(5 * MIN);
  });

  it('a gap with a held run still waiting is not healed', () => {
    const runs = [held('2025-11-16', at('2025-11-17'), ['2025-11-15']), held('2025-11-17', at('2025-11-18'), ['2025-11-15', '2025-11-16'])];
    const requests = [done('2025-11-15', at('2025-11-18', 7))];
    runs.push(run({ runDate: isoDate('2025-11-16'), trigger: 'resume', startedAt: at('2025-11-18', 7) }));
    expect(healedGaps(runs, requests, ALL)).toEqual([
      expect.objectContaining({ runDates: ['2025-11-16', '2025-11-17'], healedAt: null, timeToRecoveryMs: null, healedBy: null }),
    ]);
  });

  it('every episode belongs to exactly one gap, and gaps of a processor share no date', () => {
    const dateArb = fc.integer({ min: 0, max: 20 }).map((i) => addDays(isoDate('2025-11-01'), i));
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ runDate: dateArb, missing: fc.uniqueArray(dateArb, { minLength: 1, maxLength: 4 }), t: fc.nat({ max: 30 * DAY }) }),
          { maxLength: 12 },
        ),
        (specs) => {
          const runs = specs.map((s) => held(s.runDate, at('2025-11-01') + s.t, s.missing));
          const episodes = timeToRecovery(runs, [], ALL);
          const gaps = healedGaps(runs, [], ALL);
          expect(gaps.flatMap((g) => g.runDates).sort()).toEqual(episodes.map((e) => e.runDate).sort());
          const seen = new Set<IsoDate>();
          for (const g of gaps)
            for (const d of new Set([...g.missingDates, ...g.runDates])) {
              expect(seen.has(d)).toBe(false);
              seen.add(d);
            }
        },
      ),
    );
  });
});

describe('medianOf', () => {
  it('middle value, mean of the middle two, null for none', () => {
    expect(medianOf([3, 1, 2])).toBe(2);
    expect(medianOf([4, 1, 2, 3])).toBe(2.5);
    expect(medianOf([])).toBeNull();
  });
});
