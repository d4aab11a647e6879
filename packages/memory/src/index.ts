/**
 * @smart-backfill/memory — every port in memory: for tests, for embedding in a
 * single process, and for the simulator. Time comes from the `Clock` you pass,
 * so a manual clock drives leases and delays.
 */
export { type MemoryStore, type MemoryStoreOptions, createMemoryStore } from './memory-store.js';
export { type MemoryScheduleSource, type MemoryScheduleOptions, ANY_PROCESSOR, memoryScheduleSource } from './memory-schedule-source.js';
export { type MemoryTargetTable, memoryTargetTable } from './memory-target-table.js';
export { type MemoryWindowReader, memoryWindowReader } from './memory-window-reader.js';
export { memoryCheckReader } from './memory-check-reader.js';
export {
  type MemoryBackfillQueue,
  type MemoryBackfillQueueOptions,
  type MessageState,
  type StoredMessage,
  type QueueState,
  memoryBackfillQueue,
} from './memory-backfill-queue.js';
export { type MemoryRequestTracker, memoryRequestTracker } from './memory-request-tracker.js';
export { type MemoryRunLog, memoryRunLog } from './memory-run-log.js';
export { type MemoryAlertLog, memoryAlertLog } from './memory-alert-log.js';
export { type MemoryAlerter, memoryAlerter } from './memory-alerter.js';
