import { describe, expect, it } from 'vitest';
import { simulateGraph } from '@smart-backfill/testkit';

describe('simulateGraph', () => {
  it('13 processors in four levels, 120 days of lost, late and restated raw days and crashing workers: no run on an incomplete input, no date rebuilt twice, no gap left', async () => {
    const r = await simulateGraph({ seed: 20251116, days: 120, rawFailureRate: 0.1, restatementRate: 0.03, workerCrashRate: 0.25 });
    console.info(`[figures] simulateGraph ${JSON.stringify({ ...r, examples: undefined })}`);
    expect(r.examples).toEqual([]);
    expect(r.runsOnIncompleteInputs).toBe(0);
    expect(r.rebuiltMoreThanOnce).toBe(0);
    expect(r.gapsLeft).toBe(0);
    expect(r.upstreamGapsHealed).toBe(r.upstreamGaps);
    // The run really exercised what it claims to survive.
    expect(r.levels).toBe(4);
    expect(r.injected.rawDaysLost).toBeGreaterThan(0);
    expect(r.injected.rawDaysLate).toBeGreaterThan(0);
    expect(r.injected.outages).toBeGreaterThan(0);
    expect(r.injected.restatements).toBeGreaterThan(0);
    expect(r.injected.lostAcks).toBeGreaterThan(0);
    expect(r.runsHeld).toBeGreaterThan(0);
    expect(r.requests.upstreamHealed).toBeGreaterThan(0);
    for (const p of ['after-claim', 'during-run', 'after-complete', 'before-resume-write', 'after-resume-write'])
      expect(r.injected.crashesByPoint[p] ?? 0, p).toBeGreaterThan(0);
  });

  it('the same seed gives the same report', async () => {
    const a = await simulateGraph({ seed: 7, days: 30, rawFailureRate: 0.1, workerCrashRate: 0.2 });
    const b = await simulateGraph({ seed: 7, days: 30, rawFailureRate: 0.1, workerCrashRate: 0.2 });
    expect(b).toEqual(a);
  });
});
