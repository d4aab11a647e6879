import type { IsoDate } from '../iso-date.js';
import type { WindowQuery } from './window.js';

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
}
