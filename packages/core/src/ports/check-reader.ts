import type { AlertRecord } from './alerter.js';
import type { BackfillRequest } from '../request-lifecycle.js';
import type { IsoDate } from '../iso-date.js';
import type { HeldRun } from './run-log.js';
import type { ScheduleWindowDescription } from './schedule-source.js';
import type { WindowData, WindowQuery } from './window.js';

/** One guard check: its window, and the date the run is for (the day after the window, for a scheduled run). */
export interface CheckQuery extends WindowQuery {
  readonly runDate: IsoDate;
}

/**
 * Everything a guard check decides on, and the records the changes that follow it build on.
 * Each field is what the named port read would return for the same query.
 */
export interface CheckData extends WindowData {
  /** Every request of the processor, in any status, dated in `[start, end]` (`RequestTracker.forWindow`). */
  readonly requests: readonly BackfillRequest[];
  /**
   * The processor's open alerts, and its resolved ones that named a date in `[start, end]`;
   * newest first. An escalation's alert key always names a date of the window, so the
   * guard knows from this whether (and as what) the alert it opens already exists.
   */
  readonly alerts: readonly AlertRecord[];
  /**
   * The processor's held runs in status `held`, and the run date's own record in whatever
   * status; oldest run date first. A run date absent from it has no held-run record.
   */
  readonly heldRuns: readonly HeldRun[];
}

/**
 * Optional: a whole check in one round trip. A store whose reads each cost a job (BigQuery)
 * implements it so a check is one query job instead of one per port. The guard uses it
 * when the store offers it (on the object it gets as its `window`), and otherwise reads the
 * schedule, counts, requests, alerts and held runs through their own ports.
 *
 * It must read the same storage as the guard's tracker, run log and alert log: the guard
 * hands what it returned to their changes (a record "known absent" here is written as new).
 * Nothing is cached between calls: each call reads, and each answer is as fresh as a read
 * of every port at that moment. Records carry `revision` where the store keeps one, so the
 * changes the guard makes right after can build on them without reading them again.
 */
export interface CheckReader {
  /**
   * @throws an `Error` (with `cause`) when any part cannot be read.
   */
  readCheck(query: CheckQuery): Promise<CheckData>;
  /** Optional: the schedule side's `ScheduleSource.describeWindow` (see `WindowReader`). */
  describeWindow?(query: WindowQuery): Promise<ScheduleWindowDescription>;
}
