/** Small helpers shared by the reliability tests (fixtures only; the subjects come from @smart-backfill/*). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDays, isoDate, type IsoDate, type NewBackfillRequest } from '@smart-backfill/core';
import { aNewRequest } from '@smart-backfill/testkit';

export const tempDir = (prefix = 'sb-rel-'): { dir: string; file: (name: string) => string; done: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, file: (name) => join(dir, name), done: () => rmSync(dir, { recursive: true, force: true }) };
};

export const aRequest = (requestId: string, processorName: string, date: IsoDate | string, requestedAt: number): NewBackfillRequest =>
  aNewRequest(requestId, processorName, typeof date === 'string' ? isoDate(date) : date, requestedAt, { metadata: {} });

/** `n` requests for one processor on consecutive dates from `start`. */
export const requests = (n: number, processorName: string, at: number, start = '2024-01-01', prefix = 'req'): NewBackfillRequest[] =>
  Array.from({ length: n }, (_, i) => aRequest(`${prefix}-${i}`, processorName, addDays(isoDate(start), i), at));
