import { expect, it } from 'vitest';
import fc from 'fast-check';
import type { BackfillQueue, Delivery, QueueMessage } from '@smart-backfill/core';
import { ManualClock } from '../manual-clock.js';
import { queueBadInput } from './bad-input.js';
import { contractDescribe, DEFAULT_START_MS, withSubject } from './harness.js';
import type { ContractOptions, QueueSubject } from './types.js';
import { testWorkerOverQueue } from './backfill-queue-worker-contract.js';
import { queueTiming, type QueueTiming } from './queue-timing.js';

const message = (id: string, date = '2025-03-01'): QueueMessage => ({
  id,
  data: JSON.stringify({
    start_date: date,
    end_date: date,
    processor_name: 'player_game_summary',
    is_backfill: true,
    request_id: id,
    attempt: 0,
  }),
  attributes: { processor_name: 'player_game_summary', game_date: date, request_id: id, attempt: '0' },
});

const sameMessage = (d: Delivery, m: QueueMessage): void => {
  expect(d.message.id).toBe(m.id);
  expect(JSON.parse(d.message.data)).toEqual(JSON.parse(m.data));
  expect(d.message.attributes).toMatchObject(m.attributes);
};

/**
 * The `BackfillQueue` contract: publish outcomes one per message in order;
 * at-least-once delivery with exclusive leases; a lapsed lease redelivers with
 * `deliveryAttempt + 1`; nack with delay; extendLease; ack is final; dead letter
 * where supported — plus a model-based run of random publish / receive / ack /
 * nack / extend / dead-letter / clock-advance sequences — and the engine's worker,
 * sweeper and relay over the queue (see `testWorkerOverQueue`).
 */
