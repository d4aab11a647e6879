import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_BIN, runBuiltCli } from './helpers.js';
import { EXAMPLE_PROCESSOR, nbaFixture } from './nba-fixture.js';

let fx: ReturnType<typeof nbaFixture> | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

interface HeldRow {
  status: string;
  claimed_by: string | null;
  lease_until: number | null;
  claims: number;
  resume_run_id: string | null;
}

describe('a worker killed (SIGKILL) while resuming a held run', () => {
  it('leaves the run visible as being resumed; after the lease the next worker --once resumes it exactly once', () => {
    if (!existsSync(CLI_BIN)) throw new Error(`build first: ${CLI_BIN} is missing`);
    fx = nbaFixture({ skip: ['2025-11-15'] });
    const marker = join(fx.dir, 'killed-once');
    // The example processor, except that its first resume kills its own process, mid-run.
    fx.write(
      'killer.mjs',
      `import { existsSync, writeFileSync } from 'node:fs';
import { run as build } from ${JSON.stringify(pathToFileURL(EXAMPLE_PROCESSOR).href)};
export async function run(opts) {
  if (opts.trigger === 'resume' && !existsSync(${JSON.stringify(marker)})) {
    writeFileSync(${JSON.stringify(marker)}, String(process.pid));
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => {});
  }
  return build(opts);
}
`,
    );
    const [first, ...rest] = fx.config.processors;
    fx.write('smart-backfill.config.json', { ...fx.config, processors: [{ ...first, module: './killer.mjs' }, ...rest] });
    const held = () =>
      fx!.query<HeldRow[]>("SELECT * FROM held_runs WHERE processor_name = 'player_game_summary' AND run_date = '2025-11-16'");
    const resumeRuns = () =>
      fx!.query<{ run_id: string; outcome: string }[]>(
        "SELECT run_id, outcome FROM analytics_processor_runs WHERE run_trigger = 'resume' AND run_date = '2025-11-16'",
      );

    expect(runBuiltCli(fx.dir, ['run', 'player_game_summary', '--date', '2025-11-16']).code).toBe(3);
    const killed = runBuiltCli(fx.dir, ['worker', '--once']);
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(marker)).toBe(true);
    expect(fx.rows('2025-11-15')).toBeGreaterThanOrEqual(30); // the backfill finished before the resume
    expect(fx.rows('2025-11-16')).toBe(0);

    // Not lost: claimed by the dead worker, and `status` says so.
    expect(held()).toMatchObject([{ status: 'resuming', claims: 1, resume_run_id: null }]);
    expect(held()[0]!.claimed_by).toMatch(/:\d+$/);
    expect(runBuiltCli(fx.dir, ['status', 'player_game_summary']).stdout).toMatch(/held run 2025-11-16 being resumed by \S+ since/);
    // Before the lease ends a worker leaves it alone (its resumer may only be slow).
    expect(runBuiltCli(fx.dir, ['worker', '--once']).code).toBe(0);
    expect(held()).toMatchObject([{ status: 'resuming', claims: 1 }]);

    // The lease ends (moved back rather than waited for).
    fx.exec("UPDATE held_runs SET lease_until = lease_until - 3600000 WHERE run_date = '2025-11-16'");
    expect(runBuiltCli(fx.dir, ['status', 'player_game_summary']).stdout).toMatch(
      /held run 2025-11-16: resume by \S+ lapsed at .* re-runs it/,
    );
    const status = JSON.parse(runBuiltCli(fx.dir, ['status', 'player_game_summary', '--json']).stdout) as {
      processors: { heldRuns: { runDate: string; status: string; claimLapsed: boolean }[] }[];
    };
    expect(status.processors[0]!.heldRuns).toMatchObject([{ runDate: '2025-11-16', status: 'resuming', claimLapsed: true }]);

    expect(runBuiltCli(fx.dir, ['worker', '--once']).code).toBe(0);
    expect(fx.rows('2025-11-16')).toBeGreaterThanOrEqual(30);
    const runs = resumeRuns();
    expect(runs).toMatchObject([{ outcome: 'succeeded' }]);
    expect(held()).toMatchObject([{ status: 'resumed', claims: 2, resume_run_id: runs[0]!.run_id }]);

    // And never again.
    expect(runBuiltCli(fx.dir, ['worker', '--once']).code).toBe(0);
    expect(resumeRuns()).toHaveLength(1);
    expect(runBuiltCli(fx.dir, ['status', 'player_game_summary']).stdout).not.toMatch(/held run 2025-11-16/);
  }, 120_000); // seven processes, one after the other, on a shared machine
});
