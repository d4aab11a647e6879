import { isoDate, type IsoDate, type RunRecord } from '@smart-backfill/core';

/** A scheduled run that succeeded in 250 ms, for tests; `over` sets any other field. */
export const aRunRecord = (
  runId: string,
  processorName: string,
  runDate: IsoDate | string,
  startedAt: number,
  over: Partial<RunRecord> = {},
): RunRecord => ({
  runId,
  processorName,
  runDate: typeof runDate === 'string' ? isoDate(runDate) : runDate,
  trigger: 'scheduled',
  isBackfill: false,
  outcome: 'succeeded',
  skipReason: null,
  errorMessage: null,
  startedAt,
  finishedAt: startedAt + 250,
  durationMs: 250,
  metadata: {},
  ...over,
});
