import { describe, expect, it } from 'vitest';
import {
  addDays,
  dateRange,
  DEFAULT_POLICY,
  isoDate,
  toEpochDay,
  UPSTREAM_WAITS_KEY,
  type IsoDate,
  type PipelineNode,
  type UpstreamGap,
} from '@smart-backfill/core';
import { createMemoryStore } from '@smart-backfill/memory';
import {
  createWorker,
  pipelineGraph,
  processorRegistry,
  queueMessageForRequest,
  withSmartBackfill,
  type GuardedProcessor,
  type UpstreamInput,
} from '@smart-backfill/engine';
import { ManualClock } from '@smart-backfill/testkit';

// A large gap at the root of box_scores → player_game_summary → team_rolling_10d (lookback 9):
// one alert, on the root; the levels below are held for it (nothing of theirs is escalated),
// and once a person fills the root they are rebuilt once each, in order.

const D = isoDate;
const A = 'box_scores';
const B = 'player_game_summary';
const C = 'team_rolling_10d';
const DAY = 86_400_000;
const MINUTE = 60_000;
const morningOf = (d: IsoDate): number => toEpochDay(d) * DAY + 6 * 3_600_000;

/** The five days the feed lost: no scrape of them succeeds until a person restores them. */
const LOST = dateRange(D('2025-11-10'), D('2025-11-14'));

const pipeline = () => {
  const clock = new ManualClock(morningOf(LOST[0]!));
  const store = createMemoryStore({ clock });
  const feed = new Set<IsoDate>(LOST);
  for (const n of [A, B, C]) {
    store.setSchedule(n, dateRange(D('2025-10-01'), D('2025-12-31')));
    for (const d of dateRange(D('2025-10-01'), addDays(LOST[0]!, -1))) store.setCount(n, d, 150);
  }
  const calls: string[] = [];
  const write = (name: string) => async (o: { date: IsoDate; trigger?: string | undefined }) => {
    if (name === A && feed.has(o.date)) throw new Error(`box score feed has nothing for ${o.date}`);
    calls.push(`${name} ${o.date} ${o.trigger ?? ''}`);
    store.setCount(name, o.date, 150);
  };
  const nodes: PipelineNode[] = [
    { name: A },
    { name: B, dependsOn: [{ processor: A, lookbackDays: 0 }] },
    { name: C, dependsOn: [{ processor: B, lookbackDays: 9 }] },
  ];
  const graph = pipelineGraph(nodes);
  // Each input with its own inputs one level up, as the CLI wires them.
  const inputsOf = (name: string, depth: number): UpstreamInput[] =>
    (graph.dependsOn.get(name) ?? []).map((d) => ({
      ...d,
      window: store.window,
      policy: DEFAULT_POLICY,
      inputs: depth > 0 ? inputsOf(d.processor, depth - 1) : [],
    }));
  const guards = new Map<string, GuardedProcessor>(
    graph.order.map((n) => [
      n,
      withSmartBackfill({ name: n, run: write(n) }, { ...store, alerter: store.alerter, upstream: inputsOf(n, 1) }),
    ]),
  );
  const worker = createWorker({
    ...store,
    registry: processorRegistry([...guards.values()]),
    pipeline: graph,
    workerId: 'w',
    backoff: { baseMs: MINUTE, maxMs: MINUTE },
  });
  /** Every level's scheduled run for `d`, in dependency order. */
  const schedule = async (d: IsoDate) => {
    clock.set(Math.max(clock.now(), morningOf(d)));
    for (const n of [A, B, C]) await guards.get(n)!.run({ date: d });
  };
  /** The worker until it has nothing left to do (every pass a few minutes apart, for backoff and sweeps). */
  const drain = async () => {
    for (let i = 0; i < 30; i++) {
      clock.advance(10 * MINUTE);
      await worker.runOnce();
    }
  };
  const openAlerts = async () =>
    (await store.alertLog.list({ openOnly: true })).map((a) => ({ processor: a.processorName, dates: a.missingDates }));
  const heldRecord = async (name: string, d: IsoDate): Promise<readonly UpstreamGap[] | undefined> => {
    const recs = (await store.runLog.runs({ processorName: name })).filter((r) => r.runDate === d && r.outcome === 'skipped');
    return recs[recs.length - 1]?.metadata[UPSTREAM_WAITS_KEY] as readonly UpstreamGap[] | undefined;
  };
  const builds = (name: string) =>
    calls.filter((c) => c.startsWith(`${name} `) && (c.endsWith(' resume') || c.endsWith(' cascade') || c.endsWith(' backfill')));
  /** Builds of a level made before a build of an input date it reads (in order: none). */
  const builtBeforeInputs = () =>
    calls.flatMap((c, i) => {
      const [name, date] = c.split(' ') as [string, IsoDate];
      const input = (graph.dependsOn.get(name) ?? [])[0];
      if (input === undefined) return [];
      const read = new Set(dateRange(addDays(date, -input.lookbackDays), date));
      return calls.slice(i + 1).some((l) => l.startsWith(`${input.processor} `) && read.has(l.split(' ')[1] as IsoDate)) ? [c] : [];
    });
  return { clock, store, feed, calls, guards, worker, schedule, drain, openAlerts, heldRecord, builds, builtBeforeInputs };
};

