/**
 * The monitoring views `init --bigquery` creates, evaluated by ZetaSQL over rows the
 * adapters wrote: one row per key, as the adapter's own reads keep. A run record
 * streamed twice (a retried insertAll that outlived BigQuery's best-effort insertId
 * de-duplication) counts once in `gap_detection_frequency` and weighs once in
 * `time_to_recovery`.
 *
 * Needs the ZetaSQL server (`scripts/zetasql-install.sh`); without it: a visible SKIP.
 */
import { describe, expect, it } from 'vitest';
import { isoDate, type IsoDate, type RunRecord } from '@smart-backfill/core';
import { ManualClock } from '@smart-backfill/testkit';
import type { BigQueryStore } from '@smart-backfill/bigquery';
import { freshDataset } from './harness.js';
import { startZetaSqlFake, storeWithDdl, zetasqlSkip } from './zetasql/harness.js';

const skip = zetasqlSkip('bigquery zetasql views');
const T0 = Date.UTC(2025, 10, 20, 8);
const MIN = 60_000;
const clock = new ManualClock(T0);
const fake = skip === false ? await startZetaSqlFake({ now: () => clock.now() }) : undefined;
const P = 'orders_daily';

const detection = (runId: string, at: number, missing: readonly IsoDate[]): RunRecord => ({
  runId,
  processorName: P,
  runDate: isoDate('2025-11-20'),
  trigger: 'scheduled',
  isBackfill: false,
  outcome: 'skipped',
  skipReason: 'backfill_queued',
  errorMessage: null,
  startedAt: at,
  finishedAt: at + 1_000,
  durationMs: 1_000,
  metadata: { gap_size: missing.length, missing_dates: missing, decision: 'backfill' },
});

/** A backfill of `date` requested at `at` and completed `afterMin` minutes later. */
const backfilled = async (store: BigQueryStore, id: string, date: IsoDate, at: number, afterMin: number): Promise<void> => {
  await store.tracker.create([
    {
      requestId: id,
      processorName: P,
      date,
      requestType: 'auto',
      priority: 'high',
      requestedAt: at,
      requestedBy: 'smart_backfill_detection',
      triggerReason: 'auto_backfill',
      metadata: {},
    },
  ]);
  await store.tracker.apply(id, { _tag: 'Claim', at: at + MIN, owner: 'w', leaseMs: 3_600_000 });
  await store.tracker.apply(id, { _tag: 'Complete', at: at + afterMin * MIN, attempt: 1 });
};

const view = async (store: BigQueryStore, name: 'gapDetectionFrequency' | 'timeToRecovery'): Promise<Record<string, unknown>[]> => {
  const t = store.tables[name];
  const [rows] = await fake!.client().query({ query: `SELECT * FROM \`${t.projectId}.${t.datasetId}.${t.tableId}\`` });
  return (rows as Record<string, unknown>[]).map((r) => ({
    ...r,
    date: (r['date'] as { value?: string } | undefined)?.value ?? r['date'],
  }));
};

describe.skipIf(skip !== false)('monitoring views keep one row per key (ZetaSQL-evaluated)', () => {
  it('a run record streamed twice counts once in gap_detection_frequency and time_to_recovery', async () => {
    const store = await storeWithDdl(fake!, freshDataset('zviews'));
    // Two detections on one day: gap A (two dates, recovered in 10 min) and gap B (one date, 40 min).
    const a = detection('run-a', T0, [isoDate('2025-11-15'), isoDate('2025-11-16')]);
    const b = detection('run-b', T0 + 5 * MIN, [isoDate('2025-11-17')]);
    await store.runLog.append(a);
    await store.runLog.append(b);
    await backfilled(store, 'req-a', isoDate('2025-11-15'), T0, 10);
    await backfilled(store, 'req-b', isoDate('2025-11-17'), T0 + 5 * MIN, 40);
    clock.advance(3_600_000);

    const clean = { gap: await view(store, 'gapDetectionFrequency'), ttr: await view(store, 'timeToRecovery') };
    expect(clean.gap).toEqual([{ date: '2025-11-20', processor_name: P, gap_detections: 2, total_missing_dates: 3 }]);
    expect(clean.ttr).toMatchObject([{ processor_name: P, avg_recovery_time_min: 25 }]);

    // The same record again, as a retried insertAll that BigQuery's best-effort de-duplication missed.
    fake!.dedupeInsertIds = false;
    try {
      await store.runLog.append(a);
    } finally {
      fake!.dedupeInsertIds = true;
    }
    const runsTable = `${store.tables.runs.projectId}.${store.tables.runs.datasetId}.${store.tables.runs.tableId}`;
    expect(fake!.rows(runsTable).filter((r) => r['run_id'] === 'run-a')).toHaveLength(2);
    // The adapter's own read keeps one row per run_id...
    expect((await store.runLog.runs({ processorName: P })).map((r) => r.runId).sort()).toEqual(['run-a', 'run-b']);
    // ...and so do the views.
    expect(await view(store, 'timeToRecovery')).toEqual(clean.ttr);
    expect(await view(store, 'gapDetectionFrequency')).toEqual(clean.gap);
  });
});