export const testBackfillQueue = (opts: ContractOptions<QueueSubject>): void => {
  contractDescribe('BackfillQueue', opts, () => {
    queueBadInput(opts);
    // Each case runs on the manual clock, or in real time with short leases (see `queueTiming`).
    const timed = (name: string, fn: (s: QueueSubject, t: QueueTiming) => Promise<void>): void => {
      it(name, async () => {
        await withSubject(opts, async (s, clock) => fn(s, queueTiming(s, clock, 5000)));
      });
    };
    const ids = (ds: readonly Delivery[]): string[] => ds.map((d) => d.message.id).sort();

    timed('publishes one Published outcome per message, in order, and delivers the same bytes', async (s, t) => {
      const msgs = [message('r1', '2025-03-01'), message('r2', '2025-03-02'), message('r3', '2025-03-03')];
      const outcomes = await s.queue.publish(msgs);
      expect(outcomes.map((o) => [o._tag, o.id])).toEqual(msgs.map((m) => ['Published', m.id]));
      for (const o of outcomes) if (o._tag === 'Published') expect(typeof o.messageId === 'string' && o.messageId !== '').toBe(true);
      expect(await s.queue.publish([])).toEqual([]);
      const got = await t.collect(3, 60_000);
      expect(ids(got)).toEqual(['r1', 'r2', 'r3']);
      for (const d of got) {
        sameMessage(d, msgs.find((m) => m.id === d.message.id) as QueueMessage);
        expect(d.deliveryAttempt).toBe(1);
        await d.ack();
      }
    });

    timed('returns at most max deliveries and leases each one to a single receiver', async (s, t) => {
      await s.queue.publish(['a', 'b', 'c', 'd', 'e'].map((id) => message(id)));
      const first = await t.collect(2, 60_000);
      expect(first).toHaveLength(2);
      const rest = await t.collect(3, 60_000);
      expect(rest).toHaveLength(3);
      expect(ids([...first, ...rest])).toEqual(['a', 'b', 'c', 'd', 'e']);
      await t.none();
      for (const d of [...first, ...rest]) await d.ack();
    });

    timed('redelivers an unacked message when its lease lapses, with deliveryAttempt + 1', async (s, t) => {
      await s.queue.publish([message('r1')]);
      const [d1] = await t.collect(1, t.lease);
      expect(d1?.deliveryAttempt).toBe(1);
      if (t.real) await t.none();
      else {
        await t.pass(t.lease - 1);
        await t.none();
        await t.pass(1);
      }
      const [d2] = await t.collect(1, t.lease);
      expect(d2?.message.id).toBe('r1');
      expect(d2?.deliveryAttempt).toBe(2);
      if (!t.real) await t.pass(t.lease);
      const [d3] = await t.collect(1, t.lease);
      expect(d3?.deliveryAttempt).toBe(3);
      await d3?.ack();
    });

    timed('never delivers an acked message again', async (s, t) => {
      await s.queue.publish([message('r1'), message('r2')]);
      const ds = await t.collect(2, t.lease);
      expect(ds).toHaveLength(2);
      for (const d of ds) await d.ack();
      if (!t.real) await t.pass(1_000_000);
      // Real time: watch past the lease the acked deliveries had.
      await t.none(2 * t.lease);
    });

    timed('nack gives a message back at once, or after its delay', async (s, t) => {
      const delay = t.real ? 2 * t.lease : 30_000;
      await s.queue.publish([message('now'), message('later')]);
      const ds = await t.collect(2, 60_000);
      expect(ids(ds)).toEqual(['later', 'now']);
      for (const d of ds) await (d.message.id === 'now' ? d.nack() : d.nack(delay));
      const again = await t.collect(1, 60_000);
      expect(again.map((d) => [d.message.id, d.deliveryAttempt])).toEqual([['now', 2]]);
      if (!t.real) await t.pass(delay - 1);
      await t.none();
      if (!t.real) await t.pass(1);
      const late = await t.collect(1, 60_000);
      expect(late.map((d) => [d.message.id, d.deliveryAttempt])).toEqual([['later', 2]]);
      for (const d of [...again, ...late]) await d.ack();
    });

    timed('extendLease keeps a long backfill from being redelivered', async (s, t) => {
      await s.queue.publish([message('long')]);
      const [d] = await t.collect(1, t.lease);
      if (t.real) {
        // Extended well past the first lease, then watched past that lease: nothing comes back.
        await d?.extendLease(3 * t.lease);
        await t.none(t.lease + 1000);
      } else {
        await t.pass(4000);
        await d?.extendLease(5000);
        await t.pass(4000);
        await t.none();
        await t.pass(1000);
      }
      const [again] = await t.collect(1, 60_000);
      expect(again?.deliveryAttempt).toBe(2);
      await again?.ack();
    });

    timed('parks a dead-lettered message for good (when the queue has a dead-letter state)', async (s, t) => {
      await s.queue.publish([message('poison'), message('fine')]);
      const ds = await t.collect(2, t.lease);
      const poison = ds.find((d) => d.message.id === 'poison');
      if (poison?.deadLetter === undefined) {
        for (const d of ds) await d.ack();
        return;
      }
      await poison.deadLetter('cannot decode');
      if (!t.real) await t.pass(1_000_000);
      // 'fine' was neither acked nor extended: it comes back after its lease; 'poison' must not.
      const back = await t.collect(1, 60_000);
      expect(ids(back)).toEqual(['fine']);
      await t.none(t.real ? t.lease : 0);
      for (const d of back) await d.ack();
      if (s.backdoor?.deadLettered !== undefined) expect(await s.backdoor.deadLettered()).toContain('poison');
    });

    it('agrees with a model over random publish/receive/ack/nack/extend/expire sequences', async () => {
      const real = await withSubject(opts, async (s) => s.followsClock === false);
      // Real time: the same model without clock steps, leases and delays too long to lapse within a run.
      const commands = real ? realTimeQueueCommands : queueCommands;
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: real ? 25 : 60, size: 'max' }), async (cmds) => {
          const clock = new ManualClock(opts.startMs ?? DEFAULT_START_MS);
          const subject = await opts.create({ clock });
          try {
            await fc.asyncModelRun(
              () => ({ model: { messages: new Map(), next: 0 }, real: { queue: subject.queue, clock, handles: new Map(), real } }),
              cmds,
            );
          } finally {
            await subject.cleanup?.();
          }
        }),
        { numRuns: real ? Math.min(opts.numRuns ?? 40, 5) : (opts.numRuns ?? 40) },
      );
    });

    testWorkerOverQueue(opts);
  });
};

// ---------- model-based ----------
// Leases and delays are whole seconds and every clock step is a whole second
// plus 1 ms, so no lease ever ends exactly on a step (the boundary is the
// adapter's choice; the unit tests above pin it where the port does).

interface ModelMessage {
  readonly message: QueueMessage;
  state: 'ready' | 'leased' | 'acked' | 'dead';
  availableAt: number;
  leaseExpiresAt: number;
  deliveries: number;
}
interface QueueModel {
  readonly messages: Map<string, ModelMessage>;
  next: number;
}
interface QueueReal {
  readonly queue: BackfillQueue;
  readonly clock: ManualClock;
  readonly handles: Map<string, Delivery>;
  /** Real-time queue: receives poll until the model's count arrives. */
  readonly real: boolean;
}
type QueueCommand = fc.AsyncCommand<QueueModel, QueueReal>;

const available = (m: QueueModel, now: number): ModelMessage[] =>
  [...m.messages.values()].filter(
    (x) => (x.state === 'ready' && x.availableAt <= now) || (x.state === 'leased' && x.leaseExpiresAt <= now),
  );

/** Messages whose latest delivery still holds its lease: the only handles a worker may act on. */
const held = (m: Readonly<QueueModel>, now: number): ModelMessage[] =>
  [...m.messages.values()]
    .filter((x) => x.state === 'leased' && x.leaseExpiresAt > now)
    .sort((a, b) => (a.message.id < b.message.id ? -1 : 1));

