import fc from 'fast-check';
import { fromEpochDay, type EpochDay, type GapPolicy, type IsoDate } from '@smart-backfill/core';

export const MIN_DAY = -719162; // 0001-01-01
export const MAX_DAY = 2932896; // 9999-12-31

export const epochDayArb = fc.integer({ min: MIN_DAY, max: MAX_DAY });
export const isoDateArb = epochDayArb.map(fromEpochDay);

/** A run date far enough from both ends that any window and shift stays in range. */
export const asOfDayArb = fc.integer({ min: MIN_DAY + 2000, max: MAX_DAY - 2000 });

export const policyArb: fc.Arbitrary<Pick<GapPolicy, 'lookbackDays' | 'criticalLookbackDays' | 'minRecordsPerDate'>> = fc
  .record({
    lookbackDays: fc.integer({ min: 1, max: 60 }),
    critical: fc.nat({ max: 60 }),
    minRecordsPerDate: fc.integer({ min: 1, max: 200 }),
  })
  .map(({ lookbackDays, critical, minRecordsPerDate }) => ({
    lookbackDays,
    criticalLookbackDays: critical % (lookbackDays + 1),
    minRecordsPerDate,
  }));

export interface Scenario {
  readonly asOfDay: EpochDay;
  readonly asOf: IsoDate;
  readonly policy: Pick<GapPolicy, 'lookbackDays' | 'criticalLookbackDays' | 'minRecordsPerDate'>;
  /** Expected dates, unsorted, with duplicates and dates outside the window. */
  readonly expected: IsoDate[];
  /** Counts per date, including dates nobody expects. */
  readonly counts: Map<IsoDate, number>;
}

/**
 * A check around a run date: expected offsets from 75 days before to 5 after
 * (so some fall outside the window), counts 0..250 near the 1..200 minimum.
 */
export const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    asOfDay: asOfDayArb,
    policy: policyArb,
    expectedOffsets: fc.array(fc.integer({ min: -75, max: 5 }), { maxLength: 90 }),
    countEntries: fc.array(fc.tuple(fc.integer({ min: -75, max: 5 }), fc.nat({ max: 250 })), { maxLength: 90 }),
    sorted: fc.boolean(),
  })
  .map(({ asOfDay, policy, expectedOffsets, countEntries, sorted }) => {
    const offs = sorted ? [...expectedOffsets].sort((a, b) => a - b) : expectedOffsets;
    const counts = new Map<IsoDate, number>();
    for (const [o, n] of countEntries) counts.set(fromEpochDay(asOfDay + o), n);
    return {
      asOfDay,
      asOf: fromEpochDay(asOfDay),
      policy,
      expected: offs.map((o) => fromEpochDay(asOfDay + o)),
      counts,
    };
  });
