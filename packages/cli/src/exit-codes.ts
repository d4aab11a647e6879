/**
 * The process exit codes of `smart-backfill`, the contract scripts and schedulers rely on.
 * A scheduler can retry on 1, page on 4, and treat 3 as "held, will resume by itself".
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
  /** The gap is too large (or keeps failing) and was escalated to a person. */
  escalated: 4,
  /** `assess`: the answer is UNKNOWN — the gap frequency could not be measured (unreadable table, no schedule rows); the output says why. */
  unknown: 5,
});

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