class PublishCommand implements QueueCommand {
  constructor(readonly count: number) {}
  check(): boolean {
    return true;
  }
  async run(m: QueueModel, r: QueueReal): Promise<void> {
    const msgs = Array.from({ length: this.count }, () => message(`q${m.next++}`));
    const outcomes = await r.queue.publish(msgs);
    expect(outcomes.map((o) => [o._tag, o.id])).toEqual(msgs.map((x) => ['Published', x.id]));
    for (const msg of msgs)
      m.messages.set(msg.id, { message: msg, state: 'ready', availableAt: r.clock.now(), leaseExpiresAt: 0, deliveries: 0 });
  }
  toString(): string {
    return `publish(${this.count})`;
  }
}

class ReceiveCommand implements QueueCommand {
  constructor(
    readonly max: number,
    readonly leaseMs: number,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: QueueModel, r: QueueReal): Promise<void> {
    const now = r.clock.now();
    const avail = available(m, now);
    const want = Math.min(this.max, avail.length);
    const got: Delivery[] = [...(await r.queue.receive({ max: this.max, leaseMs: this.leaseMs, waitMs: r.real ? 500 : 0 }))];
    // A real queue hands over what it has in its own time (a Pull may return fewer than are ready).
    for (const deadline = performance.now() + 20_000; r.real && got.length < want && performance.now() < deadline;)
      got.push(...(await r.queue.receive({ max: this.max - got.length, leaseMs: this.leaseMs, waitMs: 500 })));
    expect(got.length, `receive(max ${this.max}) with ${avail.length} available`).toBe(want);
    const ids = got.map((d) => d.message.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of got) {
      const mm = m.messages.get(d.message.id);
      expect(mm !== undefined && avail.includes(mm), `delivered ${d.message.id}, which is not available`).toBe(true);
      if (mm === undefined) continue;
      sameMessage(d, mm.message);
      expect(d.deliveryAttempt, `deliveryAttempt of ${d.message.id}`).toBe(mm.deliveries + 1);
      mm.deliveries++;
      mm.state = 'leased';
      mm.leaseExpiresAt = now + this.leaseMs;
      r.handles.set(d.message.id, d);
    }
  }
  toString(): string {
    return `receive(max ${this.max}, lease ${this.leaseMs})`;
  }
}

class SettleCommand implements QueueCommand {
  constructor(
    readonly pick: number,
    readonly action: 'ack' | 'nack' | 'extend' | 'deadLetter',
    readonly ms: number,
  ) {}
  check(m: Readonly<QueueModel>): boolean {
    return [...m.messages.values()].some((x) => x.state === 'leased');
  }
  async run(m: QueueModel, r: QueueReal): Promise<void> {
    const now = r.clock.now();
    const candidates = held(m, now);
    if (candidates.length === 0) return;
    const mm = candidates[this.pick % candidates.length] as ModelMessage;
    const d = r.handles.get(mm.message.id) as Delivery;
    switch (this.action) {
      case 'ack':
        await d.ack();
        mm.state = 'acked';
        return;
      case 'nack':
        await (this.ms === 0 ? d.nack() : d.nack(this.ms));
        mm.state = 'ready';
        mm.availableAt = now + this.ms;
        return;
      case 'extend':
        await d.extendLease(this.ms);
        mm.leaseExpiresAt = now + this.ms;
        return;
      case 'deadLetter':
        if (d.deadLetter === undefined) return;
        await d.deadLetter('model says so');
        mm.state = 'dead';
        return;
    }
  }
  toString(): string {
    return `${this.action}(#${this.pick}, ${this.ms})`;
  }
}

class AdvanceCommand implements QueueCommand {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(_m: QueueModel, r: QueueReal): Promise<void> {
    r.clock.advance(this.ms);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

const queueCommands = [
  fc.integer({ min: 1, max: 3 }).map((n) => new PublishCommand(n)),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom(1000, 3000, 5000)).map(([max, lease]) => new ReceiveCommand(max, lease)),
  fc
    .tuple(
      fc.nat(20),
      fc.constantFrom<SettleCommand['action']>('ack', 'ack', 'nack', 'extend', 'deadLetter'),
      fc.constantFrom(0, 2000, 6000),
    )
    .map(([p, a, ms]) => new SettleCommand(p, a, a === 'extend' && ms === 0 ? 2000 : ms)),
  fc.constantFrom(1001, 2001, 4001).map((ms) => new AdvanceCommand(ms)),
];

/** Real time: no clock steps; leases and nack delays (600 s, Pub/Sub's most) never lapse within a run. */
const LONG = 600_000;
const realTimeQueueCommands = [
  fc.integer({ min: 1, max: 3 }).map((n) => new PublishCommand(n)),
  fc.integer({ min: 1, max: 4 }).map((max) => new ReceiveCommand(max, LONG)),
  fc
    .tuple(fc.nat(20), fc.constantFrom<SettleCommand['action']>('ack', 'ack', 'nack', 'extend', 'deadLetter'), fc.constantFrom(0, LONG))
    .map(([p, a, ms]) => new SettleCommand(p, a, a === 'extend' ? LONG : ms)),
];
