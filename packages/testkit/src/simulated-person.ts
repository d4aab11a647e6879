import { isActive, type BackfillQueue, type IsoDate, type NewBackfillRequest } from '@smart-backfill/core';
import { queueMessageForRequest } from '@smart-backfill/engine';
import type { MemoryStore } from '@smart-backfill/memory';
import type { ManualClock } from './manual-clock.js';

export interface ManualBackfillAsk {
  readonly processorName: string;
  /** Sorted; the ones with an active request already are left out. */
  readonly dates: readonly IsoDate[];
  readonly requestedAt: number;
  readonly requestId: () => string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** The manual requests an on-call person would file for `ask.dates`: none for a date that already has an active one. */
export const manualBackfillRequests = async (store: MemoryStore, ask: ManualBackfillAsk): Promise<NewBackfillRequest[]> => {
  const { processorName, dates } = ask;
  const active = new Set(
    (await store.tracker.forWindow({ processorName, start: dates[0] as IsoDate, end: dates[dates.length - 1] as IsoDate }))
      .filter((r) => isActive(r.status))
      .map((r) => r.date),
  );
  return dates
    .filter((d) => !active.has(d))
    .map((date) => ({
      requestId: ask.requestId(),
      processorName,
      date,
      requestType: 'manual',
      priority: 'high',
      requestedAt: ask.requestedAt,
      requestedBy: 'on-call person',
      triggerReason: 'manual_backfill',
      metadata: { ...ask.metadata },
    }));
};

/** File `requests` and publish them; one whose publish failed stays unpublished, for the relay. */
export const fileAndPublish = async (
  store: MemoryStore,
  queue: BackfillQueue,
  clock: ManualClock,
  requests: readonly NewBackfillRequest[],
): Promise<void> => {
  const { created } = await store.tracker.create(requests);
  const outcomes = await queue.publish(created.map(queueMessageForRequest));
  for (const [i, r] of created.entries()) {
    if (outcomes[i]?._tag === 'Published') await store.tracker.apply(r.requestId, { _tag: 'MarkPublished', at: clock.now() });
  }
};
