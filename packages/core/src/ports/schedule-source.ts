import type { IsoDate } from '../iso-date.js';
import type { WindowQuery } from './window.js';

/** One status value a schedule holds in a window, and how many rows carry it. */
export interface StatusCount {
  /** `null` for rows whose status is NULL. */
  readonly status: string | null;
  readonly count: number;
}

/**
 * What a schedule holds in a window before its status filter: the facts that tell apart
 * "nothing is scheduled" (an off-season, a schedule that does not cover these dates)
 * and "rows are there, but the configured statuses match none of them" (a typo).
 */
export interface ScheduleWindowDescription {
  /** The schedule as its user named it (a table name), for messages. */
  readonly source: string;
  /** Rows in `[query.start, query.end]` (for the query's processor, when scoped), whatever their status. */
  readonly rowsInWindow: number;
  /** Present when the source keeps only rows with accepted statuses. */
  readonly statusFilter?:
    | {
        readonly column: string;
        readonly accepted: readonly string[];
        /** Every status among `rowsInWindow`, with its count; order free. */
        readonly found: readonly StatusCount[];
      }
    | undefined;
}

/**
 * Which dates should have data: days with games played, files due, markets open.
 *
 * The seed read `nba_raw.game_schedule WHERE game_status IN ('Final','Completed')`;
 * an adapter over a table takes the table, date column and accepted statuses as options.
 */
export interface ScheduleSource {
  /**
   * Expected dates within `[query.start, query.end]`, in one round trip.
   * Order and duplicates do not matter (the core ignores both). Dates outside the
   * range may be returned and are ignored.
   *
   * @throws an `Error` (with `cause`) when the source cannot be read. The guard records the
   * run as failed and does not guess.
   */
  expectedDates(query: WindowQuery): Promise<readonly IsoDate[]>;
  /**
   * Optional: why `expectedDates` came back empty. The guard calls it only then (a
   * check with expected dates costs nothing extra), and reads the answer with core's
   * `diagnoseSchedule`: no rows is a warning, rows that no accepted status matches is
   * a configuration error. Without it, an empty schedule is only a warning.
   *
   * @throws an `Error` (with `cause`) when the source cannot be read.
   */
  describeWindow?(query: WindowQuery): Promise<ScheduleWindowDescription>;
}
