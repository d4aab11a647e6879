import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatReport, simulate, type SimulationReport } from '@smart-backfill/testkit';
import { runSimulateCli } from '../src/simulate-cli.js';

/** The safety promises every run must keep, whatever the seed and the fault rates. */
const expectSafe = (r: SimulationReport): void => {
  expect(r.violations).toEqual([]);
  expect(r.lostRequests).toBe(0);
  expect(r.lostDates).toBe(0);
  expect(r.duplicateActiveMoments).toBe(0);
  expect(r.gaps.smallNeedingPerson).toBe(0);
  expect(r.gaps.largeNotAlerted).toBe(0);
  expect(r.alerts.repeatAlerts).toBe(0);
};

describe('simulate', () => {
  it('20 processors × 365 days, 5% daily failures, 20% publish failures (half ambiguous), 5% worker crashes, 1–3 deliveries: nothing lost, never two active requests, small gaps heal alone, large gaps alerted once', async () => {
    const r = await simulate({
      seed: 20251116,
      processors: 20,
      days: 365,
      dailyFailureRate: 0.05,
      publishFailureRate: 0.2,
      ambiguousPublishRate: 0.1,
      workerCrashRate: 0.05,
      maxDeliveries: 3,
    });
    // Printed so the figures land in the test log (they are also in the report to the lead).
    console.info(formatReport(r));
    expectSafe(r);
    expect(r.gaps.unhealedAtEnd).toBe(0);
    expect(r.missingDatesAtEnd).toBe(0);
    // Every gap the guard saw above the threshold reached a person exactly once.
    expect(r.alerts.perEscalatedGap.min).toBe(1);
    expect(r.alerts.perEscalatedGap.max).toBe(1);
    expect(r.gaps.recoveredAutomatically).toBe(r.gaps.small);
    // The run really exercised what it claims to survive.
    expect(r.gaps.created).toBeGreaterThan(100);
    expect(r.gaps.large).toBeGreaterThan(0);
    expect(r.injected.failedRuns + r.injected.partialWrites + r.injected.outages).toBeGreaterThan(200);
    expect(r.injected.ambiguousPublishes).toBeGreaterThan(0);
    expect(r.injected.publishFailures).toBeGreaterThan(r.injected.ambiguousPublishes);
    expect(r.injected.lostAcks).toBeGreaterThan(0);
    expect(r.requests.maxDeliveriesOfOneMessage).toBeGreaterThanOrEqual(3);
    expect(Object.keys(r.injected.crashesByPoint).sort()).toEqual([
      'after-claim',
      'after-complete',
      'after-receive',
      'after-run',
      'during-run',
    ]);
    expect(r.requests.completed).toBeGreaterThan(r.gaps.created);
  });

  it('keeps its safety promises under much harsher faults, for any seed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const r = await simulate({
          seed,
          processors: 4,
          days: 120,
          dailyFailureRate: 0.12,
          publishFailureRate: 0.5,
          ambiguousPublishRate: 0.25,
          insertFailureRate: 0.1,
          workerCrashRate: 0.25,
          redeliveryRate: 0.5,
          backfillFailureRate: 0.1,
        });
        expectSafe(r);
        expect(r.gaps.unhealedAtEnd).toBe(0);
      }),
      { numRuns: 6 },
    );
  });

  it('gives the identical report for the same seed, and a different one for another seed', async () => {
    const opts = { processors: 6, days: 120 };
    const a = await simulate({ seed: 42, ...opts });
    const b = await simulate({ seed: 42, ...opts });
    const c = await simulate({ seed: 43, ...opts });
    expect(b).toEqual(a);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(c).not.toEqual(a);
  });

  it('escalates more and heals less by itself with a stricter threshold', async () => {
    const base = { seed: 5, processors: 8, days: 180 };
    const strict = await simulate({ ...base, policy: { autoBackfillThreshold: 1 } });
    const loose = await simulate({ ...base, policy: { autoBackfillThreshold: 7 } });
    expectSafe(strict);
    expectSafe(loose);
    expect(strict.gaps.escalated).toBeGreaterThan(loose.gaps.escalated);
    expect(strict.manualInterventions).toBeGreaterThan(loose.manualInterventions);
  });

  it('names the bad option', async () => {
    await expect(simulate({ seed: 1, dailyFailureRate: 1.5 })).rejects.toThrow(
      /dailyFailureRate must be a probability in \[0, 1\], got 1.5/,
    );
    await expect(simulate({ seed: 1, processors: 0 })).rejects.toThrow(/processors must be a whole number >= 1, got 0/);
    await expect(simulate({ seed: 1, publishFailureRate: 0.1, ambiguousPublishRate: 0.2 })).rejects.toThrow(/ambiguousPublishRate/);
    await expect(simulate({ seed: 1.5 })).rejects.toThrow(/seed must be a whole number/);
    await expect(simulate({ seed: 1, policy: { lookbackDays: -2 } })).rejects.toThrow(/lookbackDays must be a whole number >= 1, got -2/);
  });
});

describe('simulate CLI', () => {
  it('prints a table, or JSON with --json, and exits 0 when no promise broke', async () => {
    const table = await runSimulateCli(['--seed', '3', '--processors', '3', '--days', '60']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/lost requests\s+0/);
    expect(table.stdout).toMatch(/two active requests, moments\s+0/);
    const json = await runSimulateCli(['--seed', '3', '--processors', '3', '--days', '60', '--json']);
    const parsed = JSON.parse(json.stdout) as SimulationReport;
    expect(parsed).toEqual(await simulate({ seed: 3, processors: 3, days: 60, policy: {} }));
  });

  it('rejects bad flags with the flag name and the usage', async () => {
    const bad = await runSimulateCli(['--failure-rate', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--failure-rate must be a probability in \[0, 1\], got 2/);
    expect(bad.stderr).toMatch(/Usage: simulate/);
    const nan = await runSimulateCli(['--days', 'many']);
    expect(nan.stderr).toMatch(/--days must be a number, got "many"/);
    const unknown = await runSimulateCli(['--frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/frobnicate/);
    expect((await runSimulateCli(['--help'])).stdout).toMatch(/--seed N/);
  });
});
