import { outcomeExitCode, outcomeJson, printOutcome, warnUndelivered } from '../format/outcome.js';
import { dateOption } from '../options.js';
import type { Output } from '../output.js';
import { jsonSafe, withRuntime } from './shared.js';

/** `run PROCESSOR --date D`: the guard, then the processor (or a hold, or an escalation). */
export const runCommand = async (out: Output, opts: Record<string, unknown>, args: readonly string[]): Promise<number> => {
  const name = args[0] as string;
  const date = dateOption('--date', opts['date']);
  return withRuntime(
    out,
    opts,
    async (rt) => {
      rt.processorConfig(name);
      const guard = await rt.guard(name);
      const isBackfill = opts['backfill'] === true;
      const trigger = isBackfill ? 'backfill' : opts['trigger'] === 'manual' ? 'manual' : 'scheduled';
      const outcome = await guard.run({ date, isBackfill, trigger });
      if (out.json) out.printJson(jsonSafe(outcomeJson(name, date, outcome)));
      else printOutcome(out, name, date, outcome);
      warnUndelivered(out, name, outcome);
      return outcomeExitCode(outcome);
    },
    { alerts: true },
  );
};
