import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { nbaFixture } from './nba-fixture.js';

type Fixture = ReturnType<typeof nbaFixture>;
let fx: Fixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

interface CheckReportJson {
  wouldQueue: string[];
  inFlight: string[];
  wouldHold: boolean;
  decision: { _tag: string };
}
interface StatusJson {
  processors: {
    name: string;
    openRequests: { date: string; status: string; requestType: string }[];
    heldRuns: { runDate: string; waitingFor: string[] }[];
    openAlerts: { missingDates: string[] }[];
    calendar: { days: { date: string; state: string }[] };
  }[];
}

describe('check / run / worker / status on a SQLite file', () => {
  it('the seed scenario end to end: dry run, held run, worker fills, held run resumes', async () => {
    fx = nbaFixture({ skip: ['2025-11-15'] });
    const cwd = fx.dir;

    const dry = await cli(['check', 'player_game_summary', '--date', '2025-11-16', '--json'], { cwd });
    expect(dry.code).toBe(3);
    expect(dry.json<CheckReportJson>()).toMatchObject({
      wouldQueue: ['2025-11-15'],
      inFlight: [],
      wouldHold: true,
      decision: { _tag: 'Backfill' },
    });
    // A dry run writes nothing.
    const before = await cli(['status', 'player_game_summary', '--json', '--today', '2025-11-16'], { cwd });
    expect(before.json<StatusJson>().processors[0]?.openRequests).toEqual([]);

    const held = await cli(['run', 'player_game_summary', '--date', '2025-11-16', '--json'], { cwd });
    expect(held.code).toBe(3);
    const outcome = held.json<{ outcome: { _tag: string; queued: { date: string }[] } }>().outcome;
    expect(outcome._tag).toBe('Held');
    expect(outcome.queued.map((r) => r.date)).toEqual(['2025-11-15']);

    // The dry run now shows the in-flight dedupe: nothing new would be queued.
    const again = await cli(['check', 'player_game_summary', '--date', '2025-11-16', '--json'], { cwd });
    expect(again.json<CheckReportJson>()).toMatchObject({ wouldQueue: [], inFlight: ['2025-11-15'] });

    const status = (await cli(['status', '--json', '--today', '2025-11-16'], { cwd })).json<StatusJson>();
    const p = status.processors.find((x) => x.name === 'player_game_summary');
    expect(p?.openRequests.map((r) => [r.date, r.status, r.requestType])).toEqual([['2025-11-15', 'queued', 'auto']]);
    expect(p?.heldRuns.map((h) => [h.runDate, h.waitingFor])).toEqual([['2025-11-16', ['2025-11-15']]]);
    expect(p?.calendar.days.find((d) => d.date === '2025-11-15')?.state).toBe('queued');

    const worker = await cli(['worker', '--once', '--json'], { cwd });
    expect(worker.code).toBe(0);
    const lines = worker.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l['_tag'] === 'Completed')).toMatchObject({ resumed: ['2025-11-16'] });
    expect(lines.at(-1)).toEqual({ summary: { completed: 1, retrying: 0, failed: 0, resumed: 1, other: 0 } });
    expect(fx.rows('2025-11-15')).toBeGreaterThanOrEqual(30);
    expect(fx.rows('2025-11-16')).toBeGreaterThanOrEqual(30);

    const after = (await cli(['status', 'player_game_summary', '--json', '--today', '2025-11-16'], { cwd })).json<StatusJson>();
    expect(after.processors[0]?.openRequests).toEqual([]);
    expect(after.processors[0]?.heldRuns).toEqual([]);
    expect(after.processors[0]?.calendar.days.find((d) => d.date === '2025-11-15')?.state).toBe('complete');

    const ran = await cli(['run', 'player_game_summary', '--date', '2025-11-16', '--trigger', 'manual'], { cwd });
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/player_game_summary 2025-11-16\s+ran \(no gaps\)/);
  });

  it('a dry run never loads or runs the processor (a module with import side effects stays untouched)', async () => {
    fx = nbaFixture({ skip: ['2025-11-15'] });
    const marker = join(fx.dir, 'imported.txt');
    fx.write(
      'side-effect.mjs',
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'loaded');\nexport const run = () => { throw new Error('must not run'); };\n`,
    );
    const first = fx.config.processors[0] as Record<string, unknown>;
    fx.write('smart-backfill.config.json', { ...fx.config, processors: [{ ...first, module: './side-effect.mjs' }] });
    const dry = await cli(['check', 'player_game_summary', '--date', '2025-11-16', '--json'], { cwd: fx.dir });
    expect(dry.code).toBe(3);
    expect(dry.json<CheckReportJson>()).toMatchObject({ wouldQueue: ['2025-11-15'], decision: { _tag: 'Backfill' } });
    expect(existsSync(marker)).toBe(false);
  });

  it('human status shows requests, held runs and a plain-symbol calendar with a legend', async () => {
    fx = nbaFixture({ skip: ['2025-11-15'] });
    expect((await cli(['run', 'player_game_summary', '--date', '2025-11-16'], { cwd: fx.dir })).code).toBe(3);
    const r = await cli(['status', 'player_game_summary', '--today', '2025-11-16', '--weeks', '2'], { cwd: fx.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('held run 2025-11-16 (backfill queued), waiting for 2025-11-15');
    expect(r.stdout).toMatch(/2025-11-15\s+queued\s+auto/);
    expect(r.stdout).toMatch(/Nov 10 .*#.*q/);
    expect(r.stdout).toContain('# complete  ~ incomplete  o missing  q queued  p processing  x failed  ! escalated  . nothing scheduled');
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it('escalates a large gap once (exit 4), not on every run', async () => {
    fx = nbaFixture({ skip: ['2025-11-10', '2025-11-11', '2025-11-12', '2025-11-13', '2025-11-14'] });
    const first = await cli(['run', 'player_game_summary', '--date', '2025-11-16', '--json'], { cwd: fx.dir });
    expect(first.code).toBe(4);
    expect(first.json<{ outcome: { _tag: string; alerted: boolean } }>().outcome).toMatchObject({ _tag: 'Escalated', alerted: true });
    // The default alert channel is a log line on stderr.
    expect(first.stderr).toContain('smart_backfill.alert');
    const second = await cli(['run', 'player_game_summary', '--date', '2025-11-16', '--json'], { cwd: fx.dir });
    expect(second.code).toBe(4);
    expect(second.json<{ outcome: { alerted: boolean } }>().outcome.alerted).toBe(false);
    expect(second.stderr).not.toContain('smart_backfill.alert');
    const status = (await cli(['status', '--json', '--today', '2025-11-16'], { cwd: fx.dir })).json<StatusJson>();
    const p = status.processors.find((x) => x.name === 'player_game_summary');
    expect(p?.openAlerts).toHaveLength(1);
    expect(p?.calendar.days.find((d) => d.date === '2025-11-12')?.state).toBe('escalated');
  });

  it('backfill: --dry-run lists, --only-missing queues only gaps, twice never queues twice, the worker fills them', async () => {
    fx = nbaFixture({ skip: ['2025-11-03', '2025-11-05'] });
    const cwd = fx.dir;
    const dry = await cli(
      ['backfill', 'player_game_summary', '--from', '2025-11-01', '--to', '2025-11-07', '--force', '--dry-run', '--json'],
      { cwd },
    );
    expect(dry.code).toBe(0);
    const plan = dry.json<{ toQueue: string[]; candidates: string[] }>();
    expect(plan.toQueue.length).toBeGreaterThan(2);
    expect(plan.toQueue).toEqual(plan.candidates);

    const missingDry = await cli(
      ['backfill', 'player_game_summary', '--from', '2025-11-01', '--to', '2025-11-07', '--only-missing', '--dry-run'],
      { cwd },
    );
    expect(missingDry.stdout).toMatch(/would queue\s+2025-11-03, 2025-11-05/);
    expect((await cli(['status', '--json', '--today', '2025-11-16'], { cwd })).json<StatusJson>().processors[0]?.openRequests).toEqual([]);

    const queued = await cli(
      ['backfill', 'player_game_summary', '--from', '2025-11-01', '--to', '2025-11-07', '--only-missing', '--json', '--by', 'ops'],
      { cwd },
    );
    expect(queued.code).toBe(0);
    expect(queued.json<{ queued: { date: string }[] }>().queued.map((r) => r.date)).toEqual(['2025-11-03', '2025-11-05']);
    const twice = await cli(['backfill', 'player_game_summary', '--from', '2025-11-01', '--to', '2025-11-07', '--only-missing', '--json'], {
      cwd,
    });
    expect(twice.json<{ queued: unknown[]; inFlight: string[] }>()).toMatchObject({ queued: [], inFlight: ['2025-11-03', '2025-11-05'] });

    const open = (await cli(['status', '--json', '--today', '2025-11-16'], { cwd })).json<StatusJson>().processors[0]?.openRequests;
    expect(open?.map((r) => [r.date, r.requestType])).toEqual(
      expect.arrayContaining([
        ['2025-11-03', 'manual'],
        ['2025-11-05', 'manual'],
      ]),
    );
    const w = await cli(['worker', '--once'], { cwd });
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/done: 2 filled/);
    expect(fx.rows('2025-11-03')).toBeGreaterThanOrEqual(30);
    expect(fx.rows('2025-11-05')).toBeGreaterThanOrEqual(30);
  });

  it('backfill rejects a reversed or oversized range (exit 2)', async () => {
    fx = nbaFixture();
    const rev = await cli(['backfill', 'player_game_summary', '--from', '2025-11-07', '--to', '2025-11-01'], { cwd: fx.dir });
    expect(rev.code).toBe(2);
    expect(rev.errors).toEqual(['error: --to (2025-11-01) is before --from (2025-11-07)']);
    const big = await cli(['backfill', 'player_game_summary', '--from', '2024-01-01', '--to', '2025-11-01'], { cwd: fx.dir });
    expect(big.code).toBe(2);
    const bad = await cli(['backfill', 'player_game_summary', '--from', '2025-11-31', '--to', '2025-12-01'], { cwd: fx.dir });
    expect(bad.errors[0]).toMatch(/^error: --from: "2025-11-31" is not a calendar date/);
  });

  it('a command processor runs without a shell; its failure exits 1 with its last stderr line', async () => {
    fx = nbaFixture({ skip: ['2025-11-14'] });
    const ok = await cli(['run', 'summary_cmd', '--date', '2025-11-14', '--backfill'], { cwd: fx.dir });
    expect(ok.code).toBe(0);
    expect(fx.rows('2025-11-14')).toBeGreaterThanOrEqual(30);
    const failing = await cli(['run', 'summary_fail', '--date', '2025-11-16', '--backfill', '--json'], { cwd: fx.dir });
    expect(failing.code).toBe(1);
    const o = failing.json<{ outcome: { _tag: string; stage: string; error: { message: string } } }>().outcome;
    expect(o).toMatchObject({ _tag: 'Failed', stage: 'run' });
    expect(o.error.message).toMatch(/exited with code 7: upstream returned 503 for 2025-11-16$/);
    // The child's own output went to stderr, never into the JSON on stdout.
    expect(failing.stderr).toContain('warming up');
  });
});
