import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { SEED_SCENARIO, tempDir } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

const run = (args: string[], opts: { input?: string; cwd?: string } = {}) => {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: opts.cwd ?? root,
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('the built binary', () => {
  beforeAll(() => {
    // `npm test` builds first; a bare `vitest run --project cli` may not have.
    if (!existsSync(bin)) {
      const b = spawnSync(
        process.execPath,
        [fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url)), '-b', 'packages/cli'],
        { cwd: root, encoding: 'utf8' },
      );
      if (b.status !== 0) throw new Error(`build failed: ${b.stdout}${b.stderr}`);
    }
  });

  it('check --input on the seed scenario from a file and from stdin: exit 3', () => {
    const t = tempDir();
    try {
      const file = t.write('s.json', SEED_SCENARIO);
      const human = run(['check', '--input', file]);
      expect(human.code).toBe(3);
      expect(human.stdout).toMatch(/decision\s+Backfill 2025-11-15, hold the run/);
      const json = run(['check', '--input', '-', '--json'], { input: JSON.stringify(SEED_SCENARIO) });
      expect(json.code).toBe(3);
      expect((JSON.parse(json.stdout) as { decision: unknown }).decision).toEqual({
        _tag: 'Backfill',
        toQueue: ['2025-11-15'],
        inFlight: [],
        holdRun: true,
      });
    } finally {
      t.cleanup();
    }
  });

  it('bad input exits 2 with one line per problem and no stack trace', () => {
    const r = run(['check', '--input', '-'], { input: JSON.stringify({ ...SEED_SCENARIO, expectedDates: ['2025-02-30', 'x'] }) });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'error: expectedDates[0]: "2025-02-30" is not a calendar date in YYYY-MM-DD form (day must be 01–28 in that month)',
      'error: expectedDates[1]: "x" is not a calendar date in YYYY-MM-DD form (expected exactly 10 characters)',
    ]);
  });

  it('--version and --help exit 0; an unknown option exits 2', () => {
    expect(run(['--version']).stdout.trim()).toBe('0.1.0');
    expect(run(['--help']).code).toBe(0);
    expect(run(['check', '--frobnicate']).code).toBe(2);
  });

  it('a SQLite store loads better-sqlite3 and never the Google SDKs', () => {
    const t = tempDir();
    try {
      t.write('smart-backfill.config.json', {
        store: { type: 'sqlite', path: './s.db' },
        processors: [{ name: 'p', schedule: { table: 'sched', dateColumn: 'd' }, target: { table: 'tgt', dateColumn: 'd' } }],
      });
      const probe = `
        const { main } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
        const code = await main(['init', '--force'], { cwd: ${JSON.stringify(t.dir)}, stdout: { write() {} } });
        const { createRequire } = await import('node:module');
        const loaded = Object.keys(createRequire(import.meta.url).cache);
        console.log(JSON.stringify({ code, sqlite: loaded.some((p) => p.includes('better-sqlite3')), google: loaded.filter((p) => /@google-cloud|grpc/.test(p)) }));
      `;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8' });
      expect(JSON.parse(r.stdout.trim())).toEqual({ code: 0, sqlite: true, google: [] });
    } finally {
      t.cleanup();
    }
  });

  it('the pure check does not load the engine, the stores or the Google SDKs', () => {
    const probe = `
      const { main } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const code = await main(['check', '--input', '-', '--json'], { readStdin: async () => ${JSON.stringify(JSON.stringify(SEED_SCENARIO))}, stdout: { write() {} } });
      const { createRequire } = await import('node:module');
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ code, heavy: loaded.filter((p) => /better-sqlite3|@google-cloud|grpc/.test(p)) }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(r.stdout.trim())).toEqual({ code: 3, heavy: [] });
  });
});
