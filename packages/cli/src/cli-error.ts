import { isSmartBackfillError, SmartBackfillError, type SmartBackfillErrorCode } from '@smart-backfill/core';
import { ExitCode } from './exit-codes.js';

/**
 * The code a CLI error carries when none is given: its cause's (a lock held too long
 * stays `contention`, a damaged file `corrupt`), else what its exit code means — exit 2
 * is "fix the call or the config", core's `invalid_config` (a flag is the call's
 * configuration, so argv and config file problems share it); any other exit is
 * something outside that failed, `unavailable`.
 */
const codeOf = (exitCode: ExitCode, cause: unknown): SmartBackfillErrorCode => {
  if (isSmartBackfillError(cause)) return cause.code;
  return exitCode === ExitCode.badInput ? 'invalid_config' : 'unavailable';
};

/**
 * An error the CLI reports as plain lines (one per problem) and an exit code,
 * never as a stack trace (unless `--verbose` or `DEBUG` asks for it). A
 * `SmartBackfillError` like every package's edge error (`[smart-backfill] [cli] …`),
 * so code embedding `main` or the config helpers branches on `code` as elsewhere;
 * the exit code is what the process returns, the `code` what kind of problem it is.
 */
export class CliError extends SmartBackfillError {
  override readonly name: string = 'CliError';
  readonly exitCode: ExitCode;
  /** One line per problem. The first line is also the message. */
  readonly lines: readonly string[];

  constructor(
    lines: string | readonly string[],
    exitCode: ExitCode = ExitCode.error,
    options?: { readonly cause?: unknown; readonly code?: SmartBackfillErrorCode },
  ) {
    const all = typeof lines === 'string' ? [lines] : lines;
    super(options?.code ?? codeOf(exitCode, options?.cause), all[0] ?? 'error', { origin: 'cli', cause: options?.cause });
    this.lines = all;
    this.exitCode = exitCode;
  }
}

/** Bad input or config: exit 2. */
export const badInput = (lines: string | readonly string[], cause?: unknown): CliError =>
  new CliError(lines, ExitCode.badInput, cause === undefined ? undefined : { cause });

/** A message for any thrown value, without its stack. */
export const messageOf = (e: unknown): string => {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
};
