import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aNewRequest } from '@smart-backfill/testkit';

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
export const aRequest = aNewRequest;

/** A clock tests move by hand (the testkit's `ManualClock` does the same; this keeps these tests standalone). */
export const handClock = (start = Date.UTC(2025, 5, 1)) => {
  let now = start;
  return { now: () => now, sleep: async () => {}, advance: (ms: number) => void (now += ms) };
};
