import { describe, expect, it } from 'vitest';
import { builtOnIncompleteInput, isoDate } from '../src/index.js';
import { dayLookup } from '../src/day-lookup.js';

describe('dayLookup', () => {
  it('finds each day, nothing outside or between, and the later of a repeated day (dense days: an array)', () => {
    const l = dayLookup([10, 12, 11, 12], ['a', 'b', 'c', 'd']);
    expect([9, 10, 11, 12, 13].map((d) => l.get(d))).toEqual([undefined, 'a', 'c', 'd', undefined]);
    expect(dayLookup([10, 14], ['a', 'b']).get(12)).toBeUndefined();
  });

  it('answers the same for days far apart (a map, not an array spanning them)', () => {
    const l = dayLookup([-700_000, 0, 2_900_000], [1, 2, 3]);
    expect(l).toBeInstanceOf(Map);
    expect([-700_000, -1, 0, 1, 2_900_000].map((d) => l.get(d))).toEqual([1, undefined, 2, undefined, 3]);
    expect(dayLookup([], []).get(0)).toBeUndefined();
  });
});

describe('builtOnIncompleteInput over dates centuries apart', () => {
  it('still finds the date built before what it reads was rebuilt', () => {
    const d = isoDate;
    const stale = builtOnIncompleteInput(
      [{ processor: 'up', lookbackDays: 1 }],
      new Map([
        [d('0100-01-02'), 10],
        [d('9000-01-01'), 10],
      ]),
      new Map([
        [
          'up',
          new Map([
            [d('0100-01-01'), 20],
            [d('9000-01-01'), 5],
          ]),
        ],
      ]),
    );
    expect(stale).toEqual(['0100-01-02']);
  });
});
