import type { BigQuery } from '@google-cloud/bigquery';
import { clientOf } from './default-client.js';
import { connect, runQuery, type BigQueryConnectionOptions } from './client.js';
import { configError } from './errors.js';
import { quoteTable, validateProject, type TableRef } from './identifiers.js';
import { ALERT_EVENTS, HELD_RUN_EVENTS, LATEST_ORDER, REQUEST_EVENTS, RUNS, type TableDef } from './schema.js';
import { resolveTracking, type BigQueryTrackingOptions, type TrackingTables } from './tracking.js';

export interface RenderDdlOptions {
  /** Project of the tracking dataset. */
  readonly projectId: string;
  /** Dataset location for `CREATE SCHEMA` (e.g. `US`, `EU`, `europe-west1`). Omitted: BigQuery's default. */
  readonly location?: string | undefined;
  readonly tracking?: BigQueryTrackingOptions | undefined;
  /** Days the gap-frequency and time-to-recovery views look back (the seed: 30). */
  readonly monitoringDays?: number | undefined;
  /** Days the success-rate view looks back (the seed: 7). */
  readonly successRateDays?: number | undefined;
  /** Drop event-table partitions older than this many days. Default: keep forever. */
  readonly partitionExpirationDays?: number | undefined;
}

/** A string literal of our own text (descriptions): DDL cannot take parameters. */
const sqlString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

const wholeDays = (field: string, v: number | undefined, dflt: number): number => {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw configError(`${field} must be a whole number of days 1–3650, got ${String(v)}`);
  return n;
};

const LOCATION = /^[A-Za-z]{2,}(?:-[A-Za-z0-9]+)*$/;

const createTable = (ref: TableRef, t: TableDef, expirationDays: number | undefined): string => {
  const cols = t.columns.map((col) => {
    const type = col.mode === 'REPEATED' ? `ARRAY<${col.type}>` : col.type;
    return `  ${col.name} ${type}${col.mode === 'REQUIRED' ? ' NOT NULL' : ''}`;
  });
  const options = [
    `require_partition_filter = ${t.requirePartitionFilter ? 'TRUE' : 'FALSE'}`,
    `description = ${sqlString(t.description)}`,
  ];
  if (expirationDays !== undefined) options.push(`partition_expiration_days = ${expirationDays}`);
  return [
    `CREATE TABLE IF NOT EXISTS ${quoteTable(ref)} (`,
    cols.join(',\n'),
    ')',
    `PARTITION BY ${t.partitionBy}`,
    `CLUSTER BY ${t.clusterBy.join(', ')}`,
    `OPTIONS (${options.join(', ')})`,
  ].join('\n');
};

/** `ADD COLUMN IF NOT EXISTS` for the columns a release added: a table created earlier gets them, a new one is left as is. */
const addColumns = (ref: TableRef, t: TableDef): string[] => {
  const added = t.columns.filter((col) => t.addedColumns?.includes(col.name) === true);
  if (added.length === 0) return [];
  const adds = added.map((col) => `  ADD COLUMN IF NOT EXISTS ${col.name} ${col.mode === 'REPEATED' ? `ARRAY<${col.type}>` : col.type}`);
  return [`ALTER TABLE ${quoteTable(ref)}\n${adds.join(',\n')}`];
};

/**
 * Latest row per key. The window also partitions by columns that never change
 * within a key (`game_date`, `processor_name`), so a filter on them outside the
 * view can be pushed below the window function and prune partitions.
 */
const latestView = (view: TableRef, events: TableRef, partitionBy: string, extra = '', outerWhere = ''): string => {
  const inner = [
    `SELECT *${extra}`,
    `FROM ${quoteTable(events)}`,
    'WHERE TRUE',
    `QUALIFY ROW_NUMBER() OVER (PARTITION BY ${partitionBy} ORDER BY ${LATEST_ORDER}) = 1`,
  ];
  return [
    `CREATE OR REPLACE VIEW ${quoteTable(view)} AS`,
    ...(outerWhere === '' ? inner : ['SELECT * FROM (', ...inner.map((l) => `  ${l}`), ') AS latest', `WHERE ${outerWhere}`]),
  ].join('\n');
};

