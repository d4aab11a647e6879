import { afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '@smart-backfill/cli';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stderr lines, without blanks. */
  readonly errors: string[];
  json<T = unknown>(): T;
}

/** Run the CLI in-process with captured output. */
export const cli = async (
  argv: readonly string[],
  opts: { cwd?: string; stdin?: string; env?: Record<string, string>; tty?: boolean; signal?: AbortSignal } = {},
): Promise<RunResult> => {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s), isTTY: opts.tty ?? false, columns: 120 },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    readStdin: async () => opts.stdin ?? '',
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    signal: opts.signal,
  });
  return {
    code,
    stdout,
    stderr,
    errors: stderr.split('\n').filter((l) => l.trim() !== ''),
    json: <T>() => JSON.parse(stdout) as T,
  };
};

/** The built binary: a test that must see the CLI as a user's shell does (exit codes, signals, its own process) runs this. */
export const CLI_BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** Run the built CLI in a child process in `cwd`, without colour, and wait for it. */
export const runBuiltCli = (
  cwd: string,
  args: readonly string[],
): { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; errors: string[] } => {
  const r = spawnSync(process.execPath, [CLI_BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    errors: r.stderr.split('\n').filter((l) => l.trim() !== ''),
  };
};

/**
 * A processor of a test config: its schedule the `open` days of table `calendar` (`day`,
 * `state`), its target its own table by `dateColumn`, and a command that writes nothing.
 */
export const calendarProcessor = (
  name: string,
  dateColumn: string,
  opts: { readonly dependsOn?: readonly unknown[] | undefined; readonly lookbackDays?: number } = {},
) => ({
  name,
  schedule: { table: 'calendar', dateColumn: 'day', statusColumn: 'state', statuses: ['open'] },
  target: { table: name, dateColumn },
  policy: {
    lookbackDays: opts.lookbackDays ?? 7,
    criticalLookbackDays: opts.lookbackDays ?? 7,
    minRecordsPerDate: 1,
    autoBackfillThreshold: 3,
  },
  command: [process.execPath, '-e', '0'],
  ...(opts.dependsOn === undefined ? {} : { dependsOn: opts.dependsOn }),
});

/** A temp folder removed by the returned cleanup. */
export const tempDir = (prefix = 'sb-cli-'): { dir: string; cleanup: () => void; write: (name: string, content: unknown) => string } => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    write: (name, content) => {
      const p = join(dir, name);
      writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return p;
    },
  };
};

/**
 * Temp folders and fixtures removed after each test. Call once at the top of a
 * test file; `temp()` makes a folder, `track()` registers any other cleanup.
 */
export const cleanupAfterEach = (): { temp: (prefix?: string) => ReturnType<typeof tempDir>; track: (cleanup: () => void) => void } => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  return {
    temp: (prefix) => {
      const t = tempDir(prefix);
      cleanups.push(t.cleanup);
      return t;
    },
    track: (cleanup) => void cleanups.push(cleanup),
  };
};

/** The seed's scenario: Nov 15 missing, run on Nov 16. */
export const SEED_SCENARIO = {
  asOf: '2025-11-16',
  expectedDates: ['2025-11-13', '2025-11-14', '2025-11-15', '2025-11-16'],
  recordCounts: { '2025-11-13': 240, '2025-11-14': 251, '2025-11-16': 0 },
};
