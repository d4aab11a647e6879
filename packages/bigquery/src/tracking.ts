import { configError } from './errors.js';
import { validateDataset, validateProject, validateTable, type TableRef } from './identifiers.js';

/** Default names; `backfill_requests` and `analytics_processor_runs` are the seed's, so its queries keep working. */
export const DEFAULT_TABLE_NAMES = Object.freeze({
  requestEvents: 'backfill_request_events',
  requests: 'backfill_requests',
  runs: 'analytics_processor_runs',
  heldRunEvents: 'held_run_events',
  heldRuns: 'held_runs',
  alertEvents: 'alert_events',
  alerts: 'alerts',
  requestLocks: 'request_locks',
  gapDetectionFrequency: 'gap_detection_frequency',
  backfillSuccessRate: 'backfill_success_rate',
  timeToRecovery: 'time_to_recovery',
});

export type TrackingTableName = keyof typeof DEFAULT_TABLE_NAMES;

/** Where smart-backfill keeps its own state: one dataset (the seed's `nba_processing`). */
export interface BigQueryTrackingOptions {
  /** Dataset of the tracking tables and views. Default `smart_backfill`. */
  readonly dataset?: string | undefined;
  /** Project of that dataset; defaults to the connection's. */
  readonly projectId?: string | undefined;
  /** Rename any table or view. */
  readonly tables?: Partial<Record<TrackingTableName, string>> | undefined;
}

export type TrackingTables = Readonly<Record<TrackingTableName, TableRef>>;

export const resolveTracking = (o: BigQueryTrackingOptions | undefined, defaultProject: string): TrackingTables => {
  const opts = o ?? {};
  if (typeof opts !== 'object' || opts === null) throw configError('tracking must be an object like { dataset: "smart_backfill" }');
  const projectId = validateProject('tracking.projectId', opts.projectId ?? defaultProject);
  const datasetId = validateDataset('tracking.dataset', opts.dataset ?? 'smart_backfill');
  const names = { ...DEFAULT_TABLE_NAMES, ...(opts.tables ?? {}) };
  for (const k of Object.keys(opts.tables ?? {})) {
    if (!(k in DEFAULT_TABLE_NAMES))
      throw configError(`tracking.tables has no entry "${k}" (known: ${Object.keys(DEFAULT_TABLE_NAMES).join(', ')})`);
  }
  const out = {} as Record<TrackingTableName, TableRef>;
  for (const [k, v] of Object.entries(names) as [TrackingTableName, string][]) {
    out[k] = { projectId, datasetId, tableId: validateTable(`tracking.tables.${k}`, v) };
  }
  return out;
};
