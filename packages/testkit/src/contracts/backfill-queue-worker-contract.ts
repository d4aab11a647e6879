import { expect, it } from 'vitest';
import fc from 'fast-check';
import { addDays, isoDate, type BackfillRequest, type Delivery, type QueueMessage, type RequestTracker } from '@smart-backfill/core';
import {
  createRelay,
  createSweeper,
  createWorker,
  processorRegistry,
  queueMessageForRequest,
  type DeliveryOutcome,
  type Worker,
} from '@smart-backfill/engine';
import { memoryRequestTracker, memoryRunLog } from '@smart-backfill/memory';
import { ManualClock } from '../manual-clock.js';
import { DEFAULT_START_MS, withSubject } from './harness.js';
import type { ContractOptions, QueueSubject } from './types.js';
import { queueTiming, type QueueTiming } from './queue-timing.js';

const LEASE = 60_000;
const PROCESSOR = 'daily';

/** Wait (real time, bounded) until `cond` holds: a network-backed queue answers in its own time. */
const until = async (cond: () => boolean, what: string): Promise<void> => {
  const deadline = performance.now() + 10_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`[smart-backfill] [testkit] gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
};
/** Real time: the worker's own receive (`waitMs` 0) waits briefly server-side, or a Pull may come back empty while messages wait. */
const patient = (s: QueueSubject): QueueSubject => {
  const q = s.queue;
  return {
    ...s,
    queue: {
      publish: (messages) => q.publish(messages),
      receive: (o) => q.receive({ ...o, waitMs: Math.max(o.waitMs ?? 0, 500) }),
    },
  };
};
const yieldMany = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

const publishRequests = async (tracker: RequestTracker, queue: QueueSubject['queue'], n: number, at: number, prefix: string) => {
  const { created } = await tracker.create(
    Array.from({ length: n }, (_, i) => ({
      requestId: `${prefix}-${i}`,
      processorName: PROCESSOR,
      date: addDays(isoDate('2025-01-01'), i),
      requestType: 'auto' as const,
      priority: 'normal' as const,
      requestedAt: at,
      requestedBy: 'contract',
      triggerReason: 'auto_backfill',
      metadata: {},
    })),
  );
  await queue.publish(created.map(queueMessageForRequest));
  for (const r of created) await tracker.apply(r.requestId, { _tag: 'MarkPublished', at });
  return created;
};

const active = (rs: readonly BackfillRequest[]): BackfillRequest[] => rs.filter((r) => r.status === 'queued' || r.status === 'processing');

/**
 * The engine's worker over a queue adapter: `concurrency` bounds the processor runs
 * however many deliveries arrive together; a request never stays active without a
 * message behind it, whatever a stalled worker does late; and every undecodable
 * message is dead-lettered exactly once and never delivered again.
 */
export const testWorkerOverQueue = (opts: ContractOptions<QueueSubject>): void => {
  // Each case runs on the manual clock, or in real time with short leases (see `queueTiming`).
  const timed = (name: string, fn: (s: QueueSubject, clock: ManualClock, t: QueueTiming) => Promise<void>): void => {
    it(name, async () => {
      await withSubject(opts, async (s, clock) => {
        const t = queueTiming(s, clock, LEASE);
        await fn(t.real ? patient(s) : s, clock, t);
      });
    });
  };

  for (const n of [1, 2, 3])
    for (const batch of [1, 5, 10])
      timed(`worker concurrency ${n}, batch ${batch}: never more than ${n} processor runs at once`, async (s, clock, t) => {
        const tracker = memoryRequestTracker({ clock });
        let running = 0;
        let most = 0;
        const processor = {
          name: PROCESSOR,
          run: async () => {
            running++;
            most = Math.max(most, running);
            await yieldMany(20);
            running--;
          },
        };
        const worker = createWorker({
          queue: s.queue,
          tracker,
          runLog: memoryRunLog({ clock }),
          clock,
          registry: processorRegistry([processor]),
          resume: false,
          leaseMs: LEASE,
          batchSize: batch,
          concurrency: n,
        });
        await publishRequests(tracker, s.queue, 12, clock.now(), 'c');
        // Both ways deliveries reach a worker: its own receive, and many handed over at once (push, streaming pull).
        for (let i = 0; i < 40 && active(await tracker.list({})).length > 6; i++) await worker.runOnce({ max: batch });
        for (let i = 0; i < 40 && active(await tracker.list({})).length > 0; i++) {
          const ds = await t.receiveOnce(batch, LEASE);
          await Promise.all(ds.map((d) => worker.handleDelivery(d)));
        }
        expect(active(await tracker.list({}))).toEqual([]);
        expect(most).toBeGreaterThanOrEqual(1);
        expect(most, `most runs at once with concurrency ${n}, batch ${batch}`).toBeLessThanOrEqual(n);
        // On the manual clock every receive returns what was asked, so the bound is reached; in real
        // time a pull may return fewer messages (the emulator splits them), so only the bound holds.
        if (batch >= n && !t.real) expect(most).toBe(n);
      });

  timed('a delivery waiting for a concurrency slot keeps its lease', async (s, clock, t) => {
    const lease = t.lease;
    const tracker = memoryRequestTracker({ clock });
    let release: () => void = () => undefined;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const worker = createWorker({
      queue: s.queue,
      tracker,
      runLog: memoryRunLog({ clock }),
      clock,
      registry: processorRegistry([{ name: PROCESSOR, run: async () => void (started++, await hold) }]),
      resume: false,
      leaseMs: lease,
      heartbeatMs: lease / 4,
      concurrency: 1,
    });
    await publishRequests(tracker, s.queue, 3, clock.now(), 'w');
    const ds = await t.collect(3, lease);
    expect(ds).toHaveLength(3);
    const extended = new Map<string, number>();
    const counted = ds.map((d): Delivery => ({
      ...d,
      ack: () => d.ack(),
      nack: (ms) => d.nack(ms),
      deadLetter: d.deadLetter,
      extendLease: async (ms) => {
        await d.extendLease(ms);
        extended.set(d.message.id, (extended.get(d.message.id) ?? 0) + 1);
      },
    }));
    const outcomes = Promise.all(counted.map((d) => worker.handleDelivery(d)));
    await until(() => started === 1, 'the first run to start');
    const total = (): number => [...extended.values()].reduce((a, b) => a + b, 0);
    // Three lease lengths, a quarter at a time: each wait is answered before the clock moves on.
    for (let step = 1; step <= 12; step++) {
      const before = total();
      await t.pass(lease / 4);
      await until(() => total() >= before + 3, `lease extensions at step ${step}`);
    }
    expect(started).toBe(1);
    // No waiting delivery lapsed to the queue.
    await t.none();
    release();
    const done = await outcomes;
    expect(done.map((o) => o._tag)).toEqual(['Completed', 'Completed', 'Completed']);
  });

  timed("a publish for a leased message survives the old delivery's ack", async (s, clock, t) => {
    const m = (await publishRequests(memoryRequestTracker({ clock }), s.queue, 1, clock.now(), 'l'))[0]!;
    const [old] = await t.collect(1, t.lease);
    expect(old?.message.id).toBe(m.requestId);
    await t.pass(t.lease + 1);
    // The sweeper's republish after the lease lapsed; then the stalled holder acks late.
    await s.queue.publish([queueMessageForRequest(m)]);
    await old?.ack();
    if (!t.real) await t.pass(t.lease + 1);
    const again = await t.collect(1, LEASE);
    expect(again.map((d) => d.message.id)).toContain(m.requestId);
    for (const d of again) await d.ack();
  });

  timed("revives a request whose stalled worker acked late (the issue's sequence)", async (s, clock, t) => {
    const world = newWorld(s, clock, t);
    const steps: StaleCommand[] = [new PublishNew(), new Claim(0), new Stall(0), new Advance(t.lease + 1), new Sweep(), new Finish(0)];
    for (const c of steps) await c.run({}, world);
    expect(world.started).toBe(1);
    await drain(world);
    expect(active(await world.tracker.list({})).map((r) => `${r.requestId} ${r.status}`)).toEqual([]);
  });

  it('never leaves an active request without a message: claim, stall, sweep, republish, late complete, ack, relay', async () => {
    const real = await withSubject(opts, async (s) => s.followsClock === false);
    const probe = await withSubject(opts, async (s, clock) => queueTiming(s, clock, LEASE).lease);
    await fc.assert(
      fc.asyncProperty(fc.commands(staleCommands(probe), { maxCommands: real ? 12 : 30 }), async (cmds) => {
        const clock = new ManualClock(opts.startMs ?? DEFAULT_START_MS);
        const created = await opts.create({ clock });
        const t = queueTiming(created, clock, LEASE);
        const subject = t.real ? patient(created) : created;
        const world = newWorld(subject, clock, t);
        try {
          await new PublishNew().run({}, world);
          await fc.asyncModelRun(() => ({ model: {}, real: world }), cmds);
          await drain(world);
          expect(active(await world.tracker.list({})).map((r) => `${r.requestId} ${r.status}`)).toEqual([]);
        } finally {
          for (const h of world.holds.values()) h.release();
          await Promise.allSettled(world.pending);
          await created.cleanup?.();
        }
      }),
      { numRuns: real ? 3 : Math.max(opts.numRuns ?? 40, 60) },
    );
  });

  timed('dead-letters every undecodable message exactly once and never delivers it again', async (s, clock, t) => {
    await fc.assert(
      fc.asyncProperty(fc.array(poisonBody, { minLength: 1, maxLength: 8 }), async (bodies) => {
        const tracker = memoryRequestTracker({ clock });
        let ran = 0;
        const worker = createWorker({
          queue: s.queue,
          tracker,
          runLog: memoryRunLog({ clock }),
          clock,
          registry: processorRegistry([{ name: PROCESSOR, run: async () => void ran++ }]),
          resume: false,
          leaseMs: t.real ? t.lease : LEASE,
        });
        const tag = `p${clock.now()}`;
        const msgs: QueueMessage[] = bodies.map((data, i) => ({ id: `${tag}-${i}`, data, attributes: { request_id: `${tag}-${i}` } }));
        const published = await s.queue.publish(msgs);
        // A body the transport refuses never entered the queue: nothing to dead-letter.
        const entered = new Set(published.filter((o) => o._tag === 'Published').map((o) => o.id));
        const outcomes: DeliveryOutcome[] = [];
        for (let i = 0; i < 20; i++) {
          const turn = await worker.runOnce({ max: 10 });
          outcomes.push(...turn.outcomes);
          // A real queue may hand over a batch in parts: keep going until every message was seen.
          if (turn.received === 0 && (!t.real || outcomes.length >= entered.size)) break;
        }
        expect(outcomes.map((o) => o._tag)).toEqual([...entered].map(() => 'DeadLettered'));
        expect(ran).toBe(0);
        // A dead-lettered message never comes back (real time: watched past the worker's lease).
        if (!t.real) await t.pass(10 * LEASE);
        await t.none(t.real ? t.lease : 0);
        if (s.backdoor?.deadLettered !== undefined) {
          const dead = (await s.backdoor.deadLettered()).filter((id) => id.startsWith(`${tag}-`));
          expect(dead.sort()).toEqual([...entered].sort());
        }
        clock.advance(1);
      }),
      { numRuns: t.real ? 3 : Math.min(opts.numRuns ?? 40, 25) },
    );
  });
};

/** Bodies that never decode: lone surrogates, astral characters where JSON wants a token, bad JSON, wrong types. */
const poisonBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('\ud800', '\udfff', 'x\ud83d', '{"a":"\ud800"}', '😀', 'x😀😀', '{"start_date":😀}', `${'x😀'.repeat(40)}`),
  fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.trimStart().startsWith('{')),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => `{${s}`),
  fc.constantFrom('null', '[]', '42', '"text"', '{}', 'true'),
  fc
    .record({
      start_date: fc.oneof(fc.integer(), fc.constant('2025-02-30'), fc.string({ unit: 'binary', maxLength: 8 })),
      end_date: fc.constant('2025-01-01'),
      processor_name: fc.oneof(fc.integer(), fc.constant(PROCESSOR), fc.string({ unit: 'binary', maxLength: 8 })),
      is_backfill: fc.oneof(fc.constant(false), fc.constant('yes')),
    })
    .map((o) => JSON.stringify(o)),
);

// ---------- the stale-ack model ----------

interface Hold {
  readonly release: () => void;
  readonly outcome: Promise<DeliveryOutcome>;
}
interface World {
  readonly subject: QueueSubject;
  readonly clock: ManualClock;
  /** The lease every worker and receive uses: 60 s of manual time, or the subject's short real lease. */
  readonly lease: number;
  readonly timing: QueueTiming;
  readonly tracker: RequestTracker;
  /** Two workers; a stalled one's heartbeats fail, as if its process were frozen. */
  readonly workers: readonly Worker[];
  readonly stalled: boolean[];
  /** Runs holding their processor, by worker and request. */
  readonly holds: Map<string, Hold>;
  readonly pending: Promise<unknown>[];
  published: number;
  started: number;
}

const newWorld = (subject: QueueSubject, clock: ManualClock, timing: QueueTiming): World => {
  const tracker = memoryRequestTracker({ clock });
  const runLog = memoryRunLog({ clock });
  const world: World = {
    subject,
    clock,
    lease: timing.lease,
    timing,
    tracker,
    workers: [],
    stalled: [false, false],
    holds: new Map(),
    pending: [],
    published: 0,
    started: 0,
  };
  const workers = [0, 1].map((w) => {
    // A stalled worker's heartbeats never reach the tracker: its claim lapses while it runs on.
    const own: RequestTracker = {
      ...tracker,
      apply: (id, ev) =>
        ev._tag === 'Heartbeat' && world.stalled[w] === true ? Promise.reject(new Error('stalled')) : tracker.apply(id, ev),
    };
    let releaseFor: (id: string) => Promise<void> = async () => undefined;
    const processor = {
      name: PROCESSOR,
      run: ({ requestId }: { readonly requestId?: string | undefined }) => {
        world.started++;
        return releaseFor(requestId ?? '');
      },
    };
    const worker = createWorker({
      queue: subject.queue,
      tracker: own,
      runLog,
      clock,
      registry: processorRegistry([processor]),
      resume: false,
      leaseMs: world.lease,
      heartbeatMs: world.lease / 3,
      concurrency: 1,
      workerId: `w${w}`,
    });
    let gates = new Map<string, () => void>();
    releaseFor = (id) => new Promise<void>((resolve) => gates.set(`${w}:${id}`, resolve));
    return Object.assign(worker, {
      release: (id: string) => {
        gates.get(`${w}:${id}`)?.();
        gates.delete(`${w}:${id}`);
      },
      reset: () => (gates = new Map()),
    });
  });
  (world as { workers: readonly Worker[] }).workers = workers;
  return world;
};

type StaleCommand = fc.AsyncCommand<object, World>;

class PublishNew implements StaleCommand {
  check(): boolean {
    return true;
  }
  async run(_m: object, w: World): Promise<void> {
    if (w.published >= 3) return;
    await publishRequests(w.tracker, w.subject.queue, 1, w.clock.now(), `s${w.published++}`);
  }
  toString(): string {
    return 'publish';
  }
}

/** Worker `w` takes one delivery; if it claims it, its processor holds until `Finish` (and, with `stall`, its heartbeats stop). */
class Claim implements StaleCommand {
  constructor(
    readonly w: number,
    readonly stall = false,
  ) {}
  check(): boolean {
    return true;
  }
  async run(_m: object, world: World): Promise<void> {
    const worker = world.workers[this.w]! as Worker & { release(id: string): void };
    // One run at a time per worker (`concurrency: 1`): a second delivery would only wait for this one.
    if ([...world.holds.keys()].some((k) => k.startsWith(`${this.w}:`))) return;
    const [d] = await world.timing.receiveOnce(1, world.lease);
    if (d === undefined) return;
    const before = world.started;
    const outcome = worker.handleDelivery(d);
    world.pending.push(outcome);
    let settled = false;
    void outcome.then(() => (settled = true));
    await until(() => settled || world.started > before, 'the delivery to be handled or its run to start');
    if (!settled) world.holds.set(`${this.w}:${d.message.id}`, { release: () => worker.release(d.message.id), outcome });
    if (this.stall) world.stalled[this.w] = true;
  }
  toString(): string {
    return `claim(w${this.w}${this.stall ? ', stalls' : ''})`;
  }
}

class Stall implements StaleCommand {
  constructor(readonly w: number) {}
  check(): boolean {
    return true;
  }
  async run(_m: object, world: World): Promise<void> {
    world.stalled[this.w] = true;
  }
  toString(): string {
    return `stall(w${this.w})`;
  }
}

class Advance implements StaleCommand {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(_m: object, world: World): Promise<void> {
    await world.timing.pass(this.ms);
    await yieldMany(10);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

class Sweep implements StaleCommand {
  check(): boolean {
    return true;
  }
  async run(_m: object, world: World): Promise<void> {
    await createSweeper({ tracker: world.tracker, queue: world.subject.queue, clock: world.clock }).runOnce();
  }
  toString(): string {
    return 'sweep';
  }
}

class Relay implements StaleCommand {
  check(): boolean {
    return true;
  }
  async run(_m: object, world: World): Promise<void> {
    await createRelay({ tracker: world.tracker, queue: world.subject.queue, clock: world.clock, olderThanMs: 0 }).runOnce();
  }
  toString(): string {
    return 'relay';
  }
}

/** A held run finishes: its `Complete` may be refused as stale; then the worker acks or gives back its delivery. */
class Finish implements StaleCommand {
  constructor(readonly pick: number) {}
  check(): boolean {
    return true;
  }
  async run(_m: object, world: World): Promise<void> {
    const keys = [...world.holds.keys()].sort();
    if (keys.length === 0) return;
    const key = keys[this.pick % keys.length]!;
    const h = world.holds.get(key)!;
    world.holds.delete(key);
    h.release();
    await h.outcome;
  }
  toString(): string {
    return `finish(#${this.pick})`;
  }
}

const staleCommands = (lease: number) => [
  fc.constant(new PublishNew()),
  fc.tuple(fc.integer({ min: 0, max: 1 }), fc.boolean()).map(([w, stall]) => new Claim(w, stall)),
  fc.integer({ min: 0, max: 1 }).map((w) => new Stall(w)),
  fc.constantFrom(lease / 3 + 1, lease + 1, lease + 1).map((ms) => new Advance(ms)),
  fc.constant(new Sweep()),
  fc.constant(new Relay()),
  fc.nat(5).map((p) => new Finish(p)),
];

/** Everything held finishes, nobody stalls any more, and a healthy pass of workers, sweeper and relay runs until quiet. */
const drain = async (world: World): Promise<void> => {
  for (const [key, h] of [...world.holds]) {
    world.holds.delete(key);
    h.release();
    await h.outcome;
  }
  world.stalled.fill(false);
  const healthy = createWorker({
    queue: world.subject.queue,
    tracker: world.tracker,
    runLog: memoryRunLog({ clock: world.clock }),
    clock: world.clock,
    registry: processorRegistry([{ name: PROCESSOR, run: async () => undefined }]),
    resume: false,
    leaseMs: world.lease,
  });
  const sweeper = createSweeper({ tracker: world.tracker, queue: world.subject.queue, clock: world.clock });
  const relay = createRelay({ tracker: world.tracker, queue: world.subject.queue, clock: world.clock, olderThanMs: 0 });
  for (let i = 0; i < 30 && active(await world.tracker.list({})).length > 0; i++) {
    await sweeper.runOnce();
    await relay.runOnce();
    const t = await healthy.runOnce({ max: 10 });
    if (t.received === 0) await world.timing.pass(world.lease + 1);
  }
};
