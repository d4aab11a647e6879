/**
 * A worked example of a smart-backfill adapter (docs/adapters.md, "How to write your own
 * adapter"): a `RequestTracker` and a `TargetTable` over JSON-lines files.
 */
export { jsonlRequestTracker, type JsonlRequestTrackerOptions } from './jsonl-request-tracker.js';
export { jsonlTargetTable, type JsonlTargetTableOptions } from './jsonl-target-table.js';
