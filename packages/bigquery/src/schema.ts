/**
 * The tracking tables, as data: `renderDdl` prints them and the adapters read and
 * write exactly these columns. Every table is append-only; "current state" is the
 * latest row per key, chosen by `LATEST_ORDER` (see docs/bigquery.md for why).
 */
export interface ColumnDef {
  readonly name: string;
  readonly type: 'STRING' | 'INT64' | 'BOOL' | 'DATE' | 'TIMESTAMP' | 'JSON';
  readonly mode: 'REQUIRED' | 'NULLABLE' | 'REPEATED';
  readonly description: string;
}

export interface TableDef {
  readonly kind: 'requestEvents' | 'runs' | 'heldRunEvents' | 'alertEvents';
  readonly description: string;
  readonly columns: readonly ColumnDef[];
  /** A DATE column, or `DATE(<timestamp column>)`. */
  readonly partitionBy: string;
  readonly clusterBy: readonly string[];
  /** Whether every query must filter on the partition column (see `renderDdl`). */
  readonly requirePartitionFilter: boolean;
  /** Columns naming one entity; the latest-state view keeps one row per key. */
  readonly key: readonly string[];
  /**
   * Columns added after the table's first release (NULLABLE, at the end): the DDL
   * adds them to a table that already exists, so an upgrade needs only `init --bigquery` again.
   */
  readonly addedColumns?: readonly string[] | undefined;
}

const c = (name: string, type: ColumnDef['type'], mode: ColumnDef['mode'], description: string): ColumnDef => ({
  name,
  type,
  mode,
  description,
});

/** Columns every event table has: the ordering and dedupe bookkeeping. */
const EVENT_COLUMNS: readonly ColumnDef[] = [
  c('version', 'INT64', 'REQUIRED', 'Transitions so far for this key; the first ordering key of the latest-state view'),
  c(
    'event',
    'STRING',
    'REQUIRED',
    'What produced this row (Create, Claim, Heartbeat, Complete, Fail, Retry, LeaseExpired, MarkPublished / hold, claim, resume, cancel / open, update, sent, send_failed, resolve)',
  ),
  c('event_time', 'TIMESTAMP', 'REQUIRED', 'When the transition happened (the caller clock)'),
  c('event_id', 'STRING', 'REQUIRED', 'The insertId the row was streamed with: deterministic per transition, so retries dedupe'),
  c('writer_id', 'STRING', 'REQUIRED', 'Random per write; tells two writers of the same transition apart when reading back'),
];

/**
 * Latest row first. `version` leads because clocks of different machines disagree
 * and a manual clock repeats instants; `event_time` and the ids only break ties
 * between racing writers, deterministically, so every reader picks the same winner.
 */
export const LATEST_ORDER = 'version DESC, event_time DESC, event_id DESC, writer_id DESC';

export const REQUEST_EVENTS: TableDef = {
  kind: 'requestEvents',
  description: 'smart-backfill: one row per backfill request transition (append-only; see the latest-state view)',
  columns: [
    c('request_id', 'STRING', 'REQUIRED', 'Stable request id; the queue message carries it'),
    c('processor_name', 'STRING', 'REQUIRED', 'Processor to backfill'),
    c('game_date', 'DATE', 'REQUIRED', 'Date to backfill'),
    c('request_type', 'STRING', 'REQUIRED', 'auto or manual'),
    c('priority', 'STRING', 'REQUIRED', 'high, normal or low'),
    c('requested_at', 'TIMESTAMP', 'REQUIRED', 'When the request was created'),
    c('requested_by', 'STRING', 'REQUIRED', 'smart_backfill_detection or a user'),
    c('trigger_reason', 'STRING', 'REQUIRED', 'Wire trigger_reason (auto_backfill, manual_backfill)'),
    c('status', 'STRING', 'REQUIRED', 'queued, processing, completed or failed (after this event)'),
    c('attempt', 'INT64', 'REQUIRED', 'Claims so far; the fencing token'),
    c('failures', 'INT64', 'REQUIRED', 'Real failures so far: one per Fail; claims whose lease lapsed do not count'),
    c('gave_up', 'BOOL', 'REQUIRED', 'The last Fail was final (e.g. a poison job): the date counts as out of retries'),
    c('started_at', 'TIMESTAMP', 'NULLABLE', 'Last claim'),
    c('completed_at', 'TIMESTAMP', 'NULLABLE', 'Completion or failure'),
    c('error_message', 'STRING', 'NULLABLE', 'Last failure'),
    c('lease_owner', 'STRING', 'NULLABLE', 'Worker holding the lease'),
    c('lease_expires_at', 'TIMESTAMP', 'NULLABLE', 'Lease end'),
    c('published_at', 'TIMESTAMP', 'NULLABLE', 'When the queue confirmed the message (NULL: the relay republishes)'),
    c('not_before', 'TIMESTAMP', 'NULLABLE', 'Retry backoff'),
    c('metadata', 'JSON', 'NULLABLE', 'Free-form request metadata'),
    c(
      'superseded_by',
      'STRING',
      'NULLABLE',
      'Set when this request lost a create race to another active request for the same date; reads skip it',
    ),
    ...EVENT_COLUMNS,
  ],
  partitionBy: 'game_date',
  clusterBy: ['processor_name', 'status', 'requested_at'],
  // get(requestId), the relay and the sweeper look requests up without a date.
  requirePartitionFilter: false,
  key: ['request_id'],
};

