/**
 * Deterministic simulation (testkit `simulate`): 20 processors × 365 days with
 * the engine issue's faults — failed runs, partial writes, outages, publish
 * failures (half ambiguous), tracker insert failures, lost acks, worker crashes
 * at every point. Fixed seeds: the same seed gives the same report.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, simulate, type SimulationReport } from '@smart-backfill/testkit';
import { afterAll } from 'vitest';
import { checkDocBlock, table } from './doc-figures.js';
import { record } from './figures.js';

const FAULTS = {
  processors: 20,
  days: 365,
  dailyFailureRate: 0.05,
  publishFailureRate: 0.2,
  ambiguousPublishRate: 0.1,
  insertFailureRate: 0.02,
  workerCrashRate: 0.05,
  redeliveryRate: 0.3,
  maxDeliveries: 3,
} as const;

/** Seed of the issue, then a few more. Each one is a full year of 20 processors. */
const SEEDS = [20251116, 1, 7, 4242, 99, 123456];

const expectHealthy = (r: SimulationReport): void => {
  expect(r.violations).toEqual([]);
  expect(r.lostRequests).toBe(0);
  expect(r.lostDates).toBe(0);
  expect(r.duplicateActiveMoments).toBe(0);
  // 100% of small gaps healed without a person
  expect(r.gaps.smallNeedingPerson).toBe(0);
  expect(r.gaps.recoveredAutomatically).toBe(r.gaps.small);
  // every large gap alerted, once
  expect(r.gaps.largeNotAlerted).toBe(0);
  expect(r.alerts.repeatAlerts).toBe(0);
  if (r.gaps.escalated > 0) {
    expect(r.alerts.perEscalatedGap.min).toBe(1);
    expect(r.alerts.perEscalatedGap.max).toBe(1);
  }
  expect(r.gaps.unhealedAtEnd).toBe(0);
  expect(r.missingDatesAtEnd).toBe(0);
  // the year really exercised the faults
  expect(r.gaps.created).toBeGreaterThan(100);
  expect(r.injected.workerCrashes).toBeGreaterThan(0);
  expect(r.injected.ambiguousPublishes).toBeGreaterThan(0);
};

const rows = new Map<number, (string | number)[]>();
afterAll(() => {
  // Only when every seed ran (a filtered run compares nothing).
  if (rows.size !== SEEDS.length) return;
  checkDocBlock(
    'simulation',
    table(
      [
        'seed',
        'gaps',
        'small (healed alone)',
        'large (alerted once)',
        'lost requests / dates',
        'duplicate active',
        'worker crashes',
        'publish failures',
        'requests',
        'recovery median / p90 (min)',
      ],
      SEEDS.map((s) => rows.get(s) ?? []),
    ),
  );
});

describe('deterministic simulation, 20 processors × 365 days with faults', () => {
  it.each(SEEDS)('seed %i: 0 lost, 0 duplicate active, every small gap healed alone, every large gap alerted once', async (seed) => {
    const r = await simulate({ seed, ...FAULTS });
    console.info(formatReport(r));
    expectHealthy(r);
    rows.set(seed, [
      seed,
      r.gaps.created,
      `${r.gaps.small} (${r.gaps.recoveredAutomatically})`,
      `${r.gaps.large} (${r.gaps.escalated})`,
      `${r.lostRequests} / ${r.lostDates}`,
      r.duplicateActiveMoments,
      r.injected.workerCrashes,
      r.injected.publishFailures,
      r.requests.created,
      `${r.recoveryMinutes.median} / ${r.recoveryMinutes.p90}`,
    ]);
    record('simulation', `seed ${seed}`, {
      gaps: r.gaps.created,
      small: r.gaps.small,
      healedAlone: r.gaps.recoveredAutomatically,
      large: r.gaps.large,
      escalated: r.gaps.escalated,
      alertsPerLargeGap: `${r.alerts.perEscalatedGap.min}..${r.alerts.perEscalatedGap.max}`,
      lostRequests: r.lostRequests,
      lostDates: r.lostDates,
      duplicateActive: r.duplicateActiveMoments,
      workerCrashes: r.injected.workerCrashes,
      publishFailures: r.injected.publishFailures,
      requests: r.requests.created,
      recoveryMedianMin: r.recoveryMinutes.median,
      recoveryP90Min: r.recoveryMinutes.p90,
    });
  });
});
