import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { seededRandom } from '@smart-backfill/testkit';

describe('seededRandom', () => {
  it('replays the same sequence from the same seed and differs across seeds', () => {
    const draw = (seed: number | string) => {
      const r = seededRandom(seed);
      return Array.from({ length: 20 }, () => r.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw('abc')).toEqual(draw('abc'));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('stays in [0, 1) and in the integer bounds asked for', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 50 }), (seed, lo, span) => {
        const r = seededRandom(seed);
        for (let i = 0; i < 50; i++) {
          const x = r.next();
          expect(x >= 0 && x < 1).toBe(true);
          const n = r.int(lo, lo + span);
          expect(Number.isInteger(n) && n >= lo && n <= lo + span).toBe(true);
        }
      }),
    );
  });

  it('is roughly uniform (chance(p) lands near p)', () => {
    const r = seededRandom(7);
    let hits = 0;
    for (let i = 0; i < 20_000; i++) if (r.chance(0.2)) hits++;
    expect(hits / 20_000).toBeGreaterThan(0.18);
    expect(hits / 20_000).toBeLessThan(0.22);
    expect(seededRandom(1).chance(0)).toBe(false);
  });

  it('forks independent streams deterministically', () => {
    const a = seededRandom(9).fork('faults');
    const b = seededRandom(9).fork('faults');
    const c = seededRandom(9).fork('crashes');
    const take = (r: ReturnType<typeof seededRandom>) => [r.next(), r.next(), r.next()];
    const ta = take(a);
    expect(ta).toEqual(take(b));
    expect(ta).not.toEqual(take(c));
  });
});
