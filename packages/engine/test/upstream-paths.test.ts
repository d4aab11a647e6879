import { describe, expect, it } from 'vitest';
import { addDays, buildPipelineGraph, dateRange, DEFAULT_POLICY, isoDate, type GapPolicy, type IsoDate } from '@smart-backfill/core';
import { createMemoryStore } from '@smart-backfill/memory';
import {
  createWorker,
  pipelineGraph,
  processorRegistry,
  withSmartBackfill,
  type Processor,
  type UpstreamInput,
} from '@smart-backfill/engine';
import { ManualClock } from '@smart-backfill/testkit';

// Every path by which a downstream run goes ahead looks upstream first, the dry run says
// what would hold it, and one rule decides which dates wait for their inputs.

const D = isoDate;
const TODAY = D('2025-11-16');

/** raw_events → sessions (same day), in memory; `policy` is the downstream's. */
const pair = (missing: Partial<Record<'raw_events' | 'sessions', IsoDate[]>>, policy: Partial<GapPolicy> = {}) => {
  const clock = new ManualClock(Date.parse(`${TODAY}T08:00:00Z`));
  const store = createMemoryStore({ clock });
  for (const n of ['raw_events', 'sessions'] as const) {
    store.setSchedule(n, dateRange(D('2025-10-01'), D('2025-12-31')));
    for (const d of dateRange(D('2025-10-01'), TODAY)) if (!(missing[n] ?? []).includes(d)) store.setCount(n, d, 150);
  }
  const calls: string[] = [];
  const processor = (name: string): Processor => ({
    name,
    run: async (o) => {
      calls.push(`${name} ${o.date}`);
      store.setCount(name, o.date, 150);
    },
  });
  const input: UpstreamInput = { processor: 'raw_events', lookbackDays: 0, window: store.window, policy: DEFAULT_POLICY };
  const raw = withSmartBackfill(processor('raw_events'), { ...store });
  const sessions = withSmartBackfill(processor('sessions'), { ...store, policy, upstream: [input] });
  const requests = () => store.requests().map((r) => `${r.processorName} ${r.date}`);
  return { clock, store, calls, raw, sessions, requests };
};

describe('every path that runs a downstream date looks upstream', () => {
  it('a run that would go ahead over an old gap (blockOn critical) is held for a missing input', async () => {
    const old = addDays(TODAY, -10);
    const { calls, sessions, requests } = pair({ raw_events: [TODAY], sessions: [old] }, { blockOn: 'critical', criticalLookbackDays: 3 });
    const o = await sessions.run({ date: TODAY });
    expect(o).toMatchObject({ _tag: 'Held', upstream: [{ processor: 'raw_events', missing: [TODAY], queued: [TODAY] }] });
    // Its own old gap is still queued: that part of the decision stands.
    expect(o._tag === 'Held' && o.queued.map((r) => r.date)).toEqual([old]);
    expect(calls).toEqual([]);
    expect(requests().sort()).toEqual([`raw_events ${TODAY}`, `sessions ${old}`]);
  });

  it('a run that would go ahead over an escalated old gap (blockOn critical) is held for a missing input', async () => {
    const old = [addDays(TODAY, -10), addDays(TODAY, -9)];
    const { store, calls, sessions, requests } = pair(
      { raw_events: [TODAY], sessions: old },
      { blockOn: 'critical', criticalLookbackDays: 3, autoBackfillThreshold: 1 },
    );
    const o = await sessions.run({ date: TODAY });
    expect(o).toMatchObject({
      _tag: 'Escalated',
      decision: { holdRun: false },
      upstream: [{ processor: 'raw_events', missing: [TODAY], queued: [TODAY] }],
    });
    expect(o._tag === 'Escalated' && 'result' in o).toBe(false);
    expect(calls).toEqual([]);
    expect(requests()).toEqual([`raw_events ${TODAY}`]);
    expect(await store.runLog.heldRuns({ processorName: 'sessions', status: 'held' })).toMatchObject([{ runDate: TODAY, waitingFor: [] }]);
  });

  it('a backfill of a date whose input is missing fails naming it (the worker retries), and runs once the input is whole', async () => {
    const y = addDays(TODAY, -2);
    const { store, calls, sessions } = pair({ raw_events: [y], sessions: [y] });
    const o = await sessions.run({ date: y, isBackfill: true });
    expect(o._tag).toBe('Failed');
    if (o._tag === 'Failed')
      expect(o.error.message).toMatch(/sessions 2025-11-14 reads input dates that are missing or held \(raw_events 2025-11-14\)/);
    expect(calls).toEqual([]);
    const [rec] = await store.runLog.runs({ processorName: 'sessions' });
    expect(rec).toMatchObject({ outcome: 'failed', metadata: { inputs_not_ready: [`raw_events ${y}`] } });
    store.setCount('raw_events', y, 150);
    expect(await sessions.run({ date: y, isBackfill: true })).toMatchObject({ _tag: 'Ran', reason: 'is_backfill' });
    expect(calls).toEqual([`sessions ${y}`]);
  });

  it('the dry run says which input gap would hold the run, and writes nothing', async () => {
    const { store, calls, sessions } = pair({ raw_events: [TODAY] });
    const report = await sessions.check(TODAY);
    expect(report).toMatchObject({
      decision: { _tag: 'Proceed' },
      wouldHold: true,
      upstream: [{ processor: 'raw_events', missing: [TODAY], queued: [TODAY], inFlight: [], escalated: [] }],
    });
    expect(calls).toEqual([]);
    expect(store.requests()).toEqual([]);
    expect(await store.runLog.runs({})).toEqual([]);
    expect(await store.runLog.heldRuns({})).toEqual([]);
  });
});

