/**
 * The shared port contracts on the BigQuery store, once for every fake it runs on: the
 * hand fake (statements recognised by marker) and the ZetaSQL-evaluated one. Each fake
 * describes a user table its own way (`UserTable`); the suites and their seeds are the same.
 */
import {
  testAlertLog,
  testCheckReader,
  testRequestTracker,
  testRunLog,
  testScheduleSource,
  testTargetTable,
} from '@smart-backfill/testkit';
import type { BigQueryStore } from '@smart-backfill/bigquery';
import type { Json, UserTableConfig } from './fake-bigquery-server.js';
import { freshDataset } from './harness.js';

/** A user table: its columns as DDL (ZetaSQL needs types), its roles (the hand fake answers by role), its pseudo-columns. */
export interface UserTable {
  readonly columns: string;
  readonly config: UserTableConfig;
  readonly pseudo?: readonly { readonly name: string; readonly type: string }[];
}

export interface ContractTarget {
  /** The port suites' name. */
  readonly name: string;
  /** A schedule or target suite's name, from what it covers. */
  readonly label: (what: string) => string;
  readonly skip?: string | false | undefined;
  readonly numRuns: number;
  /** Prefixes the datasets of user tables (`sched`, `target`). */
  readonly datasetPrefix: string;
  readonly store: () => Promise<BigQueryStore>;
  readonly createTable: (fullName: string, table: UserTable) => Promise<void>;
  readonly addUserRows: (fullName: string, rows: readonly Json[]) => void;
}

export const testBigQueryContracts = (t: ContractTarget): void => {
  const { name, skip } = t;
  testRequestTracker({ name, skip, numRuns: t.numRuns, create: async () => ({ tracker: (await t.store()).tracker }) });

  testRunLog({ name, skip, create: async () => ({ runLog: (await t.store()).runLog }) });

  testAlertLog({ name, skip, create: async () => ({ alertLog: (await t.store()).alertLog }) });

  testCheckReader({
    name: t.label('a whole check in one query job'),
    skip,
    create: async () => {
      const ds = freshDataset(`${t.datasetPrefix}check`);
      const s = await t.store();
      const schedule = `test-project.${ds}.schedule`;
      const summary = `test-project.${ds}.summary`;
      const table = { columns: '(game_date DATE, processor STRING)', config: { dateColumn: 'game_date', processorColumn: 'processor' } };
      await t.createTable(schedule, table);
      await t.createTable(summary, table);
      return {
        reader: s.window(
          { table: `${ds}.schedule`, dateColumn: 'game_date', processorColumn: 'processor' },
          { table: `${ds}.summary`, dateColumn: 'game_date', processorColumn: 'processor' },
        ),
        tracker: s.tracker,
        alertLog: s.alertLog,
        runLog: s.runLog,
        seedWindow: async ({ processorName, expected, counts }) => {
          t.addUserRows(
            schedule,
            expected.map((d) => ({ game_date: d, processor: processorName })),
          );
          for (const [d, n] of Object.entries(counts))
            t.addUserRows(
              summary,
              Array.from({ length: n }, () => ({ game_date: d, processor: processorName })),
            );
        },
      };
    },
  });

  testScheduleSource({
    name: t.label('DATE column, status filter, one table per processor'),
    skip,
    create: async () => {
      const ds = freshDataset(`${t.datasetPrefix}sched`);
      const s = await t.store();
      const table = `test-project.${ds}.game_schedule`;
      await t.createTable(table, {
        columns: '(game_date DATE, game_status STRING, processor STRING)',
        config: { dateColumn: 'game_date', statusColumn: 'game_status', processorColumn: 'processor' },
      });
      await t.createTable(`test-project.${ds}.summary`, {
        columns: '(game_date DATE, player_id INT64)',
        config: { dateColumn: 'game_date' },
      });
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
          t.addUserRows(
            table,
            expected.map((r) => ({ game_date: r.date, game_status: r.status ?? 'Final', processor: processorName })),
          );
        },
      };
    },
  });

  testTargetTable({
    name: t.label('TIMESTAMP column counted on its UTC date'),
    skip,
    create: async () => {
      const ds = freshDataset(`${t.datasetPrefix}target`);
      const s = await t.store();
      const table = `test-project.${ds}.player_game_summary`;
      await t.createTable(table, {
        columns: '(date_range_start TIMESTAMP, player_id INT64)',
        config: { dateColumn: 'date_range_start', dateColumnType: 'TIMESTAMP' },
      });
      return {
        target: s.target({ table: `${ds}.player_game_summary`, dateColumn: 'date_range_start', dateColumnType: 'TIMESTAMP' }),
        seed: async ({ counts }) => {
          for (const [d, n] of Object.entries(counts)) {
            // Spread over the day, last one a millisecond before midnight: the UTC date decides.
            t.addUserRows(
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
    name: t.label('DATE column, ingestion-time partitions, one table per processor'),
    skip,
    create: async () => {
      const ds = freshDataset(`${t.datasetPrefix}target`);
      const s = await t.store();
      const table = `test-project.${ds}.summary`;
      await t.createTable(table, {
        columns: '(game_date DATE, processor STRING)',
        config: { dateColumn: 'game_date', processorColumn: 'processor', partitionColumn: '_PARTITIONDATE' },
        pseudo: [
          { name: '_PARTITIONTIME', type: 'TIMESTAMP' },
          { name: '_PARTITIONDATE', type: 'DATE' },
        ],
      });
      return {
        target: s.target({
          table: `${ds}.summary`,
          dateColumn: 'game_date',
          processorColumn: 'processor',
          partitionColumn: '_PARTITIONDATE',
          partitionLagDays: 1,
        }),
        perProcessor: true,
        seed: async ({ processorName, counts }) => {
          for (const [d, n] of Object.entries(counts))
            t.addUserRows(
              table,
              Array.from({ length: n }, () => ({
                game_date: d,
                processor: processorName,
                _PARTITIONTIME: `${d}T00:00:00Z`,
                _PARTITIONDATE: d,
              })),
            );
        },
      };
    },
  });
};
