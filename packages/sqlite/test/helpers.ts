import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IsoDate, NewBackfillRequest } from '@smart-backfill/core';

/** A fresh directory for database files; `done()` removes it. */
export const tempDir = (): { dir: string; file: (name: string) => string; done: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-sqlite-'));
  return { dir, file: (name) => join(dir, name), done: () => rmSync(dir, { recursive: true, force: true }) };
};

/**
 * A request as a caller would hand it over. `date` is passed through unchecked
 * (core's `isoDate` would throw its own `RangeError` here, before the adapter saw it):
 * validating it is the tracker's job, and tests of that job use this helper too.
 */
export const aRequest = (
  requestId: string,
  processorName: string,
  date: string,
  requestedAt: number,
  over: Partial<NewBackfillRequest> = {},
): NewBackfillRequest => ({
  requestId,
  processorName,
  date: date as IsoDate,
  requestType: 'auto',
  priority: 'normal',
  requestedAt,
  requestedBy: 'smart_backfill_detection',
  triggerReason: 'auto_backfill',
  metadata: { pattern: 'smart_backfill', auto_queued: true },
  ...over,
});

/** A clock tests move by hand (the testkit's `ManualClock` does the same; this keeps these tests standalone). */
export const handClock = (start = Date.UTC(2025, 5, 1)) => {
  let now = start;
  return { now: () => now, sleep: async () => {}, advance: (ms: number) => void (now += ms) };
};
