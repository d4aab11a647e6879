import type { ScheduleWindowDescription } from './schedule-source.js';
import type { WindowData, WindowQuery } from './window.js';

/**
 * Optional: schedule and counts in a single round trip. A store that can join
 * both in one query (the seed's CTE on BigQuery) implements this so a check costs
 * one job instead of two. The engine builds one from a `ScheduleSource` and a
 * `TargetTable` when a store does not provide it.
 */
export interface WindowReader {
  /**
   * @throws an `Error` (with `cause`) when either side cannot be read.
   */
  readWindow(query: WindowQuery): Promise<WindowData>;
  /**
   * Optional: the schedule side's `ScheduleSource.describeWindow`, so a check read
   * through this reader can still tell an empty schedule from a status mismatch.
   */
  describeWindow?(query: WindowQuery): Promise<ScheduleWindowDescription>;
}
