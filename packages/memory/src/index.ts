/**
 * @smart-backfill/memory — every port in memory: for tests, for embedding in a
 * single process, and for the simulator. Time comes from the `Clock` you pass,
 * so a manual clock drives leases and delays.
 */
export { type MemoryStore, /** @public */ type MemoryStoreOptions, createMemoryStore } from './memory-store.js';
export { memoryCheckReader } from './memory-check-reader.js';
export {
  /** @public */ type MemoryScheduleSource,
  /** @public */ type MemoryScheduleOptions,
  memoryScheduleSource,
} from './memory-schedule-source.js';
export { /** @public */ type MemoryTargetTable, memoryTargetTable } from './memory-target-table.js';
export { /** @public */ type MemoryWindowReader, memoryWindowReader } from './memory-window-reader.js';
export {
  /** @public */ type MemoryBackfillQueue,
  /** @public */ type MemoryBackfillQueueOptions,
  /** @public */ type MessageState,
  /** @public */ type StoredMessage,
  /** @public */ type QueueState,
  memoryBackfillQueue,
} from './memory-backfill-queue.js';
export { /** @public */ type MemoryRequestTracker, memoryRequestTracker } from './memory-request-tracker.js';
export { /** @public */ type MemoryRunLog, memoryRunLog } from './memory-run-log.js';
export { /** @public */ type MemoryAlertLog, memoryAlertLog } from './memory-alert-log.js';
export { /** @public */ type MemoryAlerter, memoryAlerter } from './memory-alerter.js';