export const RUNS: TableDef = {
  kind: 'runs',
  description: "smart-backfill: one row per processor run (the seed's analytics_processor_runs)",
  columns: [
    c('run_id', 'STRING', 'REQUIRED', 'Unique run id; appends are idempotent on it'),
    c('processor_name', 'STRING', 'REQUIRED', 'Processor'),
    c(
      'run_date',
      'TIMESTAMP',
      'REQUIRED',
      "When the run started (the seed's run_date, a TIMESTAMP its monitoring queries compare with CURRENT_TIMESTAMP())",
    ),
    c('game_date', 'DATE', 'REQUIRED', 'The date the run is for'),
    c('run_trigger', 'STRING', 'REQUIRED', 'scheduled, backfill, resume, manual or cascade'),
    c('is_backfill', 'BOOL', 'REQUIRED', 'The run is a backfill'),
    c('outcome', 'STRING', 'REQUIRED', 'succeeded, failed or skipped'),
    c('success', 'BOOL', 'REQUIRED', 'outcome != failed (a held run is a deliberate skip, not a failure)'),
    c('skip_reason', 'STRING', 'NULLABLE', 'backfill_queued, waiting_for_backfill or gap_escalated'),
    c('error_message', 'STRING', 'NULLABLE', 'Why it failed'),
    c('started_at', 'TIMESTAMP', 'REQUIRED', 'Start'),
    c('finished_at', 'TIMESTAMP', 'REQUIRED', 'End'),
    c('duration_ms', 'INT64', 'REQUIRED', 'finished_at - started_at'),
    c('metadata', 'JSON', 'NULLABLE', 'gap_size, missing_dates, critical_missing, in_flight, queued, decision, ...'),
  ],
  partitionBy: 'DATE(run_date)',
  clusterBy: ['processor_name', 'skip_reason'],
  requirePartitionFilter: true,
  key: ['run_id'],
};

export const HELD_RUN_EVENTS: TableDef = {
  kind: 'heldRunEvents',
  description: 'smart-backfill: one row per held-run change (append-only; see the held runs view)',
  columns: [
    c('processor_name', 'STRING', 'REQUIRED', 'Processor'),
    c('game_date', 'DATE', 'REQUIRED', 'The held run date'),
    c('status', 'STRING', 'REQUIRED', 'held, resuming, resumed or cancelled'),
    c('reason', 'STRING', 'REQUIRED', 'skip reason'),
    c('waiting_for', 'DATE', 'REPEATED', 'Missing dates the run waits for'),
    c('held_at', 'TIMESTAMP', 'REQUIRED', 'When it was first held'),
    c('released_at', 'TIMESTAMP', 'NULLABLE', 'When it was resumed or cancelled'),
    c('claimed_by', 'STRING', 'NULLABLE', 'The resumer holding (or last holding) the resume claim since the run was held'),
    c('claimed_at', 'TIMESTAMP', 'NULLABLE', 'When that claim was made'),
    c('lease_until', 'TIMESTAMP', 'NULLABLE', 'End of the claim: past it, another resumer may take the run over'),
    c('claims', 'INT64', 'NULLABLE', 'Resume claims ever made (NULL: 0); the fencing token of a claim'),
    c('resume_run_id', 'STRING', 'NULLABLE', 'run_id of the re-run that resumed it'),
    ...EVENT_COLUMNS,
  ],
  partitionBy: 'game_date',
  clusterBy: ['processor_name', 'status'],
  requirePartitionFilter: false,
  key: ['processor_name', 'game_date'],
};

export const ALERT_EVENTS: TableDef = {
  kind: 'alertEvents',
  description: 'smart-backfill: one row per alert change (append-only; see the alerts view)',
  columns: [
    c('alert_key', 'STRING', 'REQUIRED', 'Stable per (processor, gap)'),
    c('processor_name', 'STRING', 'REQUIRED', 'Processor'),
    c('reason', 'STRING', 'REQUIRED', 'gap_exceeds_threshold or backfill_keeps_failing'),
    c('run_date', 'DATE', 'REQUIRED', 'Run date that last saw the gap'),
    c('missing_dates', 'DATE', 'REPEATED', 'Missing dates'),
    c('last_error', 'STRING', 'NULLABLE', 'Last backfill error'),
    c('opened_at', 'TIMESTAMP', 'REQUIRED', 'Opened'),
    c('updated_at', 'TIMESTAMP', 'REQUIRED', 'Last change'),
    c('last_sent_at', 'TIMESTAMP', 'NULLABLE', 'Last delivered notice'),
    c('send_count', 'INT64', 'REQUIRED', 'Delivered notices'),
    c('resolved_at', 'TIMESTAMP', 'NULLABLE', 'Closed'),
    ...EVENT_COLUMNS,
    // Added after the first release, so NULLABLE (BigQuery adds only those to a table that exists); NULL reads as 0.
    c('send_failures', 'INT64', 'NULLABLE', 'Failed deliveries since the last one that got through'),
    c('last_send_error', 'STRING', 'NULLABLE', 'Why the last failed delivery failed (cleared by a delivery)'),
    c('last_send_failed_at', 'TIMESTAMP', 'NULLABLE', 'Last failed delivery'),
  ],
  partitionBy: 'DATE(opened_at)',
  clusterBy: ['processor_name', 'alert_key'],
  requirePartitionFilter: false,
  key: ['alert_key'],
  addedColumns: ['send_failures', 'last_send_error', 'last_send_failed_at'],
};

export const TABLE_DEFS = [REQUEST_EVENTS, RUNS, HELD_RUN_EVENTS, ALERT_EVENTS] as const;

/** `a, b, c` for SELECT lists. */
export const columnList = (t: TableDef): string => t.columns.map((col) => col.name).join(', ');
