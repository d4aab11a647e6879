/**
 * Issue 12, items 1 and 9 with memory adapters: an empty or mismatched schedule is
 * never a silent "no gaps", and a backfill that "succeeded" must have filled its date.
 */
import { describe, expect, it } from 'vitest';
import { dateRange } from '@smart-backfill/core';
import { createMemoryStore, memoryScheduleSource, memoryWindowReader } from '@smart-backfill/memory';
import { createWorker, processorRegistry, SmartBackfillError, withSmartBackfill, type Logger } from '@smart-backfill/engine';
import { ManualClock } from '@smart-backfill/testkit';
import { D, DAY, morningOf, P, world } from './support/world.js';
import { advance } from './support/time.js';

const ORDERS = 'orders_daily';
const capture = (): { logger: Logger; warnings: string[] } => {
  const warnings: string[] = [];
  const push = (msg: string): void => void warnings.push(msg);
  return { logger: { debug: () => {}, info: () => {}, warn: push, error: push }, warnings };
};

/** A retail calendar(day, state) with 'open'/'closed' rows through November, orders filled for every open day. */
const retail = (accepted: readonly string[]) => {
  const clock = new ManualClock(morningOf(D('2025-12-01')));
  const store = createMemoryStore({ clock });
  const calendar = memoryScheduleSource({}, { name: 'calendar', status: { column: 'state', accepted } });
  const days = dateRange(D('2025-11-01'), D('2025-11-30'));
  calendar.addRows(
    ORDERS,
    days.map((d, i) => ({ date: d, status: i % 7 === 6 ? 'closed' : 'open' })),
  );
  for (const d of days) store.setCount(ORDERS, d, 40);
  const calls: string[] = [];
  const processor = { name: ORDERS, run: async (o: { date: string }) => void calls.push(o.date) };
  const { logger, warnings } = capture();
  const guarded = withSmartBackfill(processor, {
    ...store,
    window: memoryWindowReader(calendar, store.target),
    logger,
    policy: { lookbackDays: 30, minRecordsPerDate: 30 },
  });
  return { store, guarded, calls, warnings, calendar };
};

describe('item 1: a schedule that expects nothing says why', () => {
  it('rows in the window but no accepted status: the check refuses, naming the statuses it found; nothing runs', async () => {
    const { store, guarded, calls } = retail(['Open']);
    const want =
      'schedule "calendar" has 30 rows between 2025-11-01 and 2025-11-30 but none with state in ("Open"); found: "closed" (4), "open" (26)';
    await expect(guarded.check(D('2025-12-01'))).rejects.toMatchObject({
      code: 'invalid_config',
      detail: 'schedule_mismatch',
      message: expect.stringContaining(want),
    });
    const out = await guarded.run({ date: D('2025-12-01') });
    expect(out._tag).toBe('Failed');
    expect(out._tag === 'Failed' && out.stage).toBe('check');
    expect(out._tag === 'Failed' && out.error).toBeInstanceOf(SmartBackfillError);
    expect(out._tag === 'Failed' && (out.error as SmartBackfillError).detail).toBe('schedule_mismatch');
    expect(calls).toEqual([]);
    expect(await store.runLog.runs({})).toMatchObject([{ outcome: 'failed', metadata: { decision: 'ScheduleMismatch' } }]);
  });

  it('no rows at all in the window: the run proceeds, and the outcome, the check, the log and the run record say so', async () => {
    const { store, guarded, calls, warnings } = retail(['open']);
    const warning = 'schedule "calendar" has no rows between 2026-01-02 and 2026-01-31; nothing was checked';
    const report = await guarded.check(D('2026-02-01'));
    expect(report.warnings).toEqual([expect.stringContaining(warning)]);
    const out = await guarded.run({ date: D('2026-02-01') });
    expect(out).toMatchObject({ _tag: 'Ran', reason: 'no_gaps', warnings: [expect.stringContaining(warning)] });
    expect(calls).toEqual(['2026-02-01']);
    expect(warnings.some((w) => w.includes(warning))).toBe(true);
    expect((await store.runLog.runs({}))[0]?.metadata['warnings']).toEqual([expect.stringContaining(warning)]);
  });

  it('a normal check never asks the schedule to describe itself, and has no warnings', async () => {
    const { guarded, calendar } = retail(['open']);
    let described = 0;
    const describe = calendar.describeWindow.bind(calendar);
    calendar.describeWindow = async (q) => (described++, describe(q));
    expect((await guarded.check(D('2025-12-01'))).warnings).toEqual([]);
    expect(await guarded.run({ date: D('2025-12-01') })).not.toHaveProperty('warnings');
    expect(described).toBe(0);
  });
});

describe('item 9: "succeeded" is not "filled"', () => {
  const why = 'the processor succeeded but 2025-11-15 has 0 rows; need ≥ 100';

  it('a guarded backfill whose processor writes nothing fails, with the numbers, and is recorded failed', async () => {
    const { store } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill({ name: P, run: async () => ({ ok: true }) }, store);
    const out = await guarded.run({ date: D('2025-11-15'), isBackfill: true });
    expect(out).toMatchObject({ _tag: 'Failed', stage: 'run', error: { code: 'processor_failed', detail: 'not_filled' } });
    expect(out._tag === 'Failed' && out.error.message).toContain(why);
    expect(await store.runLog.runs({})).toMatchObject([
      { trigger: 'backfill', outcome: 'failed', errorMessage: expect.stringContaining(why) },
    ]);
  });

  it('a filled backfill records how many rows it verified', async () => {
    const { store, filler } = world({ missing: [D('2025-11-15')] });
    expect(await withSmartBackfill(filler, store).run({ date: D('2025-11-15'), isBackfill: true })).toMatchObject({ _tag: 'Ran' });
    expect(await store.runLog.runs({})).toMatchObject([{ outcome: 'succeeded', metadata: { verified_rows: 150 } }]);
  });

  it('through the worker: a plain processor that writes nothing fails the request attempt with the numbers', async () => {
    const { store } = world({ missing: [D('2025-11-15')] });
    const hollow = { name: P, run: async () => ({ ok: true }) };
    const guarded = withSmartBackfill(hollow, store);
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({ _tag: 'Held' });
    // The worker runs the plain processor; its guard re-counts the date.
    const worker = createWorker({ ...store, registry: processorRegistry([hollow]), guardFor: () => guarded });
    const [o] = (await worker.runOnce()).outcomes;
    expect(o?._tag).toBe('Retrying');
    expect(store.requests()).toMatchObject([{ status: 'queued', failures: 1, errorMessage: expect.stringContaining(why) }]);
  });

  it('a date healed and later emptied again is a new gap: a new backfill, no escalation from the old request', async () => {
    const { clock, store, filler } = world({ missing: [D('2025-11-15')] });
    const guarded = withSmartBackfill(filler, { ...store, alerter: store.alerter, policy: { maxAttempts: 1 } });
    expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({ _tag: 'Held' });
    const worker = createWorker({ ...store, registry: processorRegistry([guarded]) });
    expect((await worker.runOnce()).outcomes).toMatchObject([{ _tag: 'Completed', resumed: ['2025-11-16'] }]);
    store.setCount(P, D('2025-11-15'), 0); // someone deletes the healed rows
    await advance(clock, DAY);
    const out = await guarded.run({ date: D('2025-11-17') });
    expect(out).toMatchObject({ _tag: 'Held', decision: { _tag: 'Backfill', toQueue: ['2025-11-15'] } });
    expect(store.alerter.notices).toEqual([]);
    expect(store.requests().map((r) => r.status)).toEqual(['completed', 'queued']);
  });
});
