import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, isoDate, isValidTimeZone, resolveDateSpec } from '../src/index.js';
import { todayIn } from '../src/relative-date.js';

// 11:00 UTC on Nov 16: already Nov 17 on Kiritimati (UTC+14), still Nov 16 in Los Angeles (UTC-8).
const NOW = Date.UTC(2025, 10, 16, 11, 0, 0);
const dateOf = (value: string, zone: string) => {
  const r = resolveDateSpec(value, NOW, zone);
  if (r._tag === 'Err') throw new Error(r.error.message);
  return r.value.date;
};

describe('resolveDateSpec', () => {
  it('resolves today, yesterday and -N in the configured zone', () => {
    expect(dateOf('today', 'UTC')).toBe('2025-11-16');
    expect(dateOf('yesterday', 'UTC')).toBe('2025-11-15');
    expect(dateOf('yesterday', 'Pacific/Kiritimati')).toBe('2025-11-16');
    expect(dateOf('yesterday', 'America/Los_Angeles')).toBe('2025-11-15');
    expect(dateOf('today', 'Pacific/Kiritimati')).toBe('2025-11-17');
    expect(dateOf('-7', 'America/Los_Angeles')).toBe('2025-11-09');
    expect(dateOf('-0', 'UTC')).toBe('2025-11-16');
  });

  it('says which words it resolved, and passes ISO dates through unchanged', () => {
    expect(resolveDateSpec('Yesterday', NOW, 'UTC')).toEqual({ _tag: 'Ok', value: { date: '2025-11-15', relative: 'yesterday' } });
    expect(resolveDateSpec('2024-02-29', NOW, 'Pacific/Kiritimati')).toEqual({
      _tag: 'Ok',
      value: { date: '2024-02-29', relative: undefined },
    });
  });

  it('rejects anything else with the forms it accepts', () => {
    for (const bad of ['tomorrow', '+1', '-', '-1d', '2025-02-30', '', '-99999']) {
      const r = resolveDateSpec(bad, NOW, 'UTC');
      expect(r._tag, bad).toBe('Err');
    }
    const r = resolveDateSpec('tomorrow', NOW, 'UTC');
    expect(r._tag === 'Err' && r.error.message).toBe(
      '"tomorrow" is not a date: use YYYY-MM-DD, today, yesterday or -N (N days before today)',
    );
  });

  it('in UTC, today is the ISO date of the instant and -N is N days before it', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2999, 11, 31) }), fc.integer({ min: 0, max: 3660 }), (ms, n) => {
        const today = isoDate(new Date(ms).toISOString().slice(0, 10));
        expect(todayIn(ms, 'UTC')).toBe(today);
        const r = resolveDateSpec(`-${n}`, ms, 'UTC');
        expect(r._tag === 'Ok' && r.value.date).toBe(addDays(today, -n));
      }),
    );
  });

  it('in any zone, today is within a day of the UTC date', () => {
    const zones = ['Pacific/Kiritimati', 'America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Pago_Pago', 'Europe/Paris'];
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2999, 11, 31) }), fc.constantFrom(...zones), (ms, zone) => {
        const utc = todayIn(ms, 'UTC');
        expect([addDays(utc, -1), utc, addDays(utc, 1)]).toContain(todayIn(ms, zone));
      }),
    );
  });
});

describe('isValidTimeZone', () => {
  it('knows IANA names and refuses others', () => {
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Europe/Paris')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});
