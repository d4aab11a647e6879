import type { IsoDate, RunTrigger } from '@smart-backfill/core';
import { outcomeExitCode, outcomeJson, printOutcome, warnUndelivered } from '../format/outcome.js';
import { configOption, dateOption, switchOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import { jsonSafe, withRuntime } from './shared.js';

interface RunCommandOptions extends ConfigOption {
  readonly date: IsoDate;
  /** `--backfill` wins over `--trigger`: a backfill must not wait for itself. */
  readonly trigger: RunTrigger;
}

const runOptions = (raw: RawOptions): RunCommandOptions => ({
  ...configOption(raw),
  date: dateOption('--date', raw['date']),
  trigger: switchOption(raw, 'backfill') ? 'backfill' : raw['trigger'] === 'manual' ? 'manual' : 'scheduled',
});

/** `run PROCESSOR --date D`: the guard, then the processor (or a hold, or an escalation). */
export const runCommand = async (out: Output, raw: RawOptions, args: readonly string[]): Promise<number> => {
  const name = args[0] as string;
  const opts = runOptions(raw);
  const { date, trigger } = opts;
  return withRuntime(
    out,
    opts,
    async (rt) => {
      rt.processorConfig(name);
      const guard = await rt.guard(name);
      const isBackfill = trigger === 'backfill';
      const outcome = await guard.run({ date, isBackfill, trigger });
      if (out.json) out.printJson(jsonSafe(outcomeJson(name, date, outcome)));
      else printOutcome(out, name, date, outcome);
      warnUndelivered(out, name, outcome);
      return outcomeExitCode(outcome);
    },
    { alerts: true },
  );
};
