import type { BackfillRequest, Delivery, NewBackfillRequest } from '@smart-backfill/core';
import type { BackfillMessage } from './codec.js';
import { engineError } from './errors.js';
import type { WorkerContext } from './worker-context.js';

/** Python's `isoformat()` has no zone and means UTC; `Date.parse` would read it as local time. */
const parseRequestedAt = (s: string): number | undefined => {
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(s) ? s : `${s}Z`;
  const ms = Date.parse(zoned);
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * The tracked request for a message, created when missing (a hand-published or lost
 * message), or the other request already active for its date.
 */
export const ensureRequest = async (
  ctx: WorkerContext,
  m: BackfillMessage,
  d: Delivery,
): Promise<{ request: BackfillRequest } | { duplicateOf: BackfillRequest }> => {
  const found = await ctx.tracker.get(m.request_id);
  if (found !== undefined) return { request: found };
  const now = ctx.clock.now();
  const fresh: NewBackfillRequest = {
    requestId: m.request_id,
    processorName: m.processor_name,
    date: m.start_date,
    requestType: /auto/i.test(m.trigger_reason) ? 'auto' : 'manual',
    priority: 'normal',
    requestedAt: parseRequestedAt(m.requested_at) ?? now,
    requestedBy: 'backfill_worker',
    triggerReason: m.trigger_reason,
    metadata: { source: 'untracked_message', end_date: m.end_date, delivery_id: d.deliveryId },
  };
  const res = await ctx.tracker.create([fresh]);
  const created = res.created[0];
  if (created !== undefined) {
    ctx.log.info('tracking a message that had no request', { requestId: m.request_id, processor: m.processor_name, date: m.start_date });
    const marked = await ctx.tracker.apply(created.requestId, { _tag: 'MarkPublished', at: now });
    return { request: marked._tag === 'Ok' ? marked.value : created };
  }
  const existing = res.existing[0];
  if (existing === undefined) throw engineError('tracker_failed', `tracker.create returned nothing for request ${m.request_id}`);
  return existing.requestId === m.request_id ? { request: existing } : { duplicateOf: existing };
};
