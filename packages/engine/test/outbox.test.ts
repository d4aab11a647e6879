import { describe, expect, it } from 'vitest';
import type { BackfillQueue, PublishOutcome } from '@smart-backfill/core';
import { createRelay, createWorker, processorRegistry, withSmartBackfill } from '@smart-backfill/engine';
import { D, world } from './support/world.js';
import { advance } from './support/time.js';

/** A queue whose next publishes fail outright, or are ambiguous (delivered, but reported failed). */
const flaky = (inner: BackfillQueue, mode: 'fail' | 'ambiguous', times: number): BackfillQueue => {
  let left = times;
  return {
    receive: (o) => inner.receive(o),
    publish: async (messages) => {
      if (left <= 0) return inner.publish(messages);
      left--;
      if (mode === 'ambiguous') await inner.publish(messages);
      return messages.map((m): PublishOutcome => ({ _tag: 'PublishFailed', id: m.id, error: 'DEADLINE_EXCEEDED' }));
    },
  };
};

describe('outbox: a request is tracked before it is published', () => {
  for (const mode of ['fail', 'ambiguous'] as const) {
    it(`publish ${mode === 'fail' ? 'fails' : 'succeeds but reports failure'}: the relay republishes and the worker runs it once`, async () => {
      const { clock, store, calls, filler } = world({ missing: [D('2025-11-15')] });
      const guarded = withSmartBackfill(filler, { ...store, queue: flaky(store.queue, mode, 1) });
      expect(await guarded.run({ date: D('2025-11-16') })).toMatchObject({ _tag: 'Held' });

      const [req] = store.requests();
      expect(req).toMatchObject({ status: 'queued', publishedAt: null });
      expect(store.queueState().messages).toHaveLength(mode === 'fail' ? 0 : 1);

      const relay = createRelay({ ...store, olderThanMs: 30_000 });
      // Too young: its guard may still be publishing it.
      expect(await relay.runOnce()).toEqual({ republished: 0, failed: 0 });
      await advance(clock, 60_000);
      expect(await relay.runOnce()).toEqual({ republished: 1, failed: 0 });
      expect(store.requests()[0]?.publishedAt).toBe(clock.now());
      // Idempotent: nothing left to relay.
      expect(await relay.runOnce()).toEqual({ republished: 0, failed: 0 });
      expect(store.queueState().messages).toHaveLength(mode === 'fail' ? 1 : 2);

      const worker = createWorker({ ...store, registry: processorRegistry([guarded]) });
      const tick = await worker.runOnce();
      if (mode === 'fail') expect(tick.outcomes.map((o) => o._tag)).toEqual(['Completed']);
      else {
        // Both copies arrive in one batch: one runs; the other waits for it, finds it done and is acked.
        expect(tick.outcomes.map((o) => o._tag)).toEqual(['Completed', 'AlreadyDone']);
      }
      expect(calls.filter((c) => c.isBackfill === true).map((c) => c.date)).toEqual(['2025-11-15']);
      expect(store.requests()).toMatchObject([{ status: 'completed', attempt: 1 }]);
      expect(store.queueState()).toMatchObject({ ready: 0, leased: 0, deadLettered: [] });
    });
  }

  it('a relay whose publish fails counts it and leaves it for next time', async () => {
    const { clock, store, filler } = world({ missing: [D('2025-11-15')] });
    await withSmartBackfill(filler, { ...store, queue: flaky(store.queue, 'fail', 1) }).run({ date: D('2025-11-16') });
    await advance(clock, 60_000);
    expect(await createRelay({ ...store, queue: flaky(store.queue, 'fail', 1) }).runOnce()).toEqual({ republished: 0, failed: 1 });
    expect(await createRelay(store).runOnce()).toEqual({ republished: 1, failed: 0 });
  });
});
