import { describe, expect, it } from 'vitest';
import { dateRange, type IsoDate } from '@smart-backfill/core';
import { createWorker, processorRegistry, queueMessageForRequest, withSmartBackfill } from '@smart-backfill/engine';
import { D, DAY, P, world } from './support/world.js';
import { advance } from './support/time.js';

const GAP = dateRange(D('2025-11-08'), D('2025-11-12'));
const MINUTE = 60_000;

describe('alert delivery and manual heals, between runs', () => {
  it('an escalation nobody heard of says so (told: false, the error), is recorded undelivered, and the worker retries it with backoff', async () => {
    const { clock, store, filler } = world({ today: D('2025-11-16'), missing: GAP });
    const guarded = withSmartBackfill(filler, { ...store, alerter: store.alerter, alertLog: store.alertLog });
    store.alerter.failWhen(true);
    const out = await guarded.run({ date: D('2025-11-16') });
    expect(out).toMatchObject({ _tag: 'Escalated', alerted: false, told: false, deliveryError: expect.stringMatching(/told to fail/) });
    expect(await store.alertLog.list({ openOnly: true })).toMatchObject([
      { sendCount: 0, sendFailures: 1, lastSendError: expect.stringMatching(/told to fail/), lastSentAt: null },
    ]);
    const runs = await store.runLog.runs({});
    expect(runs[0]?.metadata).toMatchObject({ alerted: false, alert_told: false });

    const worker = createWorker({ ...store, registry: processorRegistry([guarded]), alertRetrySweepMs: MINUTE });
    // Not due yet: the first retry waits a minute after the failure.
    await worker.runOnce();
    expect(store.alerter.attempts()).toBe(1);
    // Due, still failing: a second failure, and the next try waits twice as long.
    await advance(clock, MINUTE);
    await worker.runOnce();
    expect(store.alerter.attempts()).toBe(2);
    await advance(clock, MINUTE);
    await worker.runOnce();
    expect(store.alerter.attempts()).toBe(2);
    // The channel is back: delivered once, and a later run says a person has it.
    store.alerter.failWhen(false);
    await advance(clock, MINUTE);
    await worker.runOnce();
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated']);
    expect(await store.alertLog.list({ openOnly: true })).toMatchObject([{ sendCount: 1, sendFailures: 0, lastSendError: null }]);
    await advance(clock, MINUTE);
    await worker.runOnce();
    expect(store.alerter.notices).toHaveLength(1);
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({
      _tag: 'Escalated',
      alerted: false,
      told: true,
      deliveryError: null,
    });
  });

  it('a manual heal: when the worker fills the last date of an open alert, the alert is resolved and `healed` sent once', async () => {
    const { clock, store, filler } = world({ today: D('2025-11-16'), missing: GAP });
    const guarded = withSmartBackfill(filler, { ...store, alerter: store.alerter, alertLog: store.alertLog });
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({ _tag: 'Escalated', alerted: true });
    await advance(clock, DAY);
    // A person backfills the gap by hand.
    const { created } = await store.tracker.create(
      GAP.map((gameDate: IsoDate) => ({
        requestId: `manual-${gameDate}`,
        processorName: P,
        gameDate,
        requestType: 'manual' as const,
        priority: 'normal' as const,
        requestedAt: clock.now(),
        requestedBy: 'a person',
        triggerReason: 'manual_backfill',
        metadata: {},
      })),
    );
    await store.queue.publish(created.map(queueMessageForRequest));
    // No held run to resume (resume off): the heal must not wait for one, nor for the next scheduled run.
    const worker = createWorker({ ...store, registry: processorRegistry([guarded]), resume: false });
    const tick = await worker.runOnce({ max: 10 });
    expect(tick.outcomes.map((o) => o._tag)).toEqual(['Completed', 'Completed', 'Completed', 'Completed', 'Completed']);
    expect(await store.alertLog.list({ openOnly: true })).toEqual([]);
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated', 'healed']);
    expect(store.alerter.notices[1]).toMatchObject({ alertKey: `${P}:2025-11-08`, timeToRecoveryMs: expect.any(Number) as number });
    await worker.runOnce();
    expect(store.alerter.notices).toHaveLength(2);
  });
});
