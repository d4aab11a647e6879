import { readFileSync } from 'node:fs';

/** Where a command writes. `isTTY` switches colours, the progress bar and the calendar symbols. */
export interface OutStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/**
 * Everything the CLI touches in the outside world, so tests run it in-process
 * with captured output (`main(argv, io)`).
 */
export interface CliIo {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  /** Reads all of standard input (for `--input -`). */
  readonly readStdin: () => Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /**
   * Asks a person a question and resolves with the typed line; `undefined` when no one
   * can answer (standard input is not a terminal). Prompts go to stderr.
   */
  readonly ask?: ((question: string) => Promise<string>) | undefined;
  /** Aborts long-running commands (`worker`); the binary wires SIGINT/SIGTERM to it. */
  readonly signal?: AbortSignal | undefined;
}

const readAllStdin = async (): Promise<string> => {
  if (process.stdin.isTTY) return readFileSync(0, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
};

const askOnTerminal = async (question: string): Promise<string> => {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
};

/** The real process streams. */
export const processIo = (signal?: AbortSignal): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin: readAllStdin,
  env: process.env,
  cwd: process.cwd(),
  ask: process.stdin.isTTY === true ? askOnTerminal : undefined,
  signal,
});