/**
 * The runs that queued a backfill in the look-back window, one row per `run_id`, as
 * the run log's reads keep them: a record streamed twice (a retried insertAll that
 * outlived BigQuery's best-effort de-duplication) must count once.
 */
const uniqueDetections = (t: TrackingTables, days: number): string =>
  [
    'SELECT *',
    `  FROM ${quoteTable(t.runs)}`,
    "  WHERE skip_reason = 'backfill_queued'",
    `    AND run_date >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${days} DAY)`,
    '  QUALIFY ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY run_date) = 1',
  ].join('\n');

const monitoringViews = (t: TrackingTables, days: number, successDays: number): string[] => [
  [
    `CREATE OR REPLACE VIEW ${quoteTable(t.gapDetectionFrequency)} AS`,
    '-- The seed\'s "Gap Detection Frequency". It summed JSON_EXTRACT_SCALAR (a STRING); the CAST makes it run.',
    'SELECT',
    '  DATE(run_date) AS date,',
    '  processor_name,',
    '  COUNT(*) AS gap_detections,',
    "  SUM(CAST(JSON_EXTRACT_SCALAR(metadata, '$.gap_size') AS INT64)) AS total_missing_dates",
    `FROM (${uniqueDetections(t, days)}) AS runs`,
    'GROUP BY date, processor_name',
  ].join('\n'),
  [
    `CREATE OR REPLACE VIEW ${quoteTable(t.backfillSuccessRate)} AS`,
    '-- The seed\'s "Backfill Success Rate", over the latest state of each request.',
    'SELECT',
    '  processor_name,',
    '  status,',
    '  COUNT(*) AS count,',
    '  AVG(TIMESTAMP_DIFF(completed_at, started_at, MINUTE)) AS avg_duration_min',
    `FROM ${quoteTable(t.requests)}`,
    `WHERE requested_at >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${successDays} DAY)`,
    'GROUP BY processor_name, status',
  ].join('\n'),
  [
    `CREATE OR REPLACE VIEW ${quoteTable(t.timeToRecovery)} AS`,
    '-- The seed\'s "Time to Recovery". Two fixes: a run_date bound (the runs table requires a',
    '-- partition filter), and only completions after the detection count (the seed also matched',
    '-- earlier backfills of the same date, giving negative recovery times).',
    'WITH gaps AS (',
    '  SELECT',
    '    processor_name,',
    '    DATE(run_date) AS detection_date,',
    "    JSON_EXTRACT_SCALAR(metadata, '$.missing_dates[0]') AS first_missing_date,",
    '    run_date AS detected_at',
    `  FROM (${uniqueDetections(t, days)}) AS runs`,
    '),',
    'completions AS (',
    '  SELECT processor_name, game_date, completed_at',
    `  FROM ${quoteTable(t.requests)}`,
    "  WHERE status = 'completed'",
    ')',
    'SELECT',
    '  g.processor_name,',
    '  g.detection_date,',
    '  AVG(TIMESTAMP_DIFF(c.completed_at, g.detected_at, MINUTE)) AS avg_recovery_time_min',
    'FROM gaps AS g',
    'JOIN completions AS c',
    '  ON g.processor_name = c.processor_name',
    '  AND DATE(g.first_missing_date) = c.game_date',
    '  AND c.completed_at >= g.detected_at',
    'GROUP BY g.processor_name, g.detection_date',
  ].join('\n'),
];

/**
 * Every statement, in order: dataset, event tables, latest-state views, monitoring
 * views. Idempotent: `IF NOT EXISTS` for the dataset and tables, `CREATE OR REPLACE`
 * for views, so running it again is safe. It alters an existing table only to add
 * the nullable columns a later release added (`ADD COLUMN IF NOT EXISTS`); it never
 * drops or changes one.
 */
