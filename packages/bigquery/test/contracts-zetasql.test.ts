/**
 * The shared port contracts on the BigQuery store, with every query job evaluated by
 * ZetaSQL (BigQuery's SQL semantics, open source) instead of recognised by hand: the
 * adapter's real SQL runs over the rows insertAll stored. The tracking dataset is
 * created by `init --bigquery`'s DDL, run through the same fake.
 *
 * Needs the ZetaSQL server (`scripts/zetasql-install.sh`); without it: a visible SKIP.
 */
import { testAlertLog, testRequestTracker, testRunLog, testScheduleSource, testTargetTable } from '@smart-backfill/testkit';
import { freshDataset } from './harness.js';
import { startZetaSqlFake, storeWithDdl, zetasqlSkip } from './zetasql/harness.js';

const skip = zetasqlSkip('bigquery zetasql contracts');
const fake = skip === false ? await startZetaSqlFake() : undefined;
const name = 'bigquery (real client + ZetaSQL-evaluated fake)';
const store = () => storeWithDdl(fake!, freshDataset('zc'));

testRequestTracker({ name, skip, numRuns: 4, create: async () => ({ tracker: (await store()).tracker }) });

testRunLog({ name, skip, create: async () => ({ runLog: (await store()).runLog }) });

testAlertLog({ name, skip, create: async () => ({ alertLog: (await store()).alertLog }) });

testScheduleSource({
  name: `${name}: DATE column, status filter, one table per processor`,
  skip,
  create: async () => {
    const ds = freshDataset('zsched');
    const s = await store();
    const table = `test-project.${ds}.game_schedule`;
    await fake!.createTable(table, '(game_date DATE, game_status STRING, processor STRING)');
    await fake!.createTable(`test-project.${ds}.summary`, '(game_date DATE, player_id INT64)');
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
        fake!.addUserRows(
          table,
          expected.map((r) => ({ game_date: r.date, game_status: r.status ?? 'Final', processor: processorName })),
        );
      },
    };
  },
});

testTargetTable({
  name: `${name}: TIMESTAMP column counted on its UTC date`,
  skip,
  create: async () => {
    const ds = freshDataset('ztarget');
    const s = await store();
    const table = `test-project.${ds}.player_game_summary`;
    await fake!.createTable(table, '(date_range_start TIMESTAMP, player_id INT64)');
    return {
      target: s.target({ table: `${ds}.player_game_summary`, dateColumn: 'date_range_start', dateColumnType: 'TIMESTAMP' }),
      seed: async ({ counts }) => {
        for (const [d, n] of Object.entries(counts)) {
          // Spread over the day, last one a millisecond before midnight: the UTC date decides.
          fake!.addUserRows(
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
  name: `${name}: DATE column, ingestion-time partitions, one table per processor`,
  skip,
  create: async () => {
    const ds = freshDataset('ztarget');
    const s = await store();
    const table = `test-project.${ds}.summary`;
    await fake!.createTable(table, '(game_date DATE, processor STRING)', [
      { name: '_PARTITIONTIME', type: 'TIMESTAMP' },
      { name: '_PARTITIONDATE', type: 'DATE' },
    ]);
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
          fake!.addUserRows(
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
