/**
 * Step 8 of docs/adapters.md: the contract suite of each port this adapter implements,
 * one call per port, then the few things only this adapter has (its file format).
 */
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { isoDate, isSmartBackfillError, type BackfillRequest } from '@smart-backfill/core';
import { ManualClock, aNewRequest, testRequestTracker, testTargetTable } from '@smart-backfill/testkit';
import { jsonlRequestTracker, jsonlTargetTable } from '../src/index.js';

/** A fresh directory per subject, removed by the suite's cleanup. */
const tempFile = async (name: string) => {
  const dir = await mkdtemp(join(tmpdir(), 'sb-jsonl-'));
  return { path: join(dir, name), cleanup: () => rm(dir, { recursive: true, force: true }) };
};

/** The backdoor: what the file really holds for an id (its last line), read without the adapter. */
const lastLineOf = async (path: string, requestId: string): Promise<BackfillRequest | undefined> => {
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
  const mine = lines.map((l) => JSON.parse(l) as { request: BackfillRequest }).filter((l) => l.request.requestId === requestId);
  return mine.at(-1)?.request;
};

testRequestTracker({
  name: 'jsonl',
  create: async ({ clock }) => {
    const { path, cleanup } = await tempFile('requests.jsonl');
    return { tracker: jsonlRequestTracker({ path, clock }), backdoor: { readRequest: (id) => lastLineOf(path, id) }, cleanup };
  },
  // Every call re-reads the file: fewer model runs keep this example's test quick.
  numRuns: 15,
});

testTargetTable({
  name: 'jsonl',
  create: async () => {
    const { path, cleanup } = await tempFile('rows.jsonl');
    const rows = (processorName: string, counts: Readonly<Record<string, number>>): string =>
      Object.entries(counts)
        .flatMap(([date, n]) => Array.from({ length: n }, () => `${JSON.stringify({ processor: processorName, date })}\n`))
        .join('');
    return {
      target: jsonlTargetTable({ path, processorField: 'processor' }),
      perProcessor: true,
      seed: async ({ processorName, counts }) => appendFile(path, rows(processorName, counts)),
      cleanup,
    };
  },
});

const P = 'orders_daily';
const window = { processorName: P, start: isoDate('2025-05-01'), end: isoDate('2025-05-31') };

it('jsonl tracker: a last line without its newline is a write in progress, not a record', async () => {
  const { path, cleanup } = await tempFile('requests.jsonl');
  try {
    const tracker = jsonlRequestTracker({ path, clock: new ManualClock(0) });
    await tracker.create([aNewRequest('kept', P, '2025-05-01', 0)]);
    await appendFile(path, '{"revision":1,"writtenAt":0,"request":{"requestId":"cut');
    expect((await tracker.forWindow(window)).map((r) => r.requestId)).toEqual(['kept']);
  } finally {
    await cleanup();
  }
});

it('jsonl tracker: a complete line that is not JSON is corrupt, named by file and line, and nothing is written', async () => {
  const { path, cleanup } = await tempFile('requests.jsonl');
  try {
    const tracker = jsonlRequestTracker({ path, clock: new ManualClock(0) });
    await tracker.create([aNewRequest('kept', P, '2025-05-01', 0)]);
    await appendFile(path, 'not json\n');
    const before = await readFile(path, 'utf8');
    const e: unknown = await tracker.create([aNewRequest('new', P, '2025-05-02', 0)]).catch((x: unknown) => x);
    expect(isSmartBackfillError(e, 'corrupt')).toBe(true);
    expect((e as Error).message).toBe(`[smart-backfill] [jsonl] ${path}:2 is not a JSON line; nothing was changed`);
    expect(await readFile(path, 'utf8')).toBe(before);
  } finally {
    await cleanup();
  }
});

it('jsonl target: a row whose date is not a date is a data error (query_failed) naming the field and line', async () => {
  const { path, cleanup } = await tempFile('rows.jsonl');
  try {
    await appendFile(
      path,
      `${JSON.stringify({ processor: P, date: '2025-05-01' })}\n${JSON.stringify({ processor: P, date: '5/2/2025' })}\n`,
    );
    const e: unknown = await jsonlTargetTable({ path, processorField: 'processor' })
      .recordCounts(window)
      .catch((x: unknown) => x);
    expect(isSmartBackfillError(e, 'query_failed')).toBe(true);
    expect((e as Error).message).toContain(`${path}:2: date:`);
  } finally {
    await cleanup();
  }
});
