import type { Decision, GapAnalysis, GapPolicy, IsoDate } from '@smart-backfill/core';
import { ExitCode } from '../exit-codes.js';
import { formatDates } from './dates.js';
import type { Output } from '../output.js';

/** The exit code a decision maps to: proceed 0, held 3, escalated 4. */
export const decisionExitCode = (d: Decision): ExitCode =>
  d._tag === 'Proceed' ? ExitCode.ok : d._tag === 'Backfill' ? (d.holdRun ? ExitCode.held : ExitCode.ok) : ExitCode.escalated;

const list = (dates: readonly IsoDate[]): string => formatDates(dates);

/** A short summary of a decision, e.g. `Backfill 2025-11-15, hold the run`. */
export const describeDecision = (d: Decision): string => {
  switch (d._tag) {
    case 'Proceed':
      return `Proceed (${d.reason.replace(/_/g, ' ')})`;
    case 'Backfill': {
      const parts = [];
      if (d.toQueue.length > 0) parts.push(`Backfill ${list(d.toQueue)}`);
      if (d.inFlight.length > 0)
        parts.push(`${d.toQueue.length > 0 ? 'already in flight' : 'Backfill already in flight'}: ${list(d.inFlight)}`);
      return `${parts.join('; ')}${d.holdRun ? ', hold the run' : ', run anyway'}`;
    }
    case 'Escalate':
      return `Escalate ${list(d.dates)} (${d.reason.replace(/_/g, ' ')})${d.holdRun ? ', hold the run' : ''}`;
  }
};

/** Human lines for an analysis and a decision. */
export const printCheck = (
  out: Output,
  r: {
    analysis: GapAnalysis;
    decision: Decision;
    policy?: GapPolicy | undefined;
    processorName?: string | undefined;
    extra?: readonly string[];
  },
): void => {
  const { c } = out;
  const a = r.analysis;
  const d = r.decision;
  const days = a.windowStart <= a.windowEnd ? `${a.windowStart} … ${a.windowEnd}` : '(empty)';
  out.line(`${c.bold(r.processorName !== undefined ? `${r.processorName} · ` : '')}${c.bold(`check for ${a.asOf}`)}`);
  out.line(
    `  window     ${days}${r.policy !== undefined ? ` (${r.policy.lookbackDays} days, critical from ${a.criticalStart}, min ${r.policy.minRecordsPerDate} rows/date)` : ''}`,
  );
  out.line(`  expected   ${a.expectedCount} date${a.expectedCount === 1 ? '' : 's'} with data due`);
  if (!a.hasGaps) out.line(`  missing    ${c.green('none')}`);
  else {
    out.line(`  missing    ${c.red(String(a.gapSize))}: ${list(a.missingDates)}`);
    if (a.absentDates.length > 0) out.line(`    absent     ${list(a.absentDates)}`);
    for (const i of a.incompleteDates.slice(0, 8)) out.line(`    incomplete ${i.date} (${i.count} rows)`);
    if (a.criticalGapSize > 0) out.line(`    critical   ${list(a.criticalMissing)}`);
  }
  for (const e of r.extra ?? []) out.line(`  ${e}`);
  const color = d._tag === 'Proceed' ? c.green : d._tag === 'Backfill' ? c.yellow : c.red;
  out.line(`  decision   ${color(describeDecision(d))}`);
};
