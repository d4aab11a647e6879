import { expect, it } from 'vitest';
import { isoDate, isSmartBackfillError, type IsoDate, type QueueMessage, type WindowQuery } from '@smart-backfill/core';
import { DEFAULT_START_MS, withSubject } from './harness.js';
import { aNewRequest } from './request-fixtures.js';
import { aRunRecord } from './run-fixtures.js';
import { queueTiming } from './queue-timing.js';
import type {
  AlertLogSubject,
  ContractOptions,
  QueueSubject,
  RunLogSubject,
  ScheduleSubject,
  TargetSubject,
  TrackerSubject,
} from './types.js';

/*
 * The bad-input cases every adapter of a port passes: a value the port's docs call
 * invalid is refused with a `SmartBackfillError` coded `invalid_input` whose message
 * names the field, and nothing recorded before the refused call is lost.
 */

/** A value typed as a date that is not one: ports take `IsoDate`, but JavaScript callers can pass anything. */
const notADate = (s: string): IsoDate => s as IsoDate;

/** `fn` throws or rejects with `invalid_input`, and the message names `field`. */
export const expectInvalidInput = async (fn: () => unknown, field: string): Promise<void> => {
  const outcome = await Promise.resolve()
    .then(fn)
    .then(
      () => ({ refused: false as const }),
      (error: unknown) => ({ refused: true as const, error }),
    );
  expect(outcome.refused, `a bad ${field} was accepted`).toBe(true);
  if (!outcome.refused) return;
  const e = outcome.error;
  expect(isSmartBackfillError(e), `expected a SmartBackfillError for a bad ${field}, got ${String(e)}`).toBe(true);
  expect((e as { code?: unknown }).code).toBe('invalid_input');
  expect((e as Error).message).toContain(field);
};

const P = 'bad_input_processor';
const WINDOW: WindowQuery = { processorName: P, start: isoDate('2025-05-01'), end: isoDate('2025-05-31') };
const BAD_WINDOWS: readonly [string, WindowQuery][] = [
  ['start', { ...WINDOW, start: notADate('2025-02-30') }],
  ['end', { ...WINDOW, end: notADate('yesterday') }],
];

export const trackerBadInput = (opts: ContractOptions<TrackerSubject>): void => {
  it('refuses bad input as invalid_input naming the field, and keeps what it recorded', async () => {
    await withSubject(opts, async ({ tracker }) => {
      const at = opts.startMs ?? DEFAULT_START_MS;
      await tracker.create([aNewRequest('kept', P, '2025-05-01', at)]);
      await expectInvalidInput(
        () => tracker.create([aNewRequest('bad-date', P, '2025-05-02', at, { date: notADate('2025-13-01') })]),
        'date',
      );
      await expectInvalidInput(() => tracker.create([aNewRequest('bad-name', '', '2025-05-03', at)]), 'processorName');
      await expectInvalidInput(
        () => tracker.create([aNewRequest('bad-time', P, '2025-05-04', at, { requestedAt: Number.NaN })]),
        'requestedAt',
      );
      for (const [field, q] of BAD_WINDOWS) await expectInvalidInput(() => tracker.forWindow(q), field);
      expect((await tracker.forWindow(WINDOW)).map((r) => [r.requestId, r.status])).toEqual([['kept', 'queued']]);
      for (const id of ['bad-date', 'bad-name', 'bad-time']) expect(await tracker.get(id)).toBeUndefined();
    });
  });
};

export const runLogBadInput = (opts: ContractOptions<RunLogSubject>): void => {
  it('refuses bad input as invalid_input naming the field, and keeps what it recorded', async () => {
    await withSubject(opts, async ({ runLog }) => {
      const at = opts.startMs ?? DEFAULT_START_MS;
      const run = aRunRecord('kept', P, '2025-05-01', at);
      const held = {
        processorName: P,
        runDate: isoDate('2025-05-02'),
        heldAt: at,
        reason: 'waiting_for_backfill' as const,
        waitingFor: [],
      };
      await runLog.append(run);
      await runLog.hold(held);
      await expectInvalidInput(() => runLog.append({ ...run, runId: 'bad-date', runDate: notADate('2025-02-30') }), 'runDate');
      await expectInvalidInput(() => runLog.append({ ...run, runId: '' }), 'runId');
      await expectInvalidInput(() => runLog.hold({ ...held, runDate: notADate('05/02/2025') }), 'runDate');
      await expectInvalidInput(() => runLog.claimResume(P, held.runDate, { claimant: '', at, leaseMs: 1000 }), 'claimant');
      // An unknown status must not be stored: the held run would be neither held nor released.
      await expectInvalidInput(() => runLog.release(P, held.runDate, 'done' as 'cancelled', at), 'status');
      expect((await runLog.runs({ processorName: P })).map((r) => r.runId)).toEqual(['kept']);
      expect((await runLog.heldRuns({ processorName: P })).map((h) => [h.runDate, h.status, h.claimedBy])).toEqual([
        ['2025-05-02', 'held', null],
      ]);
    });
  });
};

