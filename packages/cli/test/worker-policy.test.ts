import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { nbaFixture } from './nba-fixture.js';

type Fixture = ReturnType<typeof nbaFixture>;
let fx: Fixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

/** A command processor that always fails, retryably, with its own `maxAttempts`. */
const alwaysFailing = (name: string, maxAttempts: number) => ({
  name,
  schedule: { table: 'game_schedule', dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final', 'Completed'] },
  target: { table: 'player_game_summary', dateColumn: 'game_date' },
  policy: { minRecordsPerDate: 30, maxAttempts },
  command: ['node', '-e', `console.error('upstream returned 503 for ' + process.argv[1]); process.exit(7)`, '{date}'],
});

describe('worker: each processor under its own policy', () => {
  it('gives up on each processor after its own maxAttempts, not the largest configured', async () => {
    fx = nbaFixture({
      skip: ['2025-11-15'],
      configExtra: {
        processors: [alwaysFailing('fails_twice', 2), alwaysFailing('fails_four_times', 4)],
        // No backoff: `--once` keeps taking the retries until each request is failed for good.
        worker: { backoff: { baseMs: 0, maxMs: 0 } },
      },
    });
    const cwd = fx.dir;
    for (const name of ['fails_twice', 'fails_four_times']) {
      const q = await cli(['backfill', name, '--from', '2025-11-15', '--to', '2025-11-15', '--json'], { cwd });
      expect(q.code).toBe(0);
      expect(q.json<{ queued: { date: string }[] }>().queued.map((r) => r.date)).toEqual(['2025-11-15']);
    }

    const w = await cli(['worker', '--once'], { cwd });
    expect(w.code).toBe(1);
    const lines = (name: string) =>
      w.stdout
        .split('\n')
        .filter((l) => l.includes(` ${name} 2025-11-15 `))
        .map((l) => l.replace(/^\S+ /, '').replace(/:.*$/, ''));
    expect(lines('fails_twice')).toEqual([
      'failed fails_twice 2025-11-15 (attempt 1)',
      'gave up on fails_twice 2025-11-15 after attempt 2',
    ]);
    expect(lines('fails_four_times')).toEqual([
      'failed fails_four_times 2025-11-15 (attempt 1)',
      'failed fails_four_times 2025-11-15 (attempt 2)',
      'failed fails_four_times 2025-11-15 (attempt 3)',
      'gave up on fails_four_times 2025-11-15 after attempt 4',
    ]);
    expect(w.stdout).toMatch(/done: 0 filled, 0 held run\(s\) resumed, 4 retrying, 2 failed/);
    expect(w.stdout).toContain('upstream returned 503 for 2025-11-15');
  });
});
