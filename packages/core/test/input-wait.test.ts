import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addDays, datesWaitingForInputs, isoDate, upstreamDatesRead } from '../src/index.js';

const D = isoDate;
const X = D('2025-11-10');

describe('datesWaitingForInputs: a date waits while an input date it reads is missing or held', () => {
  it('a date reading a missing input date over the lookback waits; one outside it does not', () => {
    const inputs = [{ lookbackDays: 6, unavailable: new Set([X]) }];
    const dates = [addDays(X, -1), X, addDays(X, 6), addDays(X, 7)];
    expect([...datesWaitingForInputs(dates, new Set(), inputs)]).toEqual([X, addDays(X, 6)]);
  });

  it('a run held for its inputs waits; a date held only for its own window does not (its backfill is what that hold waits for)', () => {
    // The case the two old rules disagreed on: only runs held for inputs count, whoever asks.
    expect([...datesWaitingForInputs([X, addDays(X, 1)], new Set([X]), [])]).toEqual([X]);
    expect([...datesWaitingForInputs([X], new Set(), [{ lookbackDays: 0, unavailable: new Set() }])]).toEqual([]);
  });

  it('property: a date waits exactly when it is held for inputs or reads an unavailable input date', () => {
    const day = fc.integer({ min: 0, max: 40 }).map((n) => addDays(X, n));
    fc.assert(
      fc.property(
        fc.uniqueArray(day, { maxLength: 10 }),
        fc.uniqueArray(day, { maxLength: 4 }),
        fc.array(fc.record({ lookbackDays: fc.integer({ min: 0, max: 10 }), unavailable: fc.uniqueArray(day, { maxLength: 5 }) }), {
          maxLength: 3,
        }),
        (dates, held, raw) => {
          const inputs = raw.map((i) => ({ lookbackDays: i.lookbackDays, unavailable: new Set(i.unavailable) }));
          const waits = datesWaitingForInputs(dates, new Set(held), inputs);
          for (const d of dates) {
            const reads = inputs.some((i) => upstreamDatesRead(i, d).some((u) => i.unavailable.has(u)));
            expect(waits.has(d)).toBe(held.includes(d) || reads);
          }
          expect([...waits].every((d) => dates.includes(d))).toBe(true);
        },
      ),
    );
  });
});
