import type { HeldRun, IsoDate } from '@smart-backfill/core';

/** A run held at `heldAt` because a backfill is under way, never claimed since, for tests; `over` sets any other field. */
export const aHeldRun = (processorName: string, runDate: IsoDate, heldAt: number, over: Partial<HeldRun> = {}): HeldRun => ({
  processorName,
  runDate,
  heldAt,
  reason: 'waiting_for_backfill',
  waitingFor: [],
  status: 'held',
  releasedAt: null,
  claimedBy: null,
  claimedAt: null,
  leaseUntil: null,
  claims: 0,
  resumeRunId: null,
  ...over,
});
