import { badInput } from '../cli-error.js';
import { decisionExitCode, printCheck } from '../format/check-report.js';
import { configOption, textOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import { checkPlain, decodeCheckInput, readCheckInput } from './check-input.js';

export interface CheckCommandOptions extends ConfigOption {
  /** A file of plain date sets, or `-` for standard input: the pure check. */
  readonly input: string | undefined;
  /** Read only by the store check, which requires it; with `--input` it must be absent. */
  readonly date: string | undefined;
}

const checkOptions = (raw: RawOptions): CheckCommandOptions => ({
  ...configOption(raw),
  input: textOption(raw, 'input'),
  date: textOption(raw, 'date'),
});

/** `check --input FILE|-` (pure) or `check PROCESSOR --date D` (dry run against the store). */
export const checkCommand = async (out: Output, raw: RawOptions, args: readonly string[]): Promise<number> => {
  const [processor] = args;
  const opts = checkOptions(raw);
  const input = opts.input;
  if (input !== undefined) {
    if (processor !== undefined || opts.date !== undefined) {
      throw badInput('check: give either --input FILE (plain date sets) or PROCESSOR --date D (the configured store), not both');
    }
    const parsed = decodeCheckInput(await readCheckInput(input, out.io));
    const result = checkPlain(parsed);
    if (out.json) out.printJson({ analysis: result.analysis, decision: result.decision });
    else printCheck(out, { ...result, policy: parsed.policy });
    return decisionExitCode(result.decision);
  }
  if (processor === undefined) throw badInput('check: give --input FILE (or - for standard input), or PROCESSOR --date YYYY-MM-DD');
  // The store path loads the engine and adapters; the pure check above never does.
  const { checkStoreCommand } = await import('./check-store.js');
  return checkStoreCommand(out, opts, processor);
};
