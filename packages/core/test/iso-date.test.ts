import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addDays,
  civilToEpochDay,
  compareDates,
  dateRange,
  diffDays,
  fromEpochDay,
  isIsoDate,
  isoDate,
  parseEpochDay,
  parseIsoDate,
  toEpochDay,
  utcDateOf,
  type IsoDate,
} from '@smart-backfill/core';
import { epochDayArb, isoDateArb, MAX_DAY, MIN_DAY } from './arbitraries.js';

/** Oracle: the platform's UTC calendar (setUTCFullYear, so years < 100 are not shifted to 19xx). */
const oracleDay = (y: number, m: number, d: number): number => {
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d);
  return Math.floor(t.getTime() / 86_400_000);
};
const oracleDate = (day: number): string => new Date(day * 86_400_000).toISOString().slice(0, 10);

describe('parseIsoDate', () => {
  it.each([
    ['2025-02-30', 'day must be 01–28'],
    ['2025-2-3', 'exactly 10 characters'],
    [' 2025-02-03', 'exactly 10 characters'],
    ['2025-02-03T00:00:00Z', 'exactly 10 characters'],
    ['0000-01-01', 'year must be 0001–9999'],
    ['10000-01-01', 'exactly 10 characters'],
    ['2025-13-01', 'month must be 01–12'],
    ['2025/02/03', 'expected "-"'],
    ['2025-0a-03', 'expected digits'],
    ['2024-02-30', 'day must be 01–29'],
    ['1900-02-29', 'day must be 01–28'],
  ])('rejects %j naming the value', (value, why) => {
    const r = parseIsoDate(value);
    expect(r._tag).toBe('Err');
    if (r._tag === 'Err') {
      expect(r.error._tag).toBe('InvalidDate');
      expect(r.error.value).toBe(value);
      expect(r.error.message).toContain(JSON.stringify(value));
      expect(r.error.message).toContain(why);
    }
    expect(() => isoDate(value)).toThrow(JSON.stringify(value));
    expect(isIsoDate(value)).toBe(false);
  });

  it.each([[42], [null], [undefined], [{ d: 1 }], [new Date(0)]])('rejects non-strings (%j)', (value) => {
    const r = parseIsoDate(value);
    expect(r._tag).toBe('Err');
    if (r._tag === 'Err') expect(r.error.message).toMatch(/not a calendar date/);
  });

  it('accepts leap days and the range ends', () => {
    for (const s of ['2024-02-29', '2000-02-29', '0001-01-01', '9999-12-31']) expect(parseIsoDate(s)).toEqual({ _tag: 'Ok', value: s });
    expect(parseEpochDay('0001-01-01')).toBe(MIN_DAY);
    expect(parseEpochDay('9999-12-31')).toBe(MAX_DAY);
    expect(parseEpochDay('1970-01-01')).toBe(0);
  });

  it('parse ∘ format round trip over the whole range', () => {
    fc.assert(
      fc.property(epochDayArb, (day) => {
        const s = fromEpochDay(day);
        expect(parseEpochDay(s)).toBe(day);
        expect(parseIsoDate(s)).toEqual({ _tag: 'Ok', value: s });
        expect(toEpochDay(s)).toBe(day);
      }),
    );
  });

  it('a string is a date exactly when the platform calendar agrees it exists', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (y, m, d) => {
        const s = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
        const exists = oracleDate(oracleDay(y, m, d)) === s;
        expect(isIsoDate(s)).toBe(exists);
        if (exists) expect(toEpochDay(s as IsoDate)).toBe(civilToEpochDay(y, m, d));
      }),
    );
  });

  it('toEpochDay, civilToEpochDay and fromEpochDay agree on every day of 0001..9999', () => {
    let bad = 0;
    for (let day = MIN_DAY; day <= MAX_DAY; day++) {
      const s = fromEpochDay(day);
      if (toEpochDay(s) !== day) bad++;
    }
    expect(bad).toBe(0);
    expect(civilToEpochDay(2025, 11, 16)).toBe(toEpochDay(isoDate('2025-11-16')));
  });

  it('rejects epoch days outside the range', () => {
    expect(() => fromEpochDay(MAX_DAY + 1)).toThrow(/outside/);
    expect(() => fromEpochDay(MIN_DAY - 1)).toThrow(/outside/);
    expect(() => fromEpochDay(1.5)).toThrow(/outside/);
  });
});

