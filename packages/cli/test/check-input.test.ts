import { describe, expect, it } from 'vitest';
import { addDays, isoDate } from '@smart-backfill/core';
import { cli, SEED_SCENARIO, tempDir } from './helpers.js';

describe('check --input (the pure check)', () => {
  it('answers the seed scenario: backfill Nov 15, hold, exit 3 (JSON, library field names)', async () => {
    const t = tempDir();
    try {
      const file = t.write('scenario.json', SEED_SCENARIO);
      const r = await cli(['check', '--input', file, '--json']);
      expect(r.code).toBe(3);
      const out = r.json<{ analysis: Record<string, unknown>; decision: Record<string, unknown> }>();
      expect(Object.keys(out)).toEqual(['analysis', 'decision']);
      expect(out.decision).toEqual({ _tag: 'Backfill', toQueue: ['2025-11-15'], inFlight: [], holdRun: true });
      expect(out.analysis).toMatchObject({
        asOf: '2025-11-16',
        windowStart: '2025-10-17',
        windowEnd: '2025-11-15',
        missingDates: ['2025-11-15'],
        absentDates: ['2025-11-15'],
        gapSize: 1,
        hasGaps: true,
      });
      expect(r.stderr).toBe('');
    } finally {
      t.cleanup();
    }
  });

  it('prints a human report without colours when stdout is not a TTY', async () => {
    const r = await cli(['check', '--input', '-'], { stdin: JSON.stringify(SEED_SCENARIO) });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('check for 2025-11-16');
    expect(r.stdout).toMatch(/missing\s+1: 2025-11-15/);
    expect(r.stdout).toMatch(/decision\s+Backfill 2025-11-15, hold the run/);
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it('reads standard input with "-" and proceeds (exit 0) when nothing is missing', async () => {
    const input = { ...SEED_SCENARIO, recordCounts: { ...SEED_SCENARIO.recordCounts, '2025-11-15': 230 } };
    const r = await cli(['check', '--input', '-', '--json'], { stdin: JSON.stringify(input) });
    expect(r.code).toBe(0);
    expect(r.json<{ decision: unknown }>().decision).toEqual({ _tag: 'Proceed', reason: 'no_gaps' });
  });

  it('escalates (exit 4) a gap larger than the threshold, and honours a preset', async () => {
    const asOf = isoDate('2025-11-16');
    const expectedDates = Array.from({ length: 10 }, (_, i) => addDays(asOf, -1 - i));
    const base = { asOf, expectedDates, recordCounts: {} as Record<string, number> };
    const balanced = await cli(['check', '--input', '-', '--json'], {
      stdin: JSON.stringify({ ...base, expectedDates: expectedDates.slice(0, 5) }),
    });
    expect(balanced.code).toBe(4);
    expect(balanced.json<{ decision: { _tag: string; reason: string } }>().decision).toMatchObject({
      _tag: 'Escalate',
      reason: 'gap_exceeds_threshold',
    });
    const aggressive = await cli(['check', '--input', '-', '--json'], {
      stdin: JSON.stringify({ ...base, expectedDates: expectedDates.slice(0, 5), policy: 'aggressive' }),
    });
    expect(aggressive.code).toBe(3);
  });

  it('a backfill proceeds (exit 0), in-flight dates are not queued again', async () => {
    const r1 = await cli(['check', '--input', '-', '--json'], { stdin: JSON.stringify({ ...SEED_SCENARIO, isBackfill: true }) });
    expect(r1.code).toBe(0);
    expect(r1.json<{ decision: unknown }>().decision).toEqual({ _tag: 'Proceed', reason: 'is_backfill' });
    const r2 = await cli(['check', '--input', '-', '--json'], {
      stdin: JSON.stringify({ ...SEED_SCENARIO, activeRequests: ['2025-11-15'] }),
    });
    expect(r2.json<{ decision: unknown }>().decision).toEqual({ _tag: 'Backfill', toQueue: [], inFlight: ['2025-11-15'], holdRun: true });
  });

  it('counts below minRecordsPerDate are incomplete', async () => {
    const r = await cli(['check', '--input', '-', '--json'], {
      stdin: JSON.stringify({
        ...SEED_SCENARIO,
        recordCounts: { ...SEED_SCENARIO.recordCounts, '2025-11-15': 12 },
        policy: { minRecordsPerDate: 20 },
      }),
    });
    expect(r.json<{ analysis: { incompleteDates: unknown } }>().analysis.incompleteDates).toEqual([{ date: '2025-11-15', count: 12 }]);
  });

  it('bad input: exit 2, one line per problem, each naming its path', async () => {
    const bad = {
      asOf: '2025-11-16',
      expectedDates: ['2025-11-14', '2025-11-15', '2025-02-30', 7],
      recordCounts: { '2025-11-14': -3, '2025-11-13': '12' },
      policy: { lookbackDays: '30', bogus: 1 },
      extra: true,
    };
    const r = await cli(['check', '--input', '-'], { stdin: JSON.stringify(bad) });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.errors).toEqual([
      'error: expectedDates[2]: "2025-02-30" is not a calendar date in YYYY-MM-DD form (day must be 01–28 in that month)',
      'error: expectedDates[3]: 7 is not a calendar date in YYYY-MM-DD form (expected a string, got number)',
      'error: recordCounts["2025-11-14"]: expected a whole number >= 0, got -3',
      'error: recordCounts["2025-11-13"]: expected a whole number >= 0, got "12"',
      'error: policy.bogus: unknown field (known: lookbackDays, criticalLookbackDays, minRecordsPerDate, autoBackfillThreshold, blockOn, maxAttempts)',
      'error: policy.lookbackDays: expected a whole number >= 1, got "30"',
      'error: extra: unknown field (known: asOf, expectedDates, recordCounts, policy, isBackfill, activeRequests, failedAttempts)',
    ]);
    expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('missing fields, bad JSON, empty input, a missing file: exit 2 with one clear line', async () => {
    const missing = await cli(['check', '--input', '-'], { stdin: '{}' });
    expect(missing.code).toBe(2);
    expect(missing.errors).toEqual([
      'error: asOf: is required (IsoDate)',
      'error: expectedDates: is required (Array<IsoDate>)',
      'error: recordCounts: is required (Record<IsoDate, integer >= 0>)',
    ]);
    const notJson = await cli(['check', '--input', '-'], { stdin: '{ asOf: ' });
    expect(notJson.code).toBe(2);
    expect(notJson.errors).toHaveLength(1);
    expect(notJson.errors[0]).toMatch(/^error: --input: standard input is not valid JSON/);
    const empty = await cli(['check', '--input', '-'], { stdin: '  ' });
    expect(empty.code).toBe(2);
    expect(empty.errors[0]).toMatch(/standard input is empty/);
    const noFile = await cli(['check', '--input', 'does-not-exist.json']);
    expect(noFile.code).toBe(2);
    expect(noFile.errors).toEqual(['error: --input: cannot read "does-not-exist.json": no such file']);
    const array = await cli(['check', '--input', '-'], { stdin: '[1]' });
    expect(array.errors).toEqual(['error: (top level): expected an object, got an array']);
  });

  it('usage errors exit 2; help exits 0', async () => {
    expect((await cli(['check'])).code).toBe(2);
    expect((await cli(['nonsense'])).code).toBe(2);
    expect((await cli(['check', '--input', '-', 'proc'], { stdin: '{}' })).code).toBe(2);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
  });
});
