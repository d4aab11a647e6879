import type { IsoDate } from '@smart-backfill/core';
import { badInput } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { decisionExitCode, printCheck } from '../format/check-report.js';
import { isScheduleMismatch } from '../format/outcome.js';
import { dateOption } from '../options.js';
import type { Output } from '../output.js';
import type { CheckCommandOptions } from './check.js';
import { jsonSafe, withRuntime } from './shared.js';

const list = (ds: readonly IsoDate[]): string => (ds.length === 0 ? 'none' : ds.join(', '));

/** `check PROCESSOR --date D`: the guard's dry run against the configured store; writes nothing. */
export const checkStoreCommand = async (out: Output, opts: CheckCommandOptions, processor: string): Promise<number> => {
  const date = dateOption('--date', opts.date);
  return withRuntime(
    out,
    opts,
    async (rt) => {
      const report = await rt
        .checker(processor)
        .check(date)
        .catch((e: unknown) => {
          // Not a failed read: the config cannot work, so nothing would ever be checked.
          if (isScheduleMismatch(e)) throw badInput((e as Error).message.replace(/^\[smart-backfill\] \[engine\] /, ''), e);
          throw e;
        });
      if (out.json) out.printJson(jsonSafe(report));
      else {
        const extra = [`to queue   ${list(report.wouldQueue)}`, `in flight  ${list(report.inFlight)}`];
        for (const [d, n] of report.failedAttempts)
          extra.push(
            `failed     ${d}: ${n} attempt${n === 1 ? '' : 's'}${report.lastError.has(d) ? ` (last error: ${report.lastError.get(d) ?? ''})` : ''}`,
          );
        for (const w of report.warnings) extra.push(`warning    ${w}`);
        // Its own window would let it run, but an input it reads would hold it.
        for (const u of report.upstream ?? [])
          extra.push(
            `input      ${u.processor} missing ${list(u.missing)}: ${u.escalated.length > 0 ? `escalated ${list(u.escalated)}, a person must fill it` : `would queue ${list(u.queued)}, in flight ${list(u.inFlight)}`}; the run would be held`,
          );
        printCheck(out, { analysis: report.analysis, decision: report.decision, policy: report.policy, processorName: processor, extra });
        out.line(`  ${out.c.dim('dry run: nothing was queued or recorded')}`);
      }
      // `run` would be held by the input (exit 3, or 4 when the input's gap is escalated); an
      // own escalation keeps its own code, as `run` returns it.
      if ((report.upstream ?? []).length > 0 && report.decision._tag !== 'Escalate')
        return report.upstream?.some((u) => u.escalated.length > 0) === true ? ExitCode.escalated : ExitCode.held;
      return decisionExitCode(report.decision);
    },
    { readOnly: true },
  );
};
