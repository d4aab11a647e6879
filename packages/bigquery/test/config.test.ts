/** Bad options fail at construction, before any request, with a message naming the field. */
import { describe, expect, it } from 'vitest';
import { BigQuery } from '@google-cloud/bigquery';
import { isoDate } from '@smart-backfill/core';
import { BigQueryAdapterError, bigQueryScheduleSource, bigQueryTargetTable, openBigQueryStore, renderDdl } from '@smart-backfill/bigquery';
import { startFake } from './harness.js';

const fake = await startFake();
const client = fake.client();

const fails = (f: () => unknown, message: RegExp): void => {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(BigQueryAdapterError);
  expect((caught as BigQueryAdapterError).code).toBe('invalid_config');
  expect((caught as Error).message).toMatch(/^\[smart-backfill\] \[bigquery\] /);
  expect((caught as Error).message).toMatch(message);
};

describe('identifiers follow BigQuery naming rules and are the only text spliced into SQL', () => {
  it.each([
    ['ds.t`; DROP TABLE x; --', /schedule\.table\.tableId must be a table name/],
    ['d-s.t', /schedule\.table\.datasetId must be a dataset name/],
    ['Bad_Project.ds.t', /schedule\.table\.projectId must be a BigQuery project id/],
    ['a.b.c.d', /schedule\.table must be "dataset\.table" or "project\.dataset\.table"/],
    ['t', /schedule\.table must be "dataset\.table"/],
  ])('table %j is refused', (table, message) => {
    fails(() => bigQueryScheduleSource({ client }, { table, dateColumn: 'game_date' }), message);
  });

  it.each([
    ['game date', 'dateColumn'],
    ['1st', 'dateColumn'],
    ['a`b', 'dateColumn'],
    ['x--', 'dateColumn'],
  ])('column %j is refused', (col) => {
    fails(() => bigQueryTargetTable({ client }, { table: 'ds.t', dateColumn: col }), /target\.dateColumn must be a column name/);
  });

  it('accepts what BigQuery accepts: unicode and spaces in table names, domain-scoped projects, pseudo-columns', async () => {
    fake.defineUserTable('test-project.ds.Spiel Tabelle-ü', { dateColumn: 'game_date' });
    fake.addUserRows('test-project.ds.Spiel Tabelle-ü', [{ game_date: '2025-03-01' }]);
    const t = bigQueryTargetTable({ client }, { table: 'ds.Spiel Tabelle-ü', dateColumn: 'game_date' });
    expect(
      Object.fromEntries(await t.recordCounts({ processorName: 'p', start: isoDate('2025-03-01'), end: isoDate('2025-03-01') })),
    ).toEqual({ '2025-03-01': 1 });
    expect(() =>
      bigQueryTargetTable(
        { client },
        { table: { projectId: 'example.com:my-proj', datasetId: 'ds', tableId: 't' }, dateColumn: 'c', partitionColumn: '_PARTITIONTIME' },
      ),
    ).not.toThrow();
    expect(renderDdl({ projectId: 'example.com:my-proj' })).toContain('`example.com:my-proj.smart_backfill.backfill_request_events`');
  });
});

describe('options are checked as a whole', () => {
  it('needs statuses with a status column, and a status column with statuses', () => {
    fails(
      () => bigQueryScheduleSource({ client }, { table: 'ds.t', dateColumn: 'd', statusColumn: 'game_status' }),
      /schedule\.statuses must list the accepted statuses/,
    );
    fails(
      () => bigQueryScheduleSource({ client }, { table: 'ds.t', dateColumn: 'd', statuses: ['Final'] }),
      /schedule\.statuses needs schedule\.statusColumn/,
    );
  });

  it('checks date column types and partition options', () => {
    fails(
      () => bigQueryTargetTable({ client }, { table: 'ds.t', dateColumn: 'd', dateColumnType: 'date' as never }),
      /target\.dateColumnType must be one of DATE, TIMESTAMP, DATETIME, got "date"/,
    );
    fails(
      () => bigQueryTargetTable({ client }, { table: 'ds.t', dateColumn: 'd', partitionLagDays: 2 }),
      /partitionLagDays needs a partitionColumn/,
    );
    fails(
      () =>
        bigQueryTargetTable(
          { client },
          { table: 'ds.t', dateColumn: 'd', partitionColumn: '_PARTITIONDATE', partitionColumnType: 'TIMESTAMP' },
        ),
      /partitionColumnType must be DATE for _PARTITIONDATE/,
    );
    fails(
      () => bigQueryTargetTable({ client }, { table: 'ds.t', dateColumn: 'd', partitionColumn: 'p', partitionLagDays: -1 }),
      /partitionLagDays must be a whole number 0–366/,
    );
  });

  it('checks the connection and tracking options', () => {
    fails(() => openBigQueryStore({ client: {} as never }), /client must be a BigQuery client/);
    fails(
      () => openBigQueryStore({ client: new BigQuery() }),
      /projectId is required: pass projectId, or a client built with new BigQuery\(\{ projectId \}\)/,
    );
    expect(openBigQueryStore({ client: new BigQuery(), projectId: 'other-project' }).tables.requests).toEqual({
      projectId: 'other-project',
      datasetId: 'smart_backfill',
      tableId: 'backfill_requests',
    });
    fails(
      () => openBigQueryStore({ client, maximumBytesBilled: -5 }),
      /maximumBytesBilled must be a positive whole number of bytes, got -5/,
    );
    fails(() => openBigQueryStore({ client, tracking: { dataset: 'my-dataset' } }), /tracking\.dataset must be a dataset name/);
    // Removed (a check reads in one job what its changes build on): said plainly, not ignored.
    fails(
      () => openBigQueryStore({ client, reuseWindowReadMs: 0 } as never),
      /reuseWindowReadMs is no longer an option: a guard check reads everything it needs in one query job; remove it/,
    );
    fails(() => openBigQueryStore({ client, tracking: { tables: { requets: 'x' } as never } }), /tracking\.tables has no entry "requets"/);
    fails(() => renderDdl({ projectId: 'p-1', location: "US'; --" }), /location must be a BigQuery location/);
    fails(() => renderDdl({ projectId: 'p-1', monitoringDays: 0 }), /monitoringDays must be a whole number of days/);
  });

  it('refuses calls after close', async () => {
    const store = openBigQueryStore({ client });
    await store.close();
    await store.close();
    await expect(store.tracker.get('x')).rejects.toThrow(/tracker\.get\(\) called after the store was closed/);
  });
});

describe('decoding what the client returns', () => {
  it('names the column when a value has the wrong shape', async () => {
    fake.defineUserTable('test-project.ds.weird', { dateColumn: 'game_date' });
    const store = openBigQueryStore({ client });
    fake.fail({
      match: (r) => r.path.endsWith('/queries'),
      status: 200,
      body: {
        kind: 'bigquery#queryResponse',
        jobComplete: true,
        jobReference: { projectId: 'test-project', jobId: 'w', location: 'US' },
        totalRows: '1',
        schema: {
          fields: [
            { name: 'd', type: 'STRING' },
            { name: 'n', type: 'INTEGER' },
          ],
        },
        rows: [{ f: [{ v: 'not a date' }, { v: '3' }] }],
      },
    });
    await expect(
      store
        .target({ table: 'ds.weird', dateColumn: 'game_date' })
        .recordCounts({ processorName: 'p', start: isoDate('2025-03-01'), end: isoDate('2025-03-01') }),
    ).rejects.toThrow(/column d returned "not a date", expected a DATE/);
  });
});