/**
 * The root loses one day for good (its feed never serves it), the rest of `LOST` comes back;
 * every level runs on schedule for four days, the worker in between: the root's backfill of
 * the lost day fails every time.
 */
const failingRoot = async () => {
  const w = pipeline();
  const lost = LOST[0]!;
  for (const d of LOST.slice(1)) w.feed.delete(d);
  const days = dateRange(lost, addDays(lost, 3));
  for (const d of days) {
    await w.schedule(d);
    await w.drain();
  }
  return { w, lost, days };
};

/** The root's one alert healed, and each date below built once, never before its inputs. */
const expectHealedOnceEach = async (w: ReturnType<typeof pipeline>, days: readonly IsoDate[]): Promise<void> => {
  expect(await w.openAlerts()).toEqual([]);
  expect(w.store.alerter.notices.map((n) => `${n.kind} ${n.processorName}`)).toEqual([`escalated ${A}`, `healed ${A}`]);
  for (const level of [B, C])
    expect(
      w
        .builds(level)
        .map((c) => c.split(' ')[1])
        .sort(),
    ).toEqual(days);
  expect(w.builtBeforeInputs()).toEqual([]);
};

describe('a large gap at the root of a pipeline', () => {
  it('too large to backfill: one alert, on the root, naming its dates; the levels below wait for it; a fill heals them once each, in order', async () => {
    const w = pipeline();
    // The whole pipeline was down for the lost days; from the next day every level runs on schedule.
    const after = [D('2025-11-15'), D('2025-11-16')];
    for (const d of after) await w.schedule(d);

    // The root's lost days, and the day its own run was held for them.
    const rootDates = [...LOST, after[0]!];
    expect(await w.openAlerts()).toEqual([{ processor: A, dates: rootDates }]);
    expect(w.store.alerter.notices.map((n) => `${n.kind} ${n.processorName}`)).toEqual([`escalated ${A}`]);
    // Nothing of the levels below was queued (a backfill would build them from the missing root).
    expect(w.store.requests().filter((r) => r.processorName !== A)).toEqual([]);
    for (const n of [B, C]) {
      const held = await w.store.runLog.heldRuns({ processorName: n, status: 'held' });
      expect(held.map((h) => h.runDate)).toEqual(after);
      const recs = (await w.store.runLog.runs({ processorName: n })).filter((r) => after.includes(r.runDate));
      expect(recs.map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
      expect(recs.map((r) => r.skipReason)).not.toContain('gap_escalated');
    }
    // What they wait for: player_game_summary on the root's escalated dates, team_rolling_10d on
    // player_game_summary's dates that wait for their own input.
    expect(await w.heldRecord(B, after[0]!)).toEqual([{ processor: A, missing: LOST, queued: [], inFlight: [], escalated: LOST }]);
    expect(await w.heldRecord(C, after[0]!)).toEqual([{ processor: B, missing: LOST, queued: [], inFlight: LOST, escalated: [] }]);

    // A person restores the lost days (the feed serves them again) and runs the heal command.
    w.feed.clear();
    await healRoot(w, rootDates);
    await w.drain();
    await expectHealedOnceEach(w, [...LOST, ...after]);
  });

  it('backfills that keep failing: one alert, on the root, naming its date; the levels below wait for it; a fill heals them once each, in order', async () => {
    const { w, lost, days } = await failingRoot();
    const rootRequests = w.store.requests().filter((r) => r.processorName === A && r.date === lost);
    expect(rootRequests.map((r) => `${r.status} ${r.attempt}`)).toEqual(['failed 3']);
    expect(await w.openAlerts()).toEqual([{ processor: A, dates: [lost] }]);
    expect(w.store.alerter.notices.map((n) => `${n.kind} ${n.processorName} ${n.reason}`)).toEqual([
      `escalated ${A} backfill_keeps_failing`,
    ]);
    // Nothing below was queued for the lost day, nor for a date that reads it: a backfill would fail on
    // it until it gave up (and then escalate on that level). The root's other days were queued and filled.
    const requests = w.store.requests().map((r) => `${r.processorName} ${r.date} ${r.status}`);
    expect(requests.filter((r) => r.endsWith(' failed'))).toEqual([`${A} ${lost} failed`]);
    expect(requests.filter((r) => r.startsWith(C) || r.startsWith(`${B} ${lost}`))).toEqual([]);
    const held = async (n: string) => (await w.store.runLog.heldRuns({ processorName: n, status: 'held' })).map((h) => h.runDate);
    expect(await held(B)).toEqual([lost, days[2], days[3]]);
    expect(await held(C)).toEqual(days);
    expect(await w.heldRecord(B, lost)).toEqual([{ processor: A, missing: [lost], queued: [lost], inFlight: [], escalated: [] }]);
    expect(await w.heldRecord(B, days[3]!)).toEqual([
      { processor: A, missing: [lost, days[2]], queued: [days[2]], inFlight: [], escalated: [lost] },
    ]);
    // team_rolling_10d waits on player_game_summary's dates, all in flight (nothing of its own to escalate or queue).
    const [onB, ...more] = (await w.heldRecord(C, days[3]!)) ?? [];
    expect(more).toEqual([]);
    expect(onB).toMatchObject({ processor: B, queued: [], inFlight: onB?.missing, escalated: [] });
    expect(onB?.missing).toContain(lost);

    w.feed.clear();
    await healRoot(w, [lost]);
    await w.drain();
    await expectHealedOnceEach(w, days);
  });

  it('backfills that keep failing, then rows loaded by hand: the root’s next run heals its alert, and the worker heals the levels below once each, in order', async () => {
    const { w, lost, days } = await failingRoot();
    expect(await w.openAlerts()).toEqual([{ processor: A, dates: [lost] }]);
    // A person loads the lost day's rows outside smart-backfill: no backfill completes.
    w.store.setCount(A, lost, 150);
    const next = addDays(days[3]!, 1);
    await w.schedule(next);
    expect(await w.openAlerts()).toEqual([]);
    await w.drain();
    expect(w.store.alerter.notices.map((n) => `${n.kind} ${n.processorName}`)).toEqual([`escalated ${A}`, `healed ${A}`]);
    for (const n of [B, C]) expect(await w.store.runLog.heldRuns({ processorName: n, status: 'held' })).toEqual([]);
    for (const n of [B, C]) {
      const built = w.calls.filter((c) => c.startsWith(`${n} `)).map((c) => c.split(' ')[1]);
      expect(new Set(built).size, n).toBe(built.length);
      expect([...built].sort(), n).toEqual([...days, next]);
    }
    expect(w.builtBeforeInputs()).toEqual([]);
  });
});

/** The alert's heal command: a manual backfill of the dates it names. */
const healRoot = async (w: ReturnType<typeof pipeline>, dates: readonly IsoDate[]) => {
  const { created } = await w.store.tracker.create(
    dates.map((d) => ({
      requestId: `heal-${d}`,
      processorName: A,
      date: d,
      requestType: 'manual' as const,
      priority: 'high' as const,
      requestedAt: w.clock.now(),
      requestedBy: 'ops',
      triggerReason: 'manual_backfill',
      metadata: {},
    })),
  );
  await w.store.queue.publish(created.map((r) => queueMessageForRequest(r)));
};
