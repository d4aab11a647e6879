import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { nbaFixture } from './nba-fixture.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let fx: ReturnType<typeof nbaFixture> | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

/** `worker --once` under a pseudo-terminal (util-linux `script`), so stdout and stderr are TTYs. */
const onPty = (cwd: string): string =>
  spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} worker --once`, '/dev/null'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  }).stdout;
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasScript)('worker --once shows progress on a terminal for a long queue', () => {
  it('draws a bar for 20+ backfills and none for a few', async () => {
    fx = nbaFixture();
    const q = await cli(['backfill', 'player_game_summary', '--from', '2025-10-22', '--to', '2025-11-15', '--force', '--yes'], {
      cwd: fx.dir,
    });
    expect(q.code).toBe(0);
    const long = onPty(fx.dir);
    expect(long).toMatch(/backfills .* 1\/2\d/);
    expect(long).toMatch(/done: 2\d filled/);
    expect(long).toContain('filled player_game_summary 2025-10-22');
    await cli(['backfill', 'player_game_summary', '--from', '2025-11-10', '--to', '2025-11-12', '--force', '--yes'], { cwd: fx.dir });
    const short = onPty(fx.dir);
    expect(short).toMatch(/done: 3 filled/);
    expect(short).not.toContain('backfills ');
  });
});
