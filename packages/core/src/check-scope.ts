import type { AlertRecord } from './ports/alerter.js';
import type { CheckQuery } from './ports/check-reader.js';
import type { HeldRun } from './ports/run-log.js';

/**
 * Which alerts a `CheckReader` returns: the processor's open ones, and resolved ones that
 * named a date of the window (an escalation's key names one, so the alert it would reopen is
 * among them). Stores that read with SQL restate it there; this is the rule they follow.
 */
export const alertInCheck = (a: AlertRecord, q: CheckQuery): boolean =>
  a.processorName === q.processorName && (a.resolvedAt === null || a.missingDates.some((d) => d >= q.start && d <= q.end));

/** Which held runs a `CheckReader` returns: the processor's held ones, and the run date's own in any status. */
export const heldRunInCheck = (h: HeldRun, q: CheckQuery): boolean =>
  h.processorName === q.processorName && (h.status === 'held' || h.runDate === q.runDate);
