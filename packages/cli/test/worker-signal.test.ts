import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { nbaFixture } from './nba-fixture.js';

let fx: ReturnType<typeof nbaFixture> | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

describe('worker (long-running)', () => {
  it('processes the queue, then stops gracefully when its signal aborts (SIGINT/SIGTERM in the binary)', async () => {
    fx = nbaFixture({ skip: ['2025-11-15'], configExtra: { worker: { pollIntervalMs: 20 } } });
    expect((await cli(['run', 'player_game_summary', '--date', '2025-11-16'], { cwd: fx.dir })).code).toBe(3);
    const stop = new AbortController();
    const fixture = fx;
    const running = cli(['worker', '--concurrency', '2'], { cwd: fx.dir, signal: stop.signal });
    // Abort once the held run has resumed (polling the database, not the clock).
    for (let i = 0; i < 500 && fixture.rows('2025-11-16') === 0; i++) await new Promise((r) => setTimeout(r, 20));
    stop.abort('SIGTERM');
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/filled player_game_summary 2025-11-15 \(attempt 1\); resumed held run 2025-11-16/);
    expect(r.stdout).toMatch(/stopped: 1 filled, 1 held run\(s\) resumed/);
    expect(fixture.rows('2025-11-16')).toBeGreaterThanOrEqual(30);
  });

  it('rejects a bad --concurrency with exit 2', async () => {
    fx = nbaFixture();
    const r = await cli(['worker', '--once', '--concurrency', 'lots'], { cwd: fx.dir });
    expect(r.code).toBe(2);
    expect(r.errors).toEqual(['error: --concurrency: expected a whole number from 1 to 64, got "lots"']);
  });

  it('runs --concurrency 16 without a MaxListenersExceededWarning (the built binary)', async () => {
    fx = nbaFixture({ skip: ['2025-11-14', '2025-11-15'], configExtra: { worker: { pollIntervalMs: 20 } } });
    expect((await cli(['run', 'player_game_summary', '--date', '2025-11-16'], { cwd: fx.dir })).code).toBe(3);
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    const once = spawnSync(process.execPath, [bin, 'worker', '--once', '--concurrency', '16'], { cwd: fx.dir, encoding: 'utf8' });
    expect(once.stderr).not.toMatch(/MaxListenersExceededWarning/);
    expect(once.status).toBe(0);
    // The long-running loop sleeps on the stop signal between polls: that is where listeners piled up.
    const child = spawn(process.execPath, [bin, 'worker', '--concurrency', '16'], { cwd: fx.dir });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 500 && !stdout.includes('worker started'); i++) await new Promise((r) => setTimeout(r, 20));
    // Let it idle through several polls (a wait, not a timed assertion: the warning prints on the first).
    for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/MaxListenersExceededWarning/);
  });
});