export const alertLogBadInput = (opts: ContractOptions<AlertLogSubject>): void => {
  it('refuses bad input as invalid_input naming the field, and keeps what it recorded', async () => {
    await withSubject(opts, async ({ alertLog }) => {
      const at = opts.startMs ?? DEFAULT_START_MS;
      const alert = {
        alertKey: 'kept',
        processorName: P,
        reason: 'gap_exceeds_threshold' as const,
        runDate: isoDate('2025-05-10'),
        missingDates: [isoDate('2025-05-01')],
        lastError: null,
        openedAt: at,
        at,
      };
      await alertLog.upsertOpen(alert);
      await expectInvalidInput(() => alertLog.upsertOpen({ ...alert, alertKey: '' }), 'alertKey');
      await expectInvalidInput(() => alertLog.upsertOpen({ ...alert, alertKey: 'bad-date', runDate: notADate('2025-5-10') }), 'runDate');
      const open = await alertLog.list({ processorName: P, openOnly: true });
      expect(open.map((a) => [a.alertKey, a.runDate, a.missingDates])).toEqual([['kept', '2025-05-10', ['2025-05-01']]]);
    });
  });
};

const message = (id: string): QueueMessage => ({
  id,
  data: JSON.stringify({
    start_date: '2025-05-01',
    end_date: '2025-05-01',
    processor_name: P,
    is_backfill: true,
    request_id: id,
    attempt: 0,
  }),
  attributes: { processor_name: P, game_date: '2025-05-01', request_id: id, attempt: '0' },
});

export const queueBadInput = (opts: ContractOptions<QueueSubject>): void => {
  it('refuses bad receive options as invalid_input naming the field, and still delivers what was published', async () => {
    await withSubject(opts, async (s, clock) => {
      const t = queueTiming(s, clock, 5000);
      await s.queue.publish([message('kept')]);
      await expectInvalidInput(() => s.queue.receive({ max: -1, leaseMs: t.lease }), 'max');
      await expectInvalidInput(() => s.queue.receive({ max: Number.NaN, leaseMs: t.lease }), 'max');
      await expectInvalidInput(() => s.queue.receive({ max: 1, leaseMs: -5 }), 'leaseMs');
      const got = await t.collect(1, 60_000);
      expect(got.map((d) => d.message.id)).toEqual(['kept']);
      for (const d of got) await d.ack();
    });
  });
};

export const scheduleBadInput = (opts: ContractOptions<ScheduleSubject>): void => {
  it('refuses a window that is not two YYYY-MM-DD dates as invalid_input naming the field', async () => {
    await withSubject(opts, async (s) => {
      await s.seed({ processorName: P, expected: [{ date: isoDate('2025-05-01') }] });
      for (const [field, q] of BAD_WINDOWS) {
        await expectInvalidInput(() => s.schedule.expectedDates(q), field);
        if (s.window !== undefined) await expectInvalidInput(() => s.window?.readWindow(q), field);
      }
      expect(await s.schedule.expectedDates(WINDOW)).toEqual(['2025-05-01']);
    });
  });
};

export const targetBadInput = (opts: ContractOptions<TargetSubject>): void => {
  it('refuses a window that is not two YYYY-MM-DD dates as invalid_input naming the field', async () => {
    await withSubject(opts, async (s) => {
      await s.seed({ processorName: P, counts: { '2025-05-01': 3 } });
      for (const [field, q] of BAD_WINDOWS) await expectInvalidInput(() => s.target.recordCounts(q), field);
      expect((await s.target.recordCounts(WINDOW)).get(isoDate('2025-05-01'))).toBeGreaterThanOrEqual(3);
    });
  });
};
