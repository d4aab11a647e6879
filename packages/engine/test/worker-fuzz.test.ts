import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBackfillMessage, createWorker, processorRegistry, type Processor } from '@smart-backfill/engine';
import { createMemoryStore } from '@smart-backfill/memory';
import { ManualClock } from '@smart-backfill/testkit';

const good = {
  start_date: '2025-11-15',
  end_date: '2025-11-15',
  processor_name: 'P',
  is_backfill: true,
  trigger_reason: 'auto_backfill',
  requested_at: '2025-11-16T08:00:00Z',
  request_id: 'r',
  attempt: 0,
};
const FIELDS = Object.keys(good);

/** Valid messages with one field broken, dropped or replaced; raw garbage; unknown processors. */
const arbBody = fc.oneof(
  fc
    .record({
      field: fc.constantFrom(...FIELDS),
      value: fc.oneof(fc.anything(), fc.constantFrom('2025-02-30', '', '2025-13-01', -1, 1.5, null, 'os.system')),
    })
    .map(({ field, value }) =>
      JSON.stringify({ ...good, request_id: `r-${Math.abs(JSON.stringify(value ?? null)?.length ?? 0)}`, [field]: value }),
    ),
  fc.constantFrom(...FIELDS).map((field) => JSON.stringify(Object.fromEntries(Object.entries(good).filter(([k]) => k !== field)))),
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.constant(JSON.stringify({ ...good, processor_name: 'NotRegistered', request_id: 'unknown-1' })),
  fc.constant(JSON.stringify({ ...good, huge: 'x'.repeat(70_000) })),
);

describe('worker under fuzzed messages', () => {
  it('rejects every bad message with a reason, runs none, and keeps going', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbBody, { minLength: 1, maxLength: 12 }), async (bodies) => {
        const store = createMemoryStore({ clock: new ManualClock() });
        const ran: string[] = [];
        const p: Processor = { name: 'P', run: async (o) => void ran.push(o.requestId ?? '') };
        const worker = createWorker({ ...store, registry: processorRegistry([p]), resume: false });
        await store.queue.publish(bodies.map((data, i) => ({ id: `m${i}`, data, attributes: {} })));
        const tick = await worker.runOnce({ max: 100 });
        expect(tick.received).toBe(bodies.length);
        tick.outcomes.forEach((o, i) => {
          const decoded = decodeBackfillMessage(bodies[i]);
          if (decoded._tag === 'Err') {
            expect(o._tag).toBe('DeadLettered');
            if (o._tag === 'DeadLettered') expect(o.reason).toMatch(/^undecodable backfill message "m\d+": \S/);
          } else if (decoded.value.processor_name !== 'P') {
            expect(o._tag).toBe('Rejected');
          } else {
            expect(['Completed', 'Busy', 'AlreadyDone', 'Duplicate']).toContain(o._tag);
          }
        });
        // Only decodable messages for the registered processor ever ran.
        const runnable = new Set(
          bodies.flatMap((b) => {
            const d = decodeBackfillMessage(b);
            return d._tag === 'Ok' && d.value.processor_name === 'P' ? [d.value.request_id] : [];
          }),
        );
        for (const id of ran) expect(runnable.has(id)).toBe(true);
        expect(store.queueState().leased).toBe(0);
      }),
      { numRuns: 40 },
    );
  });
});
