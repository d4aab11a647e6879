import { describe, expect, it } from 'vitest';
import { dateRange, type Alerter, type IsoDate } from '@smart-backfill/core';
import { createWorker, processorRegistry, queueMessageForRequest, undeliveredNotice, withSmartBackfill } from '@smart-backfill/engine';
import { D, DAY, P, world } from './support/world.js';
import { advance, settle } from './support/time.js';

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
      GAP.map((date: IsoDate) => ({
        requestId: `manual-${date}`,
        processorName: P,
        date,
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
  it('a reminder that reached nobody is retried by the worker, with the same backoff as the other notices', async () => {
    const { clock, store, filler } = world({ today: D('2025-11-16'), missing: GAP });
    const guarded = withSmartBackfill(filler, { ...store, alerter: store.alerter, alertLog: store.alertLog, reminderIntervalMs: DAY });
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({ _tag: 'Escalated', alerted: true });
    await advance(clock, DAY);
    store.alerter.failWhen(true);
    // A person was told before: the failed reminder does not undo that, but it is recorded.
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({
      alerted: false,
      told: true,
      deliveryError: expect.stringMatching(/told to fail/),
    });
    expect(await store.alertLog.list({ openOnly: true })).toMatchObject([{ sendCount: 1, sendFailures: 1 }]);
    expect(undeliveredNotice((await store.alertLog.list({}))[0]!)).toBe('reminder');

    const worker = createWorker({ ...store, registry: processorRegistry([guarded]), alertRetrySweepMs: MINUTE });
    store.alerter.failWhen(false);
    await worker.runOnce(); // not due: a minute after the failure
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated']);
    await advance(clock, MINUTE);
    await worker.runOnce();
    expect(store.alerter.notices.map((n) => n.kind)).toEqual(['escalated', 'reminder']);
    expect(await store.alertLog.list({ openOnly: true })).toMatchObject([{ sendCount: 2, sendFailures: 0, lastSendError: null }]);
    // Delivered: nothing owed any more, so no further retry.
    await advance(clock, 10 * MINUTE);
    await worker.runOnce();
    expect(store.alerter.notices).toHaveLength(2);
  });

  it('two worker slots of one process never deliver the same due notice twice at once', async () => {
    const { clock, store, filler } = world({ today: D('2025-11-16'), missing: GAP });
    // The first delivery fails; the retries are held open until released, as a slow channel would.
    let calls = 0;
    const gates: (() => void)[] = [];
    const delivered: string[] = [];
    const slow: Alerter = {
      send: async (n) => {
        calls++;
        if (calls === 1) throw new Error('down');
        await new Promise<void>((resolve) => gates.push(resolve));
        delivered.push(n.kind);
      },
    };
    const guarded = withSmartBackfill(filler, { ...store, alerter: slow, alertLog: store.alertLog });
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({ told: false });
    await advance(clock, MINUTE);
    // Two slots (as `worker --concurrency 2` builds them), one guard per processor shared between them.
    const registry = processorRegistry([guarded]);
    const slots = [0, 1].map(() => createWorker({ ...store, registry, alertRetrySweepMs: MINUTE, resume: false }));
    const first = slots[0]!.runOnce();
    await settle();
    expect(calls).toBe(2); // the first slot's pass is sending
    const second = slots[1]!.runOnce();
    await settle();
    expect(calls).toBe(2); // the second slot did not start a send of its own
    for (const open of gates.splice(0)) open();
    await Promise.all([first, second]);
    expect(delivered).toEqual(['escalated']);
    expect(await store.alertLog.list({})).toMatchObject([{ sendCount: 1, sendFailures: 0 }]);
    // Once the pass is over, the next one runs again (nothing due now: delivered).
    await advance(clock, MINUTE);
    await Promise.all(slots.map((w) => w.runOnce()));
    expect(calls).toBe(2);
  });
});
