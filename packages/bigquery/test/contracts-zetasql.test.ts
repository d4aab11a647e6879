/**
 * The shared port contracts on the BigQuery store, with every query job evaluated by
 * ZetaSQL (BigQuery's SQL semantics, open source) instead of recognised by hand: the
 * adapter's real SQL runs over the rows insertAll stored. The tracking dataset is
 * created by `init --bigquery`'s DDL, run through the same fake.
 *
 * Needs the ZetaSQL server (`scripts/zetasql-install.sh`); without it: a visible SKIP.
 */
import { testBigQueryContracts } from './contract-suites.js';
import { freshDataset } from './harness.js';
import { startZetaSqlFake, storeWithDdl, zetasqlSkip } from './zetasql/harness.js';

const skip = zetasqlSkip('bigquery zetasql contracts');
const fake = skip === false ? await startZetaSqlFake() : undefined;
const name = 'bigquery (real client + ZetaSQL-evaluated fake)';

testBigQueryContracts({
  name,
  label: (what) => `${name}: ${what}`,
  skip,
  numRuns: 4,
  datasetPrefix: 'z',
  store: () => storeWithDdl(fake!, freshDataset('zc')),
  createTable: (fullName, table) => fake!.createTable(fullName, table.columns, table.pseudo),
  addUserRows: (fullName, rows) => fake!.addUserRows(fullName, rows),
});
