/**
 * The fan-out wired into the engine's guard with memory adapters: channels fail,
 * throw and hang, and the guard still decides, holds and records; the engine's
 * alert log keeps it to one notice per gap, then a reminder, then `healed`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addDays, dateRange, isoDate, type Alerter, type Clock, type IsoDate } from '@smart-backfill/core';
import { withSmartBackfill, type Processor } from '@smart-backfill/engine';
import { createMemoryStore } from '@smart-backfill/memory';
import { fanOutAlerter, logAlerter, webhookAlerter, type ChannelFailure } from '@smart-backfill/alerts';
import { memorySink, recordingSleep, startServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const HOUR = 3_600_000;
const manualClock = (start: number): Clock & { advance(ms: number): void } => {
  let now = start;
  return { now: () => now, sleep: async (ms) => void (now += ms), advance: (ms) => void (now += ms) };
};

const RUN = isoDate('2025-11-20');
const NAME = 'player_game_summary';
const MISSING = ['2025-11-03', '2025-11-04', '2025-11-05', '2025-11-06', '2025-11-07', '2025-11-12'].map(isoDate);

/** 30 scheduled days before the run; Nov 3–7 and Nov 12 short (6 dates, over the default threshold of 3). */
const setUp = () => {
  const clock = manualClock(Date.parse('2025-11-20T06:00:00Z'));
  const store = createMemoryStore({ clock });
  const days = dateRange(addDays(RUN, -30), addDays(RUN, -1));
  store.setSchedule(NAME, days);
  for (const d of days) store.setCount(NAME, d, MISSING.includes(d) ? 0 : 150);
  store.setCount(NAME, isoDate('2025-11-06'), 12);
  const runs: IsoDate[] = [];
  const processor: Processor = { name: NAME, run: async (o) => void runs.push(o.date) };
  return { clock, store, runs, processor };
};

describe('fan-out inside withSmartBackfill', () => {
  it('failing, throwing and hanging channels never block or crash the guard; one notice per gap, then reminder, then healed', async () => {
    server = await startServer((_req, _n, res) => res.writeHead(503).end());
    const { clock, store, runs, processor } = setUp();
    const sink = memorySink();
    const failures: ChannelFailure[] = [];
    const thrower: Alerter & { name: string } = {
      name: 'thrower',
      send: () => {
        throw new Error('channel bug');
      },
    };
    const hangs: Alerter & { name: string } = { name: 'hangs', send: () => new Promise<void>(() => undefined) };
    const alerter = fanOutAlerter(
      [
        webhookAlerter({ name: 'slack', url: `${server.origin}/hook`, format: 'slack', maxRetries: 2, sleep: recordingSleep().sleep }),
        thrower,
        hangs,
        logAlerter({ stream: sink }),
      ],
      { deadlineMs: 100, onError: (f) => failures.push(f) },
    );
    const guard = withSmartBackfill(processor, { ...store, alerter, alertLog: store.alertLog, reminderIntervalMs: 24 * HOUR });

    const first = await guard.run({ date: RUN });
    expect(first).toMatchObject({
      _tag: 'Escalated',
      alerted: true,
      alertKey: `${NAME}:2025-11-03`,
      decision: { reason: 'gap_exceeds_threshold', holdRun: true },
    });
    expect(runs).toEqual([]); // held: a person must look first
    // On a busy machine the deadline may cut the webhook short; it goes on in the background, 1 + 2 retries.
    await vi.waitFor(() => expect(server!.requests).toHaveLength(3), { timeout: 10_000 });
    expect(failures.map((f) => f.channel).sort()).toEqual(['hangs', 'slack', 'thrower']);
    const lines = () => sink.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatchObject({
      severity: 'ERROR',
      kind: 'escalated',
      alert_key: `${NAME}:2025-11-03`,
      missing_ranges: 'Nov 3–7, Nov 12',
      absent_dates: ['2025-11-03', '2025-11-04', '2025-11-05', '2025-11-07', '2025-11-12'],
      incomplete_dates: [{ date: '2025-11-06', rows: 12 }],
      heal_commands: [
        `smart-backfill backfill ${NAME} --from 2025-11-03 --to 2025-11-07`,
        `smart-backfill backfill ${NAME} --from 2025-11-12 --to 2025-11-12`,
      ],
    });

    // The same gap an hour later: the engine's alert log says it was sent, so nothing new.
    clock.advance(HOUR);
    expect(await guard.run({ date: RUN })).toMatchObject({ _tag: 'Escalated', alerted: false });
    expect(lines()).toHaveLength(1);

    // A day later: a reminder under the same key.
    clock.advance(24 * HOUR);
    expect(await guard.run({ date: RUN })).toMatchObject({ _tag: 'Escalated', alerted: true });
    expect(lines().map((l) => [l['kind'], l['alert_key'], l['open_for']])).toEqual([
      ['escalated', `${NAME}:2025-11-03`, 'under a second'],
      ['reminder', `${NAME}:2025-11-03`, '1 day 1 hour'],
    ]);

    // Someone ran the heal commands: the next run goes ahead and says `healed`, once.
    for (const d of MISSING) store.setCount(NAME, d, 150);
    clock.advance(2 * HOUR);
    expect(await guard.run({ date: RUN })).toMatchObject({ _tag: 'Ran' });
    expect(await guard.run({ date: RUN })).toMatchObject({ _tag: 'Ran' });
    expect(runs).toEqual([RUN, RUN]);
    const healed = lines().filter((l) => l['kind'] === 'healed');
    expect(healed).toHaveLength(1);
    expect(healed[0]).toMatchObject({ severity: 'NOTICE', alert_key: `${NAME}:2025-11-03`, time_to_recovery: '1 day 3 hours' });
    expect(await store.alertLog.list({ processorName: NAME, openOnly: true })).toEqual([]);
  });

  it('with rejectWhen "all-failed", a notice no channel delivered is sent again on a later run', async () => {
    const { clock, store, processor } = setUp();
    let up = false;
    const got: string[] = [];
    const flaky: Alerter & { name: string } = {
      name: 'flaky',
      send: async (n) => {
        if (!up) throw new Error('503 from Slack');
        got.push(`${n.kind}:${n.alertKey}`);
      },
    };
    const guard = withSmartBackfill(processor, {
      ...store,
      alerter: fanOutAlerter([flaky], { rejectWhen: 'all-failed' }),
      alertLog: store.alertLog,
    });

    expect(await guard.run({ date: RUN })).toMatchObject({ _tag: 'Escalated', alerted: false });
    up = true;
    clock.advance(2 * HOUR);
    expect(await guard.run({ date: RUN })).toMatchObject({ _tag: 'Escalated', alerted: true });
    expect(got).toEqual([`escalated:${NAME}:2025-11-03`]);
  });
});