describe('arithmetic laws', () => {
  const span = fc.integer({ min: -3000, max: 3000 });
  const mid = fc.integer({ min: MIN_DAY + 7000, max: MAX_DAY - 7000 }).map(fromEpochDay);

  it('addDays: identity, composition, inverse of diffDays', () => {
    fc.assert(
      fc.property(mid, span, span, (d, a, b) => {
        expect(addDays(d, 0)).toBe(d);
        expect(addDays(addDays(d, a), b)).toBe(addDays(d, a + b));
        expect(diffDays(addDays(d, a), d)).toBe(a);
        expect(addDays(d, diffDays(addDays(d, a), d))).toBe(addDays(d, a));
      }),
    );
  });

  it('diffDays is antisymmetric and compareDates agrees with it', () => {
    fc.assert(
      fc.property(isoDateArb, isoDateArb, (a, b) => {
        expect(diffDays(a, b) + diffDays(b, a)).toBe(0);
        expect(compareDates(a, b)).toBe(Math.sign(diffDays(a, b)));
      }),
    );
  });

  it('dateRange has end − start + 1 consecutive dates (or none)', () => {
    fc.assert(
      fc.property(mid, fc.integer({ min: -5, max: 400 }), (s, n) => {
        const e = addDays(s, n);
        const r = dateRange(s, e);
        expect(r.length).toBe(Math.max(0, n + 1));
        r.forEach((d, i) => expect(d).toBe(addDays(s, i)));
      }),
    );
  });

  it('utcDateOf takes the UTC day of an instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62135596800000, max: 253402300799999 }), (ms) => {
        expect(utcDateOf(ms)).toBe(new Date(ms).toISOString().slice(0, 10));
      }),
    );
  });
});

describe('time-zone independence', () => {
  const ZONES = ['UTC', 'America/Los_Angeles', 'Australia/Lord_Howe', 'Pacific/Kiritimati'];
  const original = process.env['TZ'];
  afterAll(() => {
    if (original === undefined) delete process.env['TZ'];
    else process.env['TZ'] = original;
  });

  // Dates around DST changes in each zone, the range ends, and a fixed random sample.
  const sampleDays = [
    MIN_DAY,
    MAX_DAY,
    0,
    -1,
    toEpochDay(isoDate('2025-03-09')),
    toEpochDay(isoDate('2025-11-02')), // Los Angeles DST
    toEpochDay(isoDate('2025-04-06')),
    toEpochDay(isoDate('2025-10-05')), // Lord Howe (30-minute DST)
    toEpochDay(isoDate('1994-12-31')),
    toEpochDay(isoDate('1995-01-01')), // Kiritimati skipped 1994-12-31
    ...fc.sample(epochDayArb, { numRuns: 300, seed: 42 }),
  ];
  const instants = [
    0,
    -1,
    1_700_000_000_000,
    1_741_510_800_000,
    ...fc.sample(fc.integer({ min: -62135596800000, max: 253402300799999 }), { numRuns: 100, seed: 7 }),
  ];

  const battery = (): unknown => ({
    dates: sampleDays.map((day) => {
      const s = fromEpochDay(day);
      const safe = Math.min(Math.max(day, MIN_DAY + 40), MAX_DAY - 40);
      const t = fromEpochDay(safe);
      return [
        s,
        toEpochDay(s),
        parseEpochDay(s),
        addDays(t, 31),
        addDays(t, -31),
        diffDays(t, fromEpochDay(0)),
        dateRange(addDays(t, -2), t),
      ];
    }),
    instants: instants.map(utcDateOf),
  });

  it('gives identical results, equal to a Date.UTC oracle, under UTC, Los Angeles, Lord Howe and Kiritimati', () => {
    const results: string[] = [];
    const offsets = new Set<number>();
    for (const zone of ZONES) {
      process.env['TZ'] = zone;
      // Prove the zone really changed for this process (Node re-reads TZ on assignment).
      offsets.add(new Date(Date.UTC(2025, 0, 15)).getTimezoneOffset());
      results.push(JSON.stringify(battery()));
      for (const day of sampleDays) {
        const s = fromEpochDay(day);
        expect(s).toBe(oracleDate(day));
        const [y, m, d] = [Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10))];
        expect(toEpochDay(s)).toBe(oracleDay(y, m, d));
        if (y >= 100) expect(toEpochDay(s)).toBe(Date.UTC(y, m - 1, d) / 86_400_000);
      }
    }
    expect(offsets.size).toBe(ZONES.length);
    for (const r of results) expect(r).toBe(results[0]);
  });
});
