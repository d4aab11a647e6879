import { isSmartBackfillError } from '@smart-backfill/core';
import type { GuardOutcome } from '@smart-backfill/engine';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { describeDecision } from './check-report.js';
import { formatDates } from './dates.js';

/** A check refused because the schedule's statuses match none of its rows: a config problem, not a failure. */
export const isScheduleMismatch = (e: unknown): boolean => isSmartBackfillError(e, 'invalid_config') && e.detail === 'schedule_mismatch';

/**
 * Exit code of a guarded run: ran 0, held 3, escalated and a person told 4, escalated but
 * nobody told yet 5, failed 1 (2 when the config cannot work).
 */
export const outcomeExitCode = (o: GuardOutcome): ExitCode => {
  switch (o._tag) {
    case 'Ran':
    case 'BackfillQueuedNotHeld':
      return ExitCode.ok;
    case 'Held':
      return ExitCode.held;
    case 'Escalated':
      return o.told ? ExitCode.escalated : ExitCode.escalatedNotDelivered;
    case 'Failed':
      return isScheduleMismatch(o.error) ? ExitCode.badInput : ExitCode.error;
  }
};

/** `pos_sales 2025-11-04 (queued)`: one input a held run waits for. */
const describeWait = (w: NonNullable<Extract<GuardOutcome, { _tag: 'Held' }>['upstream']>[number]): string =>
  `${w.processor} ${formatDates(w.missing)} (${w.escalated.length > 0 ? 'escalated: a person must fill it' : w.queued.length > 0 ? 'backfill queued' : 'in flight'})`;

/** One or two human lines for an outcome. */
export const describeOutcome = (o: GuardOutcome): string[] => {
  switch (o._tag) {
    case 'Ran':
      return [`ran (${o.reason.replace(/_/g, ' ')})`, ...(o.warnings ?? []).map((w) => `warning: ${w}`)];
    case 'BackfillQueuedNotHeld':
      return [`ran; queued backfills for older gaps: ${o.queued.map((r) => r.date).join(', ') || 'none new'}`];
    case 'Held': {
      if (o.upstream !== undefined && o.upstream.length > 0)
        // Held for its inputs: its own window is whole; name what it waits for on each.
        return [
          `held: waiting for ${o.upstream.map(describeWait).join('; ')}`,
          'the run resumes by itself when the worker has filled its inputs',
        ];
      const lines = [`held: waiting for ${formatDates(o.analysis.missingDates)}`];
      if (o.queued.length > 0)
        lines.push(`queued backfill${o.queued.length === 1 ? '' : 's'} for ${o.queued.map((r) => r.date).join(', ')}`);
      if (o.inFlight.length > 0) lines.push(`already in flight: ${o.inFlight.join(', ')}`);
      lines.push('the run resumes by itself when the worker has filled the gap');
      return lines;
    }
    case 'Escalated':
      return [
        `escalated: ${describeDecision(o.decision).replace(/^Escalate /, '')}`,
        o.alerted
          ? `alert sent (${o.alertKey})`
          : o.told
            ? `alert already open (${o.alertKey}); not sent again${o.deliveryError !== null ? ` (this reminder failed: ${o.deliveryError})` : ''}`
            : `ALERT NOT DELIVERED (${o.alertKey || 'not recorded'}): ${o.deliveryError ?? 'unknown reason'}; nobody has been told yet — the worker retries`,
        ...(o.upstream !== undefined && o.upstream.length > 0 ? [`held: waiting for ${o.upstream.map(describeWait).join('; ')}`] : []),
      ];
    case 'Failed':
      return [`failed during ${o.stage}: ${o.error.message}`];
  }
};

export const printOutcome = (out: Output, processorName: string, date: string, o: GuardOutcome): void => {
  const { c } = out;
  const color = o._tag === 'Ran' || o._tag === 'BackfillQueuedNotHeld' ? c.green : o._tag === 'Held' ? c.yellow : c.red;
  const [first, ...rest] = describeOutcome(o);
  out.line(`${c.bold(`${processorName} ${date}`)}  ${color(first ?? '')}`);
  for (const l of rest) out.line(`  ${l}`);
};

/** The outcome as JSON: the engine's own field names, errors as `{ name, message }`. */
export const outcomeJson = (processorName: string, date: string, o: GuardOutcome): Record<string, unknown> => ({
  processorName,
  date,
  exitCode: outcomeExitCode(o),
  outcome: o._tag === 'Failed' ? { ...o, error: { name: o.error.name, message: o.error.message } } : o,
});

/** An escalation nobody has heard of yet is said on stderr too, whatever the output format. */
export const warnUndelivered = (out: Output, processorName: string, o: GuardOutcome): void => {
  if (o._tag !== 'Escalated' || o.deliveryError === null) return;
  const what = o.told ? 'a reminder could not be delivered' : 'alert NOT delivered, nobody has been told yet';
  out.warn(out.c.red(`warning: ${processorName}: ${what}: ${o.deliveryError} (the worker retries; see \`smart-backfill status\`)`));
};
