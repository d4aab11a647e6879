import type { IsoDate } from '../iso-date.js';
import type { WindowQuery } from './window.js';

/**
 * The table a processor fills: how many rows it holds per date.
 *
 * Counts are per calendar date of the table's date column (or date expression).
 * The seed filtered with `HAVING record_count >= MIN_RECORDS_PER_DATE` in SQL;
 * we return raw counts so the core can tell absent (0) from incomplete (0 < n < min).
 */
export interface TargetTable {
  /**
   * Row counts per date within `[query.start, query.end]`, in one round trip.
   * Dates with no rows may be omitted (they count as 0).
   *
   * @throws an `Error` (with `cause`) when the table cannot be read.
   */
  recordCounts(query: WindowQuery): Promise<ReadonlyMap<IsoDate, number>>;
}