export const ddlStatements = (options: RenderDdlOptions): string[] => {
  const projectId = validateProject('projectId', options.projectId);
  const t = resolveTracking(options.tracking, projectId);
  const days = wholeDays('monitoringDays', options.monitoringDays, 30);
  const successDays = wholeDays('successRateDays', options.successRateDays, 7);
  const expiration =
    options.partitionExpirationDays === undefined ? undefined : wholeDays('partitionExpirationDays', options.partitionExpirationDays, 1);
  if (options.location !== undefined && !LOCATION.test(options.location))
    throw configError(`location must be a BigQuery location like "US" or "europe-west1", got ${JSON.stringify(options.location)}`);
  const schema = `CREATE SCHEMA IF NOT EXISTS \`${t.requestEvents.projectId}.${t.requestEvents.datasetId}\``;
  return [
    options.location === undefined ? schema : `${schema}\nOPTIONS (location = ${sqlString(options.location)})`,
    createTable(t.requestEvents, REQUEST_EVENTS, expiration),
    createTable(t.runs, RUNS, expiration),
    createTable(t.heldRunEvents, HELD_RUN_EVENTS, expiration),
    createTable(t.alertEvents, ALERT_EVENTS, expiration),
    ...addColumns(t.alertEvents, ALERT_EVENTS),
    // Always empty between creates: each create inserts a row and deletes it, inside its transaction (docs/bigquery.md, "Atomic create").
    `CREATE TABLE IF NOT EXISTS ${quoteTable(t.requestLocks)} (\n  lock_key STRING NOT NULL,\n  taken_at TIMESTAMP NOT NULL\n)\nOPTIONS (description = ${sqlString(
      'smart-backfill: mutated by every request create so BigQuery cancels one of two concurrent creates',
    )})`,
    latestView(t.requests, t.requestEvents, 'game_date, processor_name, request_id', ', event_time AS updated_at', 'superseded_by IS NULL'),
    latestView(t.heldRuns, t.heldRunEvents, 'processor_name, game_date'),
    latestView(t.alerts, t.alertEvents, 'alert_key'),
    ...monitoringViews(t, days, successDays),
  ];
};

/** The DDL as one script (what `smart-backfill init --bigquery` prints). */
export const renderDdl = (options: RenderDdlOptions): string =>
  `-- smart-backfill tracking tables for BigQuery. Safe to run again.\n\n${ddlStatements(options).join(';\n\n')};\n`;

/** Options of `applyDdl`: those of `renderDdl`, plus how to reach BigQuery. */
export interface ApplyDdlOptions extends Omit<RenderDdlOptions, 'projectId'>, Omit<BigQueryConnectionOptions, 'client' | 'projectId'> {
  /** Your client; omitted: one is built from `projectId`, `location` and `keyFilename` with Application Default Credentials. */
  readonly client?: BigQuery | undefined;
  /** Project of the tracking dataset; defaults to the client's. Required without a client. */
  readonly projectId?: string | undefined;
  readonly keyFilename?: string | undefined;
}

/**
 * Run the DDL, one job per statement, in order. Returns the statements run.
 * Needs bigquery.datasets.create (or an existing dataset), bigquery.tables.create
 * and bigquery.jobs.create — an admin's job, not the guard's.
 */
export const applyDdl = async (options: ApplyDdlOptions): Promise<readonly string[]> => {
  const client = clientOf(options);
  const conn = connect({ ...options, client });
  const statements = ddlStatements({ ...options, projectId: conn.projectId });
  for (const [i, sql] of statements.entries()) {
    await runQuery(conn, {
      sql: `-- smart-backfill:ddl\n${sql}`,
      params: {},
      purpose: `applying DDL statement ${i + 1} of ${statements.length} (${sql.split('\n')[0]})`,
    });
  }
  return statements;
};
