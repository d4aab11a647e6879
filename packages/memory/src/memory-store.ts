import type { BackfillRequest, Clock, IsoDate } from '@smart-backfill/core';
import { memoryAlertLog, type MemoryAlertLog } from './memory-alert-log.js';
import { memoryAlerter, type MemoryAlerter } from './memory-alerter.js';
import { memoryBackfillQueue, type MemoryBackfillQueue, type QueueState } from './memory-backfill-queue.js';
import { memoryRequestTracker, type MemoryRequestTracker } from './memory-request-tracker.js';
import { memoryRunLog, type MemoryRunLog } from './memory-run-log.js';
import { memoryScheduleSource, type MemoryScheduleSource } from './memory-schedule-source.js';
import { memoryTargetTable, type MemoryTargetTable } from './memory-target-table.js';
import { memoryWindowReader, type MemoryWindowReader } from './memory-window-reader.js';

export interface MemoryStoreOptions {
  readonly clock: Clock;
  readonly maxDeliveryAttempts?: number | undefined;
}

/** Every port in memory, sharing one clock, plus a backdoor for tests and the simulator. */
export interface MemoryStore {
  readonly clock: Clock;
  readonly tracker: MemoryRequestTracker;
  readonly queue: MemoryBackfillQueue;
  readonly runLog: MemoryRunLog;
  readonly alertLog: MemoryAlertLog;
  readonly alerter: MemoryAlerter;
  readonly schedule: MemoryScheduleSource;
  readonly target: MemoryTargetTable;
  readonly window: MemoryWindowReader;
  /** Expected dates of a processor (`'*'`: every processor without its own). */
  setSchedule(processorName: string, dates: Iterable<IsoDate>): void;
  setCount(processorName: string, date: IsoDate, n: number): void;
  addRows(processorName: string, date: IsoDate, n: number): number;
  /** Every tracked request, in creation order. */
  requests(): readonly BackfillRequest[];
  queueState(): QueueState;
}

export const createMemoryStore = (opts: MemoryStoreOptions): MemoryStore => {
  const { clock } = opts;
  const schedule = memoryScheduleSource();
  const target = memoryTargetTable();
  const tracker = memoryRequestTracker({ clock });
  const queue = memoryBackfillQueue({ clock, maxDeliveryAttempts: opts.maxDeliveryAttempts });
  return {
    clock,
    tracker,
    queue,
    runLog: memoryRunLog({ clock }),
    alertLog: memoryAlertLog({ clock }),
    alerter: memoryAlerter(),
    schedule,
    target,
    window: memoryWindowReader(schedule, target),
    setSchedule: (p, dates) => schedule.set(p, dates),
    setCount: (p, d, n) => target.setCount(p, d, n),
    addRows: (p, d, n) => target.addRows(p, d, n),
    requests: () => tracker.all(),
    queueState: () => queue.state(),
  };
};
