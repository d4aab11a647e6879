import { describe, expect, it } from 'vitest';
import type { BackfillQueue, Delivery, QueueMessage } from '@smart-backfill/core';
import { InjectedFault, ManualClock, withFaults, withQueueFaults } from '@smart-backfill/testkit';

const counter = () => {
  let n = 0;
  return {
    get value() {
      return n;
    },
    async bump(by = 1) {
      n += by;
      return n;
    },
    plain: 'not a function',
  };
};

describe('withFaults', () => {
  it('passes calls through when no fault is configured', async () => {
    const c = withFaults(counter(), { seed: 1 });
    expect(await c.bump(2)).toBe(2);
    expect(c.plain).toBe('not a function');
  });

  it('fails before the effect with failRate, after it with ambiguousRate', async () => {
    const failing = counter();
    const f = withFaults(failing, { seed: 1, failRate: 1 });
    await expect(f.bump()).rejects.toMatchObject({ kind: 'fail', method: 'bump' });
    expect(failing.value).toBe(0);

    const ambiguous = counter();
    const a = withFaults(ambiguous, { seed: 1, ambiguousRate: 1 });
    await expect(a.bump()).rejects.toBeInstanceOf(InjectedFault);
    expect(ambiguous.value).toBe(1);
  });

  it('injects at about the configured rate, reproducibly from the seed, only in chosen methods', async () => {
    const run = async (seed: number) => {
      const seen: string[] = [];
      const c = withFaults(counter(), { seed, failRate: 0.3, ambiguousRate: 0.1, onFault: (f) => seen.push(f.kind) });
      for (let i = 0; i < 2000; i++) await c.bump().catch(() => undefined);
      return seen;
    };
    const a = await run(5);
    expect(a).toEqual(await run(5));
    expect(a.filter((k) => k === 'fail').length / 2000).toBeCloseTo(0.3, 1);
    expect(a.filter((k) => k === 'ambiguous').length / 2000).toBeCloseTo(0.1, 1);
    const only = withFaults(counter(), { seed: 1, failRate: 1, methods: ['other'] });
    expect(await only.bump()).toBe(1);
  });

  it('delays calls on the given clock', async () => {
    const clock = new ManualClock(0);
    const c = withFaults(counter(), { seed: 1, delayMs: 500, clock });
    let done = false;
    const p = c.bump().then((v) => {
      done = true;
      return v;
    });
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(500);
    expect(await p).toBe(1);
  });

  it('rejects rates that are not probabilities', () => {
    expect(() => withFaults(counter(), { failRate: 1.5 })).toThrow(/failRate must be a probability/);
    expect(() => withFaults(counter(), { failRate: 0.7, ambiguousRate: 0.7 })).toThrow(/<= 1/);
  });
});

const recordingQueue = (): BackfillQueue & { sent: string[]; acked: string[] } => {
  const sent: string[] = [];
  const acked: string[] = [];
  let attempt = 0;
  return {
    sent,
    acked,
    async publish(ms) {
      for (const m of ms) sent.push(m.id);
      return ms.map((m) => ({ _tag: 'Published' as const, id: m.id, messageId: `x-${m.id}` }));
    },
    async receive() {
      attempt++;
      const d: Delivery = {
        deliveryId: `d${attempt}`,
        message: { id: 'm', data: '{}', attributes: {} },
        deliveryAttempt: attempt,
        ack: async () => void acked.push(`m@${attempt}`),
        nack: async () => undefined,
        extendLease: async () => undefined,
      };
      return [d];
    },
  };
};

const msg = (id: string): QueueMessage => ({ id, data: '{}', attributes: {} });

describe('withQueueFaults', () => {
  it('reports clean failures as unsent and ambiguous ones as sent, in order', async () => {
    const inner = recordingQueue();
    const events: string[] = [];
    const q = withQueueFaults(inner, {
      seed: 3,
      publishFailureRate: 0.5,
      ambiguousPublishRate: 0.25,
      onFault: (f) => events.push(`${f.kind}:${f.id}`),
    });
    const ids = Array.from({ length: 400 }, (_, i) => `r${i}`);
    const outcomes = await q.publish(ids.map(msg));
    expect(outcomes.map((o) => o.id)).toEqual(ids);
    const failed = outcomes.filter((o) => o._tag === 'PublishFailed').map((o) => o.id);
    const ambiguous = events.filter((e) => e.startsWith('publish_ambiguous')).map((e) => e.split(':')[1]);
    const clean = events.filter((e) => e.startsWith('publish_failed')).map((e) => e.split(':')[1]);
    expect([...ambiguous, ...clean].sort()).toEqual([...failed].sort());
    for (const id of ambiguous) expect(inner.sent).toContain(id);
    for (const id of clean) expect(inner.sent).not.toContain(id);
    expect(failed.length / 400).toBeCloseTo(0.5, 1);
    expect(ambiguous.length / 400).toBeCloseTo(0.25, 1);
  });

  it('loses acks only below maxDeliveries', async () => {
    const inner = recordingQueue();
    const q = withQueueFaults(inner, { seed: 1, lostAckRate: 1, maxDeliveries: 3 });
    for (let i = 0; i < 3; i++) for (const d of await q.receive({ max: 1, leaseMs: 10 })) await d.ack();
    expect(inner.acked).toEqual(['m@3']);
  });

  it('requires ambiguous failures to be a share of all failures', () => {
    expect(() => withQueueFaults(recordingQueue(), { publishFailureRate: 0.1, ambiguousPublishRate: 0.2 })).toThrow(/ambiguousPublishRate/);
  });
});
