/**
 * One ZetaSQL server and one ZetaSQL-evaluated BigQuery fake per test file. Without the
 * server the file's suites skip with a visible SKIP line naming the install command,
 * unless SMART_BACKFILL_ZETASQL_REQUIRED=1 (CI), where a missing server is a failure.
 */
import { afterAll, expect } from 'vitest';
import { applyDdl, openBigQueryStore, type BigQueryStore, type BigQueryStoreOptions } from '@smart-backfill/bigquery';
import { netTrap } from '../harness.js';
import { findZetaSql, INSTALL_COMMAND, startZetaSql } from './server.js';
import { ZetaSqlBigQuery, type ZetaSqlBigQueryOptions } from './zetasql-bigquery.js';

/** `false` when the server is installed, else why not (and a SKIP line is printed). Throws when it is required. */
export const zetasqlSkip = (label: string): string | false => {
  const found = findZetaSql();
  if (!('skip' in found)) return false;
  if (process.env['SMART_BACKFILL_ZETASQL_REQUIRED'] === '1') throw new Error(`[${label}] required but unavailable: ${found.skip}`);
  const reason = `${found.skip}${found.skip.includes(INSTALL_COMMAND) ? '' : ` (install: ${INSTALL_COMMAND})`}`;
  console.log(`SKIP [${label}] ${reason}`);
  return reason;
};

/** Start the server and the fake; both stop after the file, which then asserts nothing left loopback. */
export const startZetaSqlFake = async (options: ZetaSqlBigQueryOptions = {}): Promise<ZetaSqlBigQuery> => {
  const found = findZetaSql();
  if ('skip' in found) throw new Error(found.skip);
  const server = await startZetaSql(found);
  const fake = await new ZetaSqlBigQuery(server, options).start();
  afterAll(async () => {
    await fake.stop();
    await server.stop();
    expect(netTrap()).toEqual([]);
  });
  return fake;
};

/** A store over a tracking dataset that `init --bigquery`'s DDL has created in the fake (BigQuery has no implicit tables). */
export const storeWithDdl = async (
  fake: ZetaSqlBigQuery,
  dataset: string,
  options: Omit<BigQueryStoreOptions, 'client' | 'tracking'> = {},
): Promise<BigQueryStore> => {
  await applyDdl({ client: fake.client(), tracking: { dataset } });
  return openBigQueryStore({ client: fake.client(), tracking: { dataset }, ...options });
};
