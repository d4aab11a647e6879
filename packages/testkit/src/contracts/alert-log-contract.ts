import { expect, it } from 'vitest';
import { isoDate, type AlertLog } from '@smart-backfill/core';
import { alertLogBadInput } from './bad-input.js';
import { contractDescribe, withSubject } from './harness.js';
import type { AlertLogSubject, ContractOptions } from './types.js';

const P = 'player_game_summary';
const Q = 'team_defense_game_summary';

const anAlert = (
  alertKey: string,
  processorName: string,
  at: number,
  missing: readonly string[],
): Parameters<AlertLog['upsertOpen']>[0] => ({
  alertKey,
  processorName,
  reason: 'gap_exceeds_threshold',
  runDate: isoDate('2025-03-10'),
  missingDates: missing.map(isoDate),
  lastError: null,
  openedAt: at,
  at,
});

/**
 * The `AlertLog` contract: exactly one caller opens an alert (so a gap reaches
 * a person once), updates keep `openedAt`, `markSent` counts deliveries and
 * clears the failures `markSendFailed` counts (kept after `resolve`, so a failed
 * `healed` notice is retried),
 * exactly one caller resolves it (so `healed` is sent once), list newest first.
 */
export const testAlertLog = (opts: ContractOptions<AlertLogSubject>): void => {
  contractDescribe('AlertLog', opts, () => {
    alertLogBadInput(opts);
    it('opens an alert once and updates it in place', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        const first = await s.alertLog.upsertOpen(anAlert('k1', P, t, ['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04']));
        expect(first.created).toBe(true);
        expect(first.record).toMatchObject({
          alertKey: 'k1',
          processorName: P,
          openedAt: t,
          updatedAt: t,
          lastSentAt: null,
          sendCount: 0,
          resolvedAt: null,
        });
        const second = await s.alertLog.upsertOpen({
          ...anAlert('k1', P, t + 1000, ['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04', '2025-03-05']),
          lastError: 'still missing',
          runDate: isoDate('2025-03-11'),
        });
        expect(second.created).toBe(false);
        expect(second.record).toMatchObject({
          alertKey: 'k1',
          openedAt: t,
          updatedAt: t + 1000,
          lastError: 'still missing',
          runDate: '2025-03-11',
          sendCount: 0,
        });
        expect(second.record.missingDates).toHaveLength(5);
      });
    });

    it('lets exactly one of racing callers open the alert', async () => {
      await withSubject(opts, async (s, clock) => {
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => s.alertLog.upsertOpen(anAlert('k1', P, clock.now() + i, ['2025-03-01']))),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(await s.alertLog.list({ openOnly: true })).toHaveLength(1);
      });
    });

    it('counts delivered notices', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.alertLog.upsertOpen(anAlert('k1', P, t, ['2025-03-01']));
        await s.alertLog.markSent('k1', t + 5);
        await s.alertLog.markSent('k1', t + 9);
        const [a] = await s.alertLog.list({});
        expect([a?.sendCount, a?.lastSentAt]).toEqual([2, t + 9]);
      });
    });

    it('records failed deliveries until one gets through, and lists them', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        const opened = await s.alertLog.upsertOpen(anAlert('k1', P, t, ['2025-03-01']));
        expect(opened.record).toMatchObject({ sendFailures: 0, lastSendError: null, lastSendFailedAt: null });
        await s.alertLog.markSendFailed('k1', t + 5, 'channel "oncall": connection refused');
        await s.alertLog.markSendFailed('k1', t + 9, 'channel "oncall": HTTP 503');
        const [failing] = await s.alertLog.list({ openOnly: true });
        expect(failing).toMatchObject({
          alertKey: 'k1',
          sendFailures: 2,
          lastSendError: 'channel "oncall": HTTP 503',
          lastSendFailedAt: t + 9,
          sendCount: 0,
          lastSentAt: null,
        });
        // An update by a later run keeps the delivery state: the notice is still undelivered.
        await s.alertLog.upsertOpen({ ...anAlert('k1', P, t + 12, ['2025-03-01', '2025-03-02']), lastError: 'x' });
        expect((await s.alertLog.list({}))[0]).toMatchObject({ sendFailures: 2, lastSendError: 'channel "oncall": HTTP 503' });
        await s.alertLog.markSent('k1', t + 20);
        const [sent] = await s.alertLog.list({ processorName: P });
        expect(sent).toMatchObject({ sendFailures: 0, lastSendError: null, lastSentAt: t + 20, sendCount: 1 });
        // markSendFailed of an unknown key is a no-op, not an error.
        await s.alertLog.markSendFailed('never-opened', t + 21, 'x');
        expect((await s.alertLog.list({})).map((a) => a.alertKey)).toEqual(['k1']);
      });
    });

    it('keeps the delivery history of a resolved alert (a failed healed notice)', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.alertLog.upsertOpen(anAlert('k1', P, t, ['2025-03-01']));
        await s.alertLog.markSent('k1', t + 5);
        expect(await s.alertLog.resolve('k1', t + 50)).toBeDefined();
        await s.alertLog.markSendFailed('k1', t + 51, 'deadline passed');
        const [a] = await s.alertLog.list({});
        expect(a).toMatchObject({
          resolvedAt: t + 50,
          sendCount: 1,
          lastSentAt: t + 5,
          sendFailures: 1,
          lastSendError: 'deadline passed',
          lastSendFailedAt: t + 51,
        });
        expect(await s.alertLog.list({ openOnly: true })).toEqual([]);
        await s.alertLog.markSent('k1', t + 60);
        expect((await s.alertLog.list({}))[0]).toMatchObject({ resolvedAt: t + 50, sendCount: 2, sendFailures: 0, lastSendError: null });
      });
    });

    it('resolves an open alert exactly once, and a new gap opens it again', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.alertLog.upsertOpen(anAlert('k1', P, t, ['2025-03-01']));
        const resolved = await Promise.all([
          s.alertLog.resolve('k1', t + 50),
          s.alertLog.resolve('k1', t + 51),
          s.alertLog.resolve('k1', t + 52),
        ]);
        const winners = resolved.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        expect(winners[0]?.resolvedAt).toBeGreaterThanOrEqual(t + 50);
        expect(await s.alertLog.resolve('k1', t + 60)).toBeUndefined();
        expect(await s.alertLog.resolve('never-opened', t + 60)).toBeUndefined();
        expect(await s.alertLog.list({ openOnly: true })).toEqual([]);
        const reopened = await s.alertLog.upsertOpen(anAlert('k1', P, t + 100, ['2025-03-01']));
        expect(reopened.created).toBe(true);
        expect(reopened.record.resolvedAt).toBeNull();
      });
    });

    it('lists newest first, filtered by processor and open ones', async () => {
      await withSubject(opts, async (s, clock) => {
        const t = clock.now();
        await s.alertLog.upsertOpen(anAlert('old', P, t, ['2025-03-01']));
        await s.alertLog.upsertOpen(anAlert('other', Q, t + 10, ['2025-03-01']));
        await s.alertLog.upsertOpen(anAlert('new', P, t + 20, ['2025-03-02']));
        await s.alertLog.resolve('old', t + 30);
        expect((await s.alertLog.list({})).map((a) => a.alertKey)).toEqual(['new', 'other', 'old']);
        expect((await s.alertLog.list({ processorName: P })).map((a) => a.alertKey)).toEqual(['new', 'old']);
        expect((await s.alertLog.list({ processorName: P, openOnly: true })).map((a) => a.alertKey)).toEqual(['new']);
      });
    });
  });
};
