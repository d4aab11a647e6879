import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '@smart-backfill/cli';
import { cli } from './helpers.js';
import { nbaFixture } from './nba-fixture.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let fx: ReturnType<typeof nbaFixture> | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

/** The CLI in-process on a terminal (stdin and stderr), answering prompts with `answer`. */
const onTerminal = async (argv: readonly string[], cwd: string, answer: string) => {
  let stdout = '';
  let stderr = '';
  const asked: string[] = [];
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: true, columns: 100 },
    readStdin: async () => '',
    env: {},
    cwd,
    ask: async (q) => {
      asked.push(q);
      return answer;
    },
  });
  return { code, stdout, stderr, asked };
};

const requests = (f: ReturnType<typeof nbaFixture>): string[] =>
  f.query<{ game_date: string }[]>('SELECT game_date FROM backfill_requests ORDER BY game_date').map((r) => r.game_date);

describe('backfill: only what is missing, unless forced', () => {
  it('a repeated backfill of complete dates queues nothing; --force rebuilds them', async () => {
    fx = nbaFixture({ skip: ['2025-11-05'] });
    const first = await cli(['backfill', 'player_game_summary', '--from', '2025-11-03', '--to', '2025-11-07', '--json'], { cwd: fx.dir });
    expect(first.json<{ queued: { date: string }[] }>().queued.map((r) => r.date)).toEqual(['2025-11-05']);
    expect((await cli(['worker', '--once'], { cwd: fx.dir })).code).toBe(0);
    const again = await cli(['backfill', 'player_game_summary', '--from', '2025-11-03', '--to', '2025-11-07', '--json'], { cwd: fx.dir });
    expect(again.json<{ queued: unknown[]; candidates: unknown[] }>()).toMatchObject({ queued: [], candidates: [] });
    const forced = await cli(['backfill', 'player_game_summary', '--from', '2025-11-03', '--to', '2025-11-07', '--force', '--json'], {
      cwd: fx.dir,
    });
    expect(forced.json<{ queued: unknown[] }>().queued.length).toBe(5);
    const both = await cli(['backfill', 'player_game_summary', '--from', '2025-11-03', '--to', '2025-11-07', '--force', '--only-missing'], {
      cwd: fx.dir,
    });
    expect(both.code).toBe(2);
  });
});

describe('backfill: asks before queueing many dates on a terminal', () => {
  const range = ['backfill', 'player_game_summary', '--from', '2025-10-22', '--to', '2025-11-15', '--force', '--confirm-above', '5'];

  it('queues nothing when the answer is not yes', async () => {
    fx = nbaFixture();
    const r = await onTerminal(range, fx.dir, 'n');
    expect(r.asked).toHaveLength(1);
    expect(r.asked[0]).toMatch(/^queue \d+ backfills of player_game_summary \(2025-10-22 … 2025-11-15\)\? .*\[y\/N\] $/);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not confirmed: nothing was queued');
    expect(requests(fx)).toEqual([]);
  });

  it('queues after a yes, and without asking with --yes or at or below the threshold', async () => {
    fx = nbaFixture();
    const yes = await onTerminal(range, fx.dir, 'y');
    expect(yes.code).toBe(0);
    expect(requests(fx).length).toBeGreaterThan(5);
    fx.exec('DELETE FROM backfill_requests');
    const flag = await onTerminal([...range, '--yes'], fx.dir, 'n');
    expect(flag.asked).toEqual([]);
    expect(flag.code).toBe(0);
    const few = await onTerminal(['backfill', 'player_game_summary', '--from', '2025-11-14', '--to', '2025-11-15', '--force'], fx.dir, 'n');
    expect(few.asked).toEqual([]);
  });

  it('without a terminal it asks nobody and goes ahead (the built binary, stdin a pipe)', () => {
    fx = nbaFixture();
    const r = spawnSync(process.execPath, [bin, ...range], {
      cwd: fx.dir,
      input: '',
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.stderr).not.toContain('[y/N]');
    expect(r.status).toBe(0);
    expect(requests(fx).length).toBeGreaterThan(5);
  });
});
