import { describe, expect, it } from 'vitest';
import { dateRange } from '@smart-backfill/core';
import { withSmartBackfill } from '@smart-backfill/engine';
import { alertKeyFor } from '../src/guard.js';
import { jsonLinesLogger } from '../src/logger.js';
import { D, DAY, P, world } from './support/world.js';
import { advance } from './support/time.js';

const GAP = dateRange(D('2025-11-08'), D('2025-11-12'));

describe('escalation', () => {
  it('a 5-day gap alerts once across repeated runs, keeps one alert as it grows, and heals with time to recovery', async () => {
    const { clock, store, filler, calls } = world({ today: D('2025-11-16'), missing: GAP });
    const guarded = withSmartBackfill(filler, { ...store, alerter: store.alerter, alertLog: store.alertLog });
    const openedAt = clock.now();

    const first = await guarded.run({ date: D('2025-11-16') });
    expect(first).toMatchObject({
      _tag: 'Escalated',
      alerted: true,
      alertKey: alertKeyFor(P, D('2025-11-08')),
      decision: { reason: 'gap_exceeds_threshold', holdRun: true },
    });
    expect(store.alerter.notices).toHaveLength(1);
    expect(store.alerter.notices[0]).toEqual({
      kind: 'escalated',
      alertKey: `${P}:2025-11-08`,
      processorName: P,
      runDate: '2025-11-16',
      reason: 'gap_exceeds_threshold',
      missingDates: GAP,
      absentDates: GAP,
      incompleteDates: [],
      lastError: null,
      healCommand: `smart-backfill backfill ${P} --from 2025-11-08 --to 2025-11-12`,
      openedAt,
      at: openedAt,
      timeToRecoveryMs: null,
    });
    expect(store.requests()).toEqual([]); // nothing queued for a large gap
    expect((await store.runLog.runs({}))[0]).toMatchObject({
      outcome: 'skipped',
      skipReason: 'gap_escalated',
      metadata: { gap_size: 5, alerted: true },
    });
    expect(await store.runLog.heldRuns({ status: 'held' })).toMatchObject([{ runDate: '2025-11-16', reason: 'gap_escalated' }]);

    // Later days: the held Nov 16 is now missing too; still one alert, no new notice.
    for (const day of ['2025-11-17', '2025-11-18', '2025-11-19'] as const) {
      await advance(clock, DAY);
      expect(await guarded.run({ date: D(day) })).toMatchObject({ _tag: 'Escalated', alerted: false, alertKey: `${P}:2025-11-08` });
    }
    expect(store.alerter.notices).toHaveLength(1);
    expect(await store.alertLog.list({ openOnly: true })).toHaveLength(1);
    expect(calls).toEqual([]);

    // A person fills the gap (and the held days); the next check heals the alert.
    for (const d of [...GAP, ...dateRange(D('2025-11-16'), D('2025-11-19'))]) store.setCount(P, d, 150);
    await advance(clock, DAY);
    expect(await guarded.run({ date: D('2025-11-20') })).toMatchObject({ _tag: 'Ran', reason: 'no_gaps' });
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated', 'healed']);
    const healed = store.alerter.notices[1];
    expect(healed).toMatchObject({ alertKey: `${P}:2025-11-08`, timeToRecoveryMs: 4 * DAY });
    expect(await store.alertLog.list({ openOnly: true })).toEqual([]);
    // And it stays healed: no second notice.
    await guarded.run({ date: D('2025-11-20') });
    expect(store.alerter.notices).toHaveLength(2);
  });

  it('a throwing alerter never breaks the run; the notice is retried later', async () => {
    const { clock, store, filler } = world({ missing: GAP });
    const lines: string[] = [];
    store.alerter.failWhen(true);
    const guarded = withSmartBackfill(filler, {
      ...store,
      alerter: store.alerter,
      logger: jsonLinesLogger({ write: (l) => lines.push(l), now: () => clock.now() }),
    });
    const out = await guarded.run({ date: D('2025-11-16') });
    expect(out).toMatchObject({ _tag: 'Escalated', alerted: false });
    expect(store.alerter.attempts()).toBe(1);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'alert could not be sent', alertKey: `${P}:2025-11-08` }),
    );
    expect((await store.runLog.runs({}))[0]).toMatchObject({ outcome: 'skipped', skipReason: 'gap_escalated' });
    expect((await store.alertLog.list({}))[0]).toMatchObject({ lastSentAt: null, sendCount: 0 });

    store.alerter.failWhen(false);
    await advance(clock, DAY);
    expect(await guarded.run({ date: D('2025-11-17') })).toMatchObject({ _tag: 'Escalated', alerted: true });
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated']);
  });

  it('re-sends a reminder for a gap that stays open past the reminder interval', async () => {
    const { clock, store, filler } = world({ missing: GAP });
    const guarded = withSmartBackfill(filler, { ...store, alerter: store.alerter, reminderIntervalMs: 2 * DAY });
    for (const day of ['2025-11-16', '2025-11-17', '2025-11-18', '2025-11-19']) {
      await guarded.run({ date: D(day) });
      await advance(clock, DAY);
    }
    expect(store.alerter.notices.map((n) => [n.kind, n.runDate])).toEqual([
      ['escalated', '2025-11-16'],
      ['reminder', '2025-11-18'],
    ]);
  });

  it('reports absent vs incomplete dates with counts', async () => {
    const { store, filler } = world({ missing: GAP });
    store.setCount(P, D('2025-11-10'), 12);
    await withSmartBackfill(filler, { ...store, alerter: store.alerter }).run({ date: D('2025-11-16') });
    expect(store.alerter.notices[0]).toMatchObject({
      absentDates: ['2025-11-08', '2025-11-09', '2025-11-11', '2025-11-12'],
      incompleteDates: [{ date: '2025-11-10', count: 12 }],
    });
  });

  it('a resumed run for an older date does not heal a newer gap it cannot see', async () => {
    const { clock, store, filler } = world({ missing: GAP });
    const guarded = withSmartBackfill(filler, { ...store, alerter: store.alerter });
    await guarded.run({ date: D('2025-11-16') });
    await advance(clock, DAY);
    expect(await guarded.run({ date: D('2025-11-05'), trigger: 'manual' })).toMatchObject({ _tag: 'Ran' });
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated']);
  });
});
