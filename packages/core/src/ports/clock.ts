/**
 * Time, passed in. Nothing in smart-backfill reads the system clock directly, so
 * tests and the simulator can run years in milliseconds with a manual clock.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Resolve after `ms` milliseconds of this clock's time; reject with the signal's
   * reason if it aborts first.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