describe('one rule for which dates wait for their inputs', () => {
  it('an upstream date held only for its own window is queued for a downstream, as its own guard would', async () => {
    // raw_events holds its run for X (X−1 is missing); X is missing too. Its own guard, a day
    // later, would backfill X; the downstream reading X used to leave it "in flight" with
    // nothing queued.
    const x = addDays(TODAY, -1);
    const { raw, sessions, requests } = pair({ raw_events: [addDays(x, -1), x] });
    expect(await raw.run({ date: x })).toMatchObject({ _tag: 'Held', queued: [{ date: addDays(x, -1) }] });
    const o = await sessions.run({ date: x });
    expect(o).toMatchObject({ _tag: 'Held', upstream: [{ processor: 'raw_events', missing: [x], queued: [x], inFlight: [] }] });
    expect(requests().sort()).toEqual([`raw_events ${addDays(x, -1)}`, `raw_events ${x}`]);
  });

  it("a downstream's own missing date whose input is missing waits, and its input is queued instead", async () => {
    const y = addDays(TODAY, -2);
    const { clock, store, calls, raw, sessions, requests } = pair({ raw_events: [y], sessions: [y] });
    const o = await sessions.run({ date: TODAY });
    // Not queued for sessions (a backfill would build it from the missing raw day): the raw day is.
    expect(o).toMatchObject({ _tag: 'Held', decision: { toQueue: [], inFlight: [y] } });
    expect(requests()).toEqual([`raw_events ${y}`]);

    // The raw day is backfilled; the heal queues the date the held run waits for, once.
    const worker = createWorker({
      ...store,
      registry: processorRegistry([raw, sessions]),
      pipeline: pipelineGraph([{ name: 'raw_events' }, { name: 'sessions', dependsOn: [{ processor: 'raw_events', lookbackDays: 0 }] }]),
      workerId: 'w',
    });
    for (let i = 0; i < 4; i++) {
      await worker.runOnce();
      clock.advance(60_000);
    }
    expect(calls).toEqual([`raw_events ${y}`, `sessions ${y}`, `sessions ${TODAY}`]);
    expect(requests()).toEqual([`raw_events ${y}`, `sessions ${y}`]);
  });
});

describe('the graph a library user wires is checked where it is built', () => {
  const nodes = [
    { name: 'raw_events' },
    { name: 'sessions', dependsOn: [{ processor: 'weekly_retention', lookbackDays: 0 }] },
    { name: 'weekly_retention', dependsOn: [{ processor: 'sessions', lookbackDays: 7 }] },
  ];

  it('pipelineGraph names the cycle, as the CLI does (same core rule)', () => {
    const core = buildPipelineGraph(nodes);
    expect(core._tag).toBe('Err');
    expect(() => pipelineGraph(nodes)).toThrowError(
      expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('sessions → weekly_retention → sessions') }),
    );
  });

  it('pipelineGraph names an unknown processor', () => {
    expect(() => pipelineGraph([{ name: 'sessions', dependsOn: [{ processor: 'raw_event', lookbackDays: 0 }] }])).toThrowError(
      expect.objectContaining({
        code: 'invalid_config',
        message: expect.stringMatching(/sessions\.dependsOn "raw_event": no processor of that name/),
      }),
    );
  });

  it('createWorker refuses guards whose declared inputs form a cycle or name a processor it does not know', () => {
    const clock = new ManualClock(0);
    const store = createMemoryStore({ clock });
    const p = (name: string): Processor => ({ name, run: async () => undefined });
    const reads = (processor: string, lookbackDays: number): UpstreamInput => ({
      processor,
      lookbackDays,
      window: store.window,
      policy: DEFAULT_POLICY,
    });
    const sessions = withSmartBackfill(p('sessions'), { ...store, upstream: [reads('weekly_retention', 0)] });
    const weekly = withSmartBackfill(p('weekly_retention'), { ...store, upstream: [reads('sessions', 7)] });
    expect(() => createWorker({ ...store, registry: processorRegistry([sessions, weekly]) })).toThrowError(
      expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('sessions → weekly_retention → sessions') }),
    );
    const orphan = withSmartBackfill(p('sessions'), { ...store, upstream: [reads('raw_event', 0)] });
    expect(() => createWorker({ ...store, registry: processorRegistry([orphan]) })).toThrowError(
      expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('"raw_event": no processor of that name') }),
    );
  });

  it('a guard refuses its own bad inputs (itself, twice, a bad lookback) at construction', () => {
    const store = createMemoryStore({ clock: new ManualClock(0) });
    const p: Processor = { name: 'sessions', run: async () => undefined };
    const reads = (processor: string, lookbackDays: number): UpstreamInput => ({
      processor,
      lookbackDays,
      window: store.window,
      policy: DEFAULT_POLICY,
    });
    expect(() => withSmartBackfill(p, { ...store, upstream: [reads('sessions', 0)] })).toThrowError(
      expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('cannot depend on itself') }),
    );
    expect(() => withSmartBackfill(p, { ...store, upstream: [reads('raw_events', 0), reads('raw_events', 2)] })).toThrowError(
      expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('listed twice') }),
    );
    expect(() => withSmartBackfill(p, { ...store, upstream: [reads('raw_events', -1)] })).toThrowError(
      expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('lookbackDays must be a whole number') }),
    );
  });
});
