/**
 * Against real BigQuery, only when asked: set SMART_BACKFILL_BIGQUERY_PROJECT and
 * credentials (GOOGLE_APPLICATION_CREDENTIALS or gcloud ADC). Creates a temporary
 * dataset, applies the DDL, runs the contract suites, and drops the dataset.
 * This is what the offline tests cannot prove: BigQuery's own SQL semantics
 * (QUALIFY, pruning, JSON, streaming visibility) for our statements.
 *
 * Costs: a few hundred small queries (each billed at the 10 MB minimum) and streaming inserts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQuery } from '@google-cloud/bigquery';
import { isoDate } from '@smart-backfill/core';
import { testAlertLog, testRequestTracker, testRunLog, testScheduleSource, testTargetTable } from '@smart-backfill/testkit';
import { applyDdl, openBigQueryStore } from '@smart-backfill/bigquery';

const project = process.env['SMART_BACKFILL_BIGQUERY_PROJECT'];
const hasCredentials = process.env['GOOGLE_APPLICATION_CREDENTIALS'] !== undefined || process.env['SMART_BACKFILL_BIGQUERY_ADC'] === '1';
const skip =
  project === undefined
    ? 'set SMART_BACKFILL_BIGQUERY_PROJECT (and GOOGLE_APPLICATION_CREDENTIALS, or SMART_BACKFILL_BIGQUERY_ADC=1 for gcloud credentials) to run against real BigQuery'
    : !hasCredentials
      ? 'no credentials: set GOOGLE_APPLICATION_CREDENTIALS, or SMART_BACKFILL_BIGQUERY_ADC=1 to use gcloud application-default credentials'
      : false;
if (skip !== false) console.log(`SKIP [bigquery live] ${skip}`);

const location = process.env['SMART_BACKFILL_BIGQUERY_LOCATION'] ?? 'US';
const dataset = `smart_backfill_test_${Date.now()}_${process.pid}`;
// Only constructed when the suites run, so an offline run never creates a client.
let clientInstance: BigQuery | undefined;
const client = (): BigQuery => (clientInstance ??= new BigQuery({ projectId: project!, location }));
let n = 0;

// File-level hooks: the dataset must outlive every suite below, not just the first describe.
if (skip === false) {
  beforeAll(async () => {
    await applyDdl({ client: client(), location, tracking: { dataset } });
    for (const t of ['game_schedule', 'player_game_summary']) {
      await client().query({
        query:
          t === 'game_schedule'
            ? `CREATE TABLE \`${project}.${dataset}.game_schedule\` (game_date DATE, game_status STRING, processor STRING) PARTITION BY game_date`
            : `CREATE TABLE \`${project}.${dataset}.player_game_summary\` (date_range_start TIMESTAMP, processor STRING) PARTITION BY DATE(date_range_start)`,
        location,
      });
    }
  }, 300_000);
  afterAll(async () => {
    await client().dataset(dataset).delete({ force: true });
  }, 300_000);
}

describe.skipIf(skip !== false)('bigquery live: views', () => {
  it('the latest-state views and monitoring views answer', async () => {
    const store = openBigQueryStore({ client: client(), location, tracking: { dataset } });
    await store.tracker.create([
      {
        requestId: 'live-1',
        processorName: 'p',
        date: isoDate('2025-03-01'),
        requestType: 'auto',
        priority: 'normal',
        requestedAt: Date.now(),
        requestedBy: 'live-test',
        triggerReason: 'auto_backfill',
        metadata: {},
      },
    ]);
    const [rows] = await client().query({
      query: `SELECT request_id, status FROM \`${project}.${dataset}.backfill_requests\` WHERE game_date = @d`,
      params: { d: client().date('2025-03-01') },
      location,
    });
    expect(rows).toEqual([{ request_id: 'live-1', status: 'queued' }]);
    for (const v of ['gap_detection_frequency', 'backfill_success_rate', 'time_to_recovery']) {
      await client().query({ query: `SELECT * FROM \`${project}.${dataset}.${v}\``, location });
    }
  });
});

// Each subject gets its own tracking tables in the one dataset (table names carry a counter).
const freshTables = async () => {
  const suffix = `_${++n}`;
  const tables = {
    requestEvents: `backfill_request_events${suffix}`,
    requests: `backfill_requests${suffix}`,
    runs: `analytics_processor_runs${suffix}`,
    heldRunEvents: `held_run_events${suffix}`,
    heldRuns: `held_runs${suffix}`,
    alertEvents: `alert_events${suffix}`,
    alerts: `alerts${suffix}`,
    gapDetectionFrequency: `gdf${suffix}`,
    backfillSuccessRate: `bsr${suffix}`,
    timeToRecovery: `ttr${suffix}`,
  };
  await applyDdl({ client: client(), location, tracking: { dataset, tables } });
  return openBigQueryStore({ client: client(), location, tracking: { dataset, tables } });
};

const liveSkip = skip === false ? undefined : skip;
testRequestTracker({ name: 'bigquery live', skip: liveSkip, numRuns: 2, create: async () => ({ tracker: (await freshTables()).tracker }) });
testRunLog({ name: 'bigquery live', skip: liveSkip, create: async () => ({ runLog: (await freshTables()).runLog }) });
testAlertLog({ name: 'bigquery live', skip: liveSkip, create: async () => ({ alertLog: (await freshTables()).alertLog }) });
testScheduleSource({
  name: 'bigquery live',
  skip: liveSkip,
  create: async () => {
    // Subjects share one schedule table: processor names are namespaced per subject.
    const proc = `sched_${++n}`;
    const store = openBigQueryStore({ client: client(), location, tracking: { dataset } });
    const inner = store.schedule({
      table: `${dataset}.game_schedule`,
      dateColumn: 'game_date',
      statusColumn: 'game_status',
      statuses: ['Final', 'Completed'],
      processorColumn: 'processor',
    });
    return {
      schedule: { expectedDates: (q) => inner.expectedDates({ ...q, processorName: `${proc}:${q.processorName}` }) },
      statuses: { accepted: ['Final', 'Completed'], rejected: ['Scheduled'] },
      perProcessor: true,
      seed: async ({ processorName, expected }) => {
        await client()
          .dataset(dataset)
          .table('game_schedule')
          .insert(expected.map((r) => ({ game_date: r.date, game_status: r.status ?? 'Final', processor: `${proc}:${processorName}` })));
      },
    };
  },
});
testTargetTable({
  name: 'bigquery live',
  skip: liveSkip,
  create: async () => {
    const proc = `target_${++n}`;
    const store = openBigQueryStore({ client: client(), location, tracking: { dataset } });
    const target = store.target({
      table: `${dataset}.player_game_summary`,
      dateColumn: 'date_range_start',
      dateColumnType: 'TIMESTAMP',
      processorColumn: 'processor',
    });
    return {
      target: { recordCounts: (q) => target.recordCounts({ ...q, processorName: `${proc}:${q.processorName}` }) },
      perProcessor: true,
      seed: async ({ processorName, counts }) => {
        const rows = Object.entries(counts).flatMap(([d, k]) =>
          Array.from({ length: k }, (_, i) => ({
            date_range_start: new Date(Date.parse(`${d}T00:00:00Z`) + i * 1000).toISOString(),
            processor: `${proc}:${processorName}`,
          })),
        );
        if (rows.length > 0) await client().dataset(dataset).table('player_game_summary').insert(rows);
      },
    };
  },
});
