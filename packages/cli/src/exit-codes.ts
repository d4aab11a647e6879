/**
 * The process exit codes of `smart-backfill`, the contract scripts and schedulers rely on.
 * A scheduler can retry on 1, page on 5, and treat 3 as "held, will resume by itself".
 */
export const ExitCode = Object.freeze({
  /** The run ran, or the check says it would proceed; the command did what was asked. */
  ok: 0,
  /** Something failed: the processor threw, a store could not be read, an unexpected error. */
  error: 1,
  /** Bad input or configuration: nothing was attempted. */
  badInput: 2,
  /** The run is held because of a gap; backfills are queued and the run resumes when they land. */
  held: 3,
  /** The gap is too large (or keeps failing) and was escalated: a person has the alert (sent now, or by an earlier run). */
  escalated: 4,
  /**
   * Escalated, but no notice has reached anyone yet: every channel failed or
   * timed out (the reason is printed). The alert is recorded as undelivered and
   * the worker keeps retrying it; until then, nobody knows.
   */
  escalatedNotDelivered: 5,
  /** `assess`: the answer is UNKNOWN — the gap frequency could not be measured (unreadable table, no schedule rows); the output says why. */
  unknown: 6,
});

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
