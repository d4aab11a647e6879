/**
 * The shared port contracts, run against the real @google-cloud/bigquery client
 * talking to the local fake (test/fake-bigquery-server.ts). What this proves: our
 * requests, parameters, decoding and the event-table logic behave as every other
 * store does. What it cannot prove: BigQuery's own SQL semantics (the live tests do).
 */
import { openBigQueryStore } from '@smart-backfill/bigquery';
import { testBigQueryContracts } from './contract-suites.js';
import { freshDataset, startFake } from './harness.js';

const fake = await startFake();

testBigQueryContracts({
  name: 'bigquery (real client + local fake)',
  label: (what) => `bigquery: ${what} (local fake)`,
  numRuns: 6,
  datasetPrefix: '',
  store: async () => openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset() } }),
  createTable: async (fullName, table) => fake.defineUserTable(fullName, table.config),
  addUserRows: (fullName, rows) => fake.addUserRows(fullName, rows),
});
