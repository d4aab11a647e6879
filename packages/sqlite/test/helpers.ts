import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isoDate, type NewBackfillRequest } from '@smart-backfill/core';

/** A fresh directory for database files; `done()` removes it. */
export const tempDir = (): { dir: string; file: (name: string) => string; done: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-sqlite-'));
  return { dir, file: (name) => join(dir, name), done: () => rmSync(dir, { recursive: true, force: true }) };
};

export const aRequest = (requestId: string, processorName: string, gameDate: string, requestedAt: number, over: Partial<NewBackfillRequest> = {}): NewBackfillRequest => ({
  requestId,
  processorName,
  gameDate: isoDate(gameDate),
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
