import { spawn } from 'node:child_process';
import type { Processor, RunOptions } from '@smart-backfill/engine';
import { splitCommand, substitute } from './split-command.js';

export interface CommandProcessorOptions {
  readonly name: string;
  readonly command: string | readonly string[];
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly timeoutMs?: number | undefined;
  /** Receives the child's output as it comes (the CLI forwards it to stderr so stdout stays clean). */
  readonly onOutput?: ((chunk: string, stream: 'stdout' | 'stderr') => void) | undefined;
}

export interface CommandResult {
  readonly exitCode: 0;
  readonly argv: readonly string[];
  readonly durationMs: number;
}

const TAIL = 4096;
const tail = (s: string): string => (s.length > TAIL ? s.slice(-TAIL) : s);
const lastLine = (s: string): string =>
  s
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1) ?? '';

/**
 * A processor that runs a program per date, spawned without a shell: the template
 * is split into argv once and `{date}` / `{processor}` are substituted inside words,
 * so a date or a name can never become shell syntax. Exit 0 is success; anything
 * else fails the run with the last line the program wrote to stderr.
 */
export const commandProcessor = (opts: CommandProcessorOptions): Processor => {
  const template = typeof opts.command === 'string' ? splitCommand(opts.command) : { ok: true as const, argv: [...opts.command] };
  if (!template.ok) throw new Error(`[smart-backfill] [cli] processor "${opts.name}": command: ${template.problem}`);
  return {
    name: opts.name,
    run: (run: RunOptions) =>
      new Promise<CommandResult>((resolve, reject) => {
        const argv = substitute(template.argv, { date: run.date, processor: opts.name });
        const [file, ...args] = argv as [string, ...string[]];
        const started = Date.now();
        let stderr = '';
        const child = spawn(file, args, {
          cwd: opts.cwd,
          shell: false,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            ...opts.env,
            SMART_BACKFILL_PROCESSOR: opts.name,
            SMART_BACKFILL_DATE: run.date,
            SMART_BACKFILL_IS_BACKFILL: run.isBackfill === true ? '1' : '0',
            SMART_BACKFILL_TRIGGER: run.trigger ?? 'scheduled',
            ...(run.requestId !== undefined ? { SMART_BACKFILL_REQUEST_ID: run.requestId } : {}),
            ...(run.attempt !== undefined ? { SMART_BACKFILL_ATTEMPT: String(run.attempt) } : {}),
          },
          ...(run.signal !== undefined ? { signal: run.signal } : {}),
          ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs, killSignal: 'SIGTERM' as const } : {}),
        });
        child.stdout.setEncoding('utf8');
        child.stderr.setEncoding('utf8');
        child.stdout.on('data', (d: string) => opts.onOutput?.(d, 'stdout'));
        child.stderr.on('data', (d: string) => {
          stderr = tail(stderr + d);
          opts.onOutput?.(d, 'stderr');
        });
        child.on('error', (e: NodeJS.ErrnoException) => {
          reject(
            e.code === 'ENOENT'
              ? new Error(`command not found: ${JSON.stringify(file)} (processor "${opts.name}")`, { cause: e })
              : new Error(`could not run ${JSON.stringify(file)}: ${e.message}`, { cause: e }),
          );
        });
        child.on('close', (code, signal) => {
          if (code === 0) resolve({ exitCode: 0, argv, durationMs: Date.now() - started });
          else {
            const why = signal !== null ? `was killed by ${signal}` : `exited with code ${String(code)}`;
            const last = lastLine(stderr);
            reject(new Error(`${file} ${why}${last !== '' ? `: ${last}` : ''}`));
          }
        });
      }),
  };
};
