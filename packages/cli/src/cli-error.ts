import { ExitCode } from './exit-codes.js';

/**
 * An error the CLI reports as plain lines (one per problem) and an exit code,
 * never as a stack trace (unless `--verbose` or `DEBUG` asks for it).
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCode;
  /** One line per problem. The first line is also the message. */
  readonly lines: readonly string[];

  constructor(lines: string | readonly string[], exitCode: ExitCode = ExitCode.error, options?: { cause?: unknown }) {
    const all = typeof lines === 'string' ? [lines] : lines;
    super(`[smart-backfill] [cli] ${all[0] ?? 'error'}`, options);
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
