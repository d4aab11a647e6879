/**
 * Step 10 of docs/adapters.md: passing the suites is the checklist; plugging in is the proof.
 * The JSON-lines tracker and target table stand in for memory's in a real guard and worker.
 */
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { dateRange, isoDate, type IsoDate } from '@smart-backfill/core';
import { createWorker, processorRegistry, withSmartBackfill } from '@smart-backfill/engine';
import { createMemoryStore } from '@smart-backfill/memory';
import { ManualClock } from '@smart-backfill/testkit';
import { jsonlRequestTracker, jsonlTargetTable } from '../src/index.js';

const P = 'orders_daily';
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const rowsFor = (date: IsoDate, n: number): string => `${JSON.stringify({ processor: P, date })}\n`.repeat(n);

it('holds a run on a gap in the file, backfills it through the jsonl tracker, and resumes the held run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sb-jsonl-wiring-'));
  dirs.push(dir);
  const rows = join(dir, 'orders_daily.jsonl');
  const clock = new ManualClock(Date.UTC(2025, 4, 10, 6));
  const days = dateRange(isoDate('2025-05-01'), isoDate('2025-05-09'));
  const mem = createMemoryStore({ clock });
  mem.setSchedule(P, days);
  for (const d of days) if (d !== '2025-05-05') await appendFile(rows, rowsFor(d, 3));

  const tracker = jsonlRequestTracker({ path: join(dir, 'requests.jsonl'), clock });
  const target = jsonlTargetTable({ path: rows, processorField: 'processor' });
  // The user's job: it writes the date's rows into the file the target table counts.
  const job = { name: P, run: async ({ date }: { readonly date: IsoDate }) => appendFile(rows, rowsFor(date, 3)) };
  const guarded = withSmartBackfill(job, {
    window: { schedule: mem.schedule, target },
    tracker,
    queue: mem.queue,
    runLog: mem.runLog,
    clock,
    policy: { lookbackDays: 10, minRecordsPerDate: 3 },
  });

  const check = await guarded.run({ date: isoDate('2025-05-10') });
  expect(check._tag).toBe('Held');
  expect((await tracker.list({ processorName: P })).map((r) => [r.date, r.status])).toEqual([['2025-05-05', 'queued']]);

  const worker = createWorker({ queue: mem.queue, tracker, runLog: mem.runLog, registry: processorRegistry([guarded]), clock });
  const tick = await worker.runOnce();
  expect(tick.outcomes.map((o) => o._tag)).toEqual(['Completed']);
  expect((await tracker.list({ processorName: P })).map((r) => [r.date, r.status])).toEqual([['2025-05-05', 'completed']]);
  expect((await mem.runLog.heldRuns({ processorName: P })).map((h) => [h.runDate, h.status])).toEqual([['2025-05-10', 'resumed']]);
});
