import { describe, expect, it } from 'vitest';
import { simulate } from '@smart-backfill/testkit';

/**
 * The harsh settings that found three engine faults (a date alerted twice after a
 * reason switch, a resume lost with a worker that died after `Complete`, lapsed
 * claims using up `maxAttempts`), at a size that runs in seconds.
 */
const HARSH = {
  processors: 6,
  days: 150,
  dailyFailureRate: 0.15,
  publishFailureRate: 0.6,
  ambiguousPublishRate: 0.3,
  workerCrashRate: 0.3,
  insertFailureRate: 0.2,
  backfillFailureRate: 0.2,
  redeliveryRate: 0.6,
} as const;

/**
 * The engine's defaults: `maxAttempts` 3 real failures, `maxLeaseLapses` 10 lapsed
 * claims. A backfill is run on at most 3 + 10 claims (the 13th ends in its third
 * failure, its tenth lapse, or its completion). Claims themselves may go past
 * that: the claim that fails a poison request can die too.
 */
const MAX_RUNS_PER_REQUEST = 3 + 10;

describe('simulate at harsh settings', () => {
  for (const seed of [2, 3, 5]) {
    it(`seed ${seed}: nobody is told twice, nothing is lost, no held run is left behind, claims stay bounded`, async () => {
      const runsPerRequest = new Map<string, number>();
      const r = await simulate({
        seed,
        ...HARSH,
        inspect: async ({ store }) => {
          for (const run of await store.runLog.runs({})) {
            const id = run.metadata.request_id;
            if (run.isBackfill && typeof id === 'string') runsPerRequest.set(id, (runsPerRequest.get(id) ?? 0) + 1);
          }
        },
      });
      expect(r.violations).toEqual([]);
      expect(r.alerts.repeatAlerts).toBe(0);
      expect(r.lostRequests).toBe(0);
      expect(r.lostDates).toBe(0);
      expect(r.duplicateActiveMoments).toBe(0);
      expect(r.gaps.unhealedAtEnd).toBe(0);
      expect(r.staleHeldRuns).toBe(0);
      // Crashes lapsed claims (some request was claimed more than maxAttempts times), yet none was run past the bound.
      expect(r.injected.crashesByPoint['after-claim'] ?? 0).toBeGreaterThan(0);
      expect(r.requests.maxAttempt).toBeGreaterThan(3);
      expect(Math.max(...runsPerRequest.values())).toBeLessThanOrEqual(MAX_RUNS_PER_REQUEST);
      // Every escalation notice opened a new alert over new dates; each alert healed once.
      expect(r.alerts.healedNotices).toBe(r.alerts.escalatedNotices);
    });
  }
});
