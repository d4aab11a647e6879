export type { WindowQuery, WindowData } from './window.js';
export type { ScheduleSource, ScheduleWindowDescription, StatusCount } from './schedule-source.js';
export type { TargetTable } from './target-table.js';
export type { WindowReader } from './window-reader.js';
export type { CheckQuery, CheckData, CheckReader } from './check-reader.js';
export type { Clock } from './clock.js';
export type { QueueMessage, PublishOutcome, Delivery, ReceiveOptions, BackfillQueue } from './backfill-queue.js';
export type { CreateRequestsResult, TrackerError, RequestListQuery, RequestTracker } from './request-tracker.js';
export type {
  RunOutcome,
  SkipReason,
  RunTrigger,
  RunMetadata,
  RunRecord,
  HeldRun,
  HeldRunStatus,
  ResumeClaim,
  RunQuery,
  LastBuildQuery,
  LastBuild,
  RunLog,
} from './run-log.js';
export type { AlertReason, AlertNotice, Alerter, AlertRecord, AlertChangeOptions, AlertLog } from './alerter.js';
