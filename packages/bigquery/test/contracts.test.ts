/**
 * The shared port contracts, run against the real @google-cloud/bigquery client
 * talking to the local fake (test/fake-bigquery-server.ts). What this proves: our
 * requests, parameters, decoding and the event-table logic behave as every other
 * store does. What it cannot prove: BigQuery's own SQL semantics (the live tests do).
 */
import {
  testAlertLog,
  testCheckReader,
  testRequestTracker,
  testRunLog,
  testScheduleSource,
  testTargetTable,
} from '@smart-backfill/testkit';
import { openBigQueryStore } from '@smart-backfill/bigquery';
import { freshDataset, startFake } from './harness.js';

const fake = await startFake();

const store = () => openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset() } });

testRequestTracker({ name: 'bigquery (real client + local fake)', numRuns: 6, create: async () => ({ tracker: store().tracker }) });

testRunLog({ name: 'bigquery (real client + local fake)', create: async () => ({ runLog: store().runLog }) });

testAlertLog({ name: 'bigquery (real client + local fake)', create: async () => ({ alertLog: store().alertLog }) });

testScheduleSource({
  name: 'bigquery: DATE column, status filter, one table per processor (local fake)',
  create: async () => {
    const ds = freshDataset('sched');
    const table = `test-project.${ds}.game_schedule`;
    fake.defineUserTable(table, { dateColumn: 'game_date', statusColumn: 'game_status', processorColumn: 'processor' });
    fake.defineUserTable(`test-project.${ds}.summary`, { dateColumn: 'game_date' });
    const s = store();
    const options = {
      table: `${ds}.game_schedule`,
      dateColumn: 'game_date',
      statusColumn: 'game_status',
      statuses: ['Final', 'Completed'],
      processorColumn: 'processor',
    };
    return {
      schedule: s.schedule(options),
      window: s.window(options, { table: `${ds}.summary`, dateColumn: 'game_date' }),
      statuses: { accepted: ['Final', 'Completed'], rejected: ['Scheduled', 'Postponed'] },
      perProcessor: true,
      seed: async ({ processorName, expected }) => {
        fake.addUserRows(
          table,
          expected.map((r) => ({ game_date: r.date, game_status: r.status ?? 'Final', processor: processorName })),
        );
      },
    };
  },
});

testTargetTable({
  name: 'bigquery: TIMESTAMP column counted on its UTC date (local fake)',
  create: async () => {
    const ds = freshDataset('target');
    const table = `test-project.${ds}.player_game_summary`;
    fake.defineUserTable(table, { dateColumn: 'date_range_start', dateColumnType: 'TIMESTAMP' });
    return {
      target: store().target({ table: `${ds}.player_game_summary`, dateColumn: 'date_range_start', dateColumnType: 'TIMESTAMP' }),
      seed: async ({ counts }) => {
        for (const [d, n] of Object.entries(counts)) {
          // Spread over the day, last one a millisecond before midnight: the UTC date decides.
          fake.addUserRows(
            table,
            Array.from({ length: n }, (_, i) => ({
              date_range_start: new Date(Date.parse(`${d}T00:00:00Z`) + Math.floor((i / Math.max(1, n - 1)) * 86_399_999)).toISOString(),
            })),
          );
        }
      },
    };
  },
});

testTargetTable({
  name: 'bigquery: DATE column, ingestion-time partitions, one table per processor (local fake)',
  create: async () => {
    const ds = freshDataset('target');
    const table = `test-project.${ds}.summary`;
    fake.defineUserTable(table, { dateColumn: 'game_date', processorColumn: 'processor', partitionColumn: '_PARTITIONDATE' });
    return {
      target: store().target({
        table: `${ds}.summary`,
        dateColumn: 'game_date',
        processorColumn: 'processor',
        partitionColumn: '_PARTITIONDATE',
        partitionLagDays: 1,
      }),
      perProcessor: true,
      seed: async ({ processorName, counts }) => {
        for (const [d, n] of Object.entries(counts)) {
          fake.addUserRows(
            table,
            Array.from({ length: n }, () => ({ game_date: d, processor: processorName, _PARTITIONDATE: d })),
          );
        }
      },
    };
  },
});

testCheckReader({
  name: 'bigquery: one query job (real client + local fake)',
  create: async () => {
    const ds = freshDataset('check');
    fake.defineUserTable(`test-project.${ds}.schedule`, { dateColumn: 'game_date', processorColumn: 'processor' });
    fake.defineUserTable(`test-project.${ds}.summary`, { dateColumn: 'game_date', processorColumn: 'processor' });
    const s = store();
    return {
      reader: s.window(
        { table: `${ds}.schedule`, dateColumn: 'game_date', processorColumn: 'processor' },
        { table: `${ds}.summary`, dateColumn: 'game_date', processorColumn: 'processor' },
      ),
      tracker: s.tracker,
      alertLog: s.alertLog,
      runLog: s.runLog,
      seedWindow: async ({ processorName, expected, counts }) => {
        fake.addUserRows(
          `test-project.${ds}.schedule`,
          expected.map((d) => ({ game_date: d, processor: processorName })),
        );
        for (const [d, n] of Object.entries(counts))
          fake.addUserRows(
            `test-project.${ds}.summary`,
            Array.from({ length: n }, () => ({ game_date: d, processor: processorName })),
          );
      },
    };
  },
});
