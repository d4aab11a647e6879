/**
 * What `status` and `report` read for a run held for its inputs, on the BigQuery store with
 * every query evaluated by ZetaSQL: the held run (waiting for no date of its own), and among
 * the runs since it was held, the record naming the upstream gap that holds it.
 *
 * Needs the ZetaSQL server (`scripts/zetasql-install.sh`); without it: a visible SKIP.
 */
import { describe, expect, it } from 'vitest';
import { addDays, DEFAULT_POLICY, heldRunUpstreamGaps, isoDate, type IsoDate, type WindowReader } from '@smart-backfill/core';
import { withSmartBackfill } from '@smart-backfill/engine';
import { memoryBackfillQueue } from '@smart-backfill/memory';
import { ManualClock } from '@smart-backfill/testkit';
import { freshDataset } from './harness.js';
import { startZetaSqlFake, storeWithDdl, zetasqlSkip } from './zetasql/harness.js';

const skip = zetasqlSkip('bigquery zetasql pipeline status');
const clock = new ManualClock(Date.UTC(2025, 10, 20, 8));
const fake = skip === false ? await startZetaSqlFake({ now: () => clock.now() }) : undefined;
const runDate = isoDate('2025-11-20');
const days: IsoDate[] = Array.from({ length: 30 }, (_, i) => addDays(runDate, -29 + i));

describe.skipIf(skip !== false)('a run held for its inputs, read back from BigQuery (ZetaSQL)', () => {
  it('names the upstream processor and date that hold it', async () => {
    const ds = freshDataset('zpipe');
    await fake!.createTable(`test-project.${ds}.calendar`, '(day DATE, state STRING)');
    fake!.addUserRows(
      `test-project.${ds}.calendar`,
      days.map((d) => ({ day: d, state: 'open' })),
    );
    for (const t of ['raw_orders', 'order_lines']) {
      await fake!.createTable(`test-project.${ds}.${t}`, '(day DATE, n INT64)');
      // raw_orders lost the run date's rows.
      fake!.addUserRows(
        `test-project.${ds}.${t}`,
        days.filter((d) => !(t === 'raw_orders' && d === runDate)).map((d) => ({ day: d, n: 1 })),
      );
    }
    const store = await storeWithDdl(fake!, freshDataset('zpipe_ops'));
    const schedule = { table: `${ds}.calendar`, dateColumn: 'day', statusColumn: 'state', statuses: ['open'] };
    const raw = store.window(schedule, { table: `${ds}.raw_orders`, dateColumn: 'day' });
    // The upstream check takes a while, as a warehouse query does.
    const slowRaw: WindowReader = {
      readWindow: async (q) => {
        clock.advance(3_000);
        return raw.readWindow(q);
      },
    };
    const policy = { ...DEFAULT_POLICY, minRecordsPerDate: 1 };
    const guarded = withSmartBackfill(
      { name: 'order_lines', run: async () => undefined },
      {
        window: store.window(schedule, { table: `${ds}.order_lines`, dateColumn: 'day' }),
        policy,
        tracker: store.tracker,
        queue: memoryBackfillQueue({ clock }),
        runLog: store.runLog,
        clock,
        upstream: [{ processor: 'raw_orders', lookbackDays: 0, window: slowRaw, policy }],
      },
    );
    expect(await guarded.run({ date: runDate })).toMatchObject({ _tag: 'Held' });
    clock.advance(60_000);

    // status's reads: the held runs, then the runs since the oldest was held.
    const held = await store.runLog.heldRuns({ processorName: 'order_lines', status: 'held' });
    expect(held.map((h) => [h.runDate, h.waitingFor])).toEqual([[runDate, []]]);
    const since = await store.runLog.runs({ processorName: 'order_lines', since: held[0]!.heldAt });
    expect(heldRunUpstreamGaps(held[0]!, since)).toEqual([
      { processor: 'raw_orders', missing: [runDate], queued: [runDate], inFlight: [], escalated: [] },
    ]);
  }, 120_000);
});
