import { upstreamDatesRead, type Dependency } from './pipeline-graph.js';
import type { IsoDate } from './iso-date.js';

/** One input of a processor as the wait rule sees it: how far back a date reads it, and which of its dates cannot be read yet. */
export interface InputState {
  readonly lookbackDays: Dependency['lookbackDays'];
  /** Input dates that are missing (below the input's minimum) or held (the input's run for that date is held or resuming). */
  readonly unavailable: ReadonlySet<IsoDate>;
}

/**
 * The dates among `dates` that must not be backfilled yet: a date waits while any input date
 * it reads is missing or held, because a backfill is not checked and would build it from
 * that incomplete input. `heldForInputs` are the processor's runs held for their inputs
 * (held or resuming, waiting for no date of their own): its own guard found exactly that when
 * it held them, and their resume produces the date once the inputs heal, so a backfill would
 * build it twice. Whatever else holds a date (a gap in the processor's own window) does not
 * make it wait: its backfill is what that hold waits for.
 *
 * The one rule for both places that queue a processor's dates: its own guard (its own
 * missing dates) and a downstream guard (the inputs it reads). Both also hand these dates to
 * `decide` (`waitingForInputs`): a date that waits is the gap of an input above, never one to
 * escalate here, so a gap alerts once, on the level whose own data is missing.
 */
export const datesWaitingForInputs = (
  dates: readonly IsoDate[],
  heldForInputs: ReadonlySet<IsoDate>,
  inputs: readonly InputState[],
): Set<IsoDate> =>
  new Set(dates.filter((d) => heldForInputs.has(d) || inputs.some((i) => upstreamDatesRead(i, d).some((u) => i.unavailable.has(u)))));
