// The demo's pipeline act, proved from what the built binary prints and the store it leaves:
// a raw day lost holds both downstream levels, one upstream backfill heals it, and each level
// is re-run once, in dependency order, with its trigger recorded.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

interface Rebuild {
  processor: string;
  date: string;
  trigger: string;
  after: { processor: string; dates: string[] }[];
}
interface Demo {
  dbPath: string;
  figures: {
    pipeline: {
      levels: string[];
      upstreamBackfills: { processor: string; date: string; queuedBy: string }[];
      rebuilt: Rebuild[];
      rebuiltMoreThanOnce: number;
      runsOnIncompleteInputs: number;
    };
  };
}
interface RunRow {
  run_id: string;
  processor_name: string;
  run_date: string;
  run_trigger: string;
  outcome: string;
  started_at: number;
  waits: string | null;
}

let demo: Demo;
let db: Database.Database;
let text: string;

beforeAll(() => {
  const env = { ...process.env, NO_COLOR: '1' };
  const json = spawnSync(process.execPath, [bin, 'demo', '--json', '--keep', '--no-report'], { encoding: 'utf8', env });
  expect(json.status, json.stderr).toBe(0);
  demo = JSON.parse(json.stdout) as Demo;
  db = new Database(demo.dbPath, { readonly: true });
  const printed = spawnSync(process.execPath, [bin, 'demo', '--no-report'], { encoding: 'utf8', env });
  expect(printed.status, printed.stderr).toBe(0);
  text = printed.stdout;
}, 240_000);

afterAll(() => {
  db?.close();
  if (demo !== undefined) rmSync(dirname(demo.dbPath), { recursive: true, force: true });
});

const runsOf = (where: string, ...args: string[]): RunRow[] =>
  db
    .prepare(
      `SELECT run_id, processor_name, run_date, run_trigger, outcome, started_at, json_extract(metadata, '$.waits') AS waits
       FROM analytics_processor_runs WHERE ${where} ORDER BY run_id`,
    )
    .all(...args) as RunRow[];

describe('demo: a raw day lost heals through three levels', () => {
  it('the store: one upstream backfill, both downstream levels held, then re-run once each, in order, trigger recorded', () => {
    const requests = db
      .prepare(
        "SELECT processor_name AS processor, game_date AS date, status, json_extract(metadata, '$.downstream') AS queuedBy FROM backfill_requests WHERE game_date = '2025-11-15'",
      )
      .all();
    expect(requests).toEqual([{ processor: 'box_scores', date: '2025-11-15', status: 'completed', queuedBy: 'player_game_summary' }]);
    const story = runsOf("run_date = '2025-11-15'").map((r) => [r.processor_name, r.run_trigger, r.outcome, r.waits]);
    expect(story).toEqual([
      ['box_scores', 'scheduled', 'failed', null],
      ['player_game_summary', 'scheduled', 'skipped', 'waits for box_scores 2025-11-15 (queued)'],
      ['team_rolling_10d', 'scheduled', 'skipped', 'waits for player_game_summary 2025-11-15 (in flight)'],
      ['box_scores', 'backfill', 'succeeded', null],
      ['player_game_summary', 'resume', 'succeeded', null],
      ['team_rolling_10d', 'resume', 'succeeded', null],
    ]);
  });

  it('the store: no downstream date re-run more than once, and no rolling date built before every day it reads was', () => {
    const reruns = db
      .prepare(
        `SELECT processor_name, run_date, count(*) AS n FROM analytics_processor_runs
         WHERE outcome = 'succeeded' AND run_trigger IN ('resume', 'cascade') GROUP BY processor_name, run_date HAVING n > 1`,
      )
      .all();
    expect(reruns).toEqual([]);
    // Every team_rolling_10d build came after a build of each game day of player_game_summary it reads (the date and the nine before).
    const summaries = runsOf("processor_name = 'player_game_summary' AND outcome = 'succeeded'");
    const gameDays = db.prepare("SELECT DISTINCT game_date FROM game_schedule WHERE game_status = 'Final'").pluck().all() as string[];
    const early: string[] = [];
    for (const r of runsOf("processor_name = 'team_rolling_10d' AND outcome = 'succeeded'")) {
      const from = new Date(Date.parse(`${r.run_date}T00:00:00Z`) - 9 * 86_400_000).toISOString().slice(0, 10);
      for (const d of gameDays.filter((x) => x >= from && x <= r.run_date))
        if (!summaries.some((s) => s.run_date === d && s.started_at <= r.started_at)) early.push(`${r.run_date} read ${d}`);
    }
    expect(early).toEqual([]);
  });

  it('the JSON figures: the upstream backfills, the rebuilds by level, none on incomplete inputs', () => {
    const p = demo.figures.pipeline;
    expect(p.levels).toEqual(['box_scores', 'player_game_summary', 'team_rolling_10d']);
    expect(p.upstreamBackfills.filter((b) => b.date === '2025-11-15')).toEqual([
      { processor: 'box_scores', date: '2025-11-15', queuedBy: 'player_game_summary' },
    ]);
    expect(p.rebuilt.filter((r) => r.date === '2025-11-15')).toEqual([
      {
        processor: 'player_game_summary',
        date: '2025-11-15',
        trigger: 'resume',
        after: [{ processor: 'box_scores', dates: ['2025-11-15'] }],
      },
      {
        processor: 'team_rolling_10d',
        date: '2025-11-15',
        trigger: 'resume',
        after: [{ processor: 'player_game_summary', dates: ['2025-11-15'] }],
      },
    ]);
    expect(p.rebuiltMoreThanOnce).toBe(0);
    expect(p.runsOnIncompleteInputs).toBe(0);
  });

  it('the printed story says what each held level waits for, and the heal flows down in order', () => {
    const act = text.slice(text.indexOf('box_scores Nov 15: x failed'), text.indexOf('Nov 16–'));
    expect(act).toMatch(/box_scores Nov 15: x failed: box score feed timed out \(HTTP 504\)/);
    expect(act).toMatch(
      /player_game_summary Nov 15: q held: waits for box_scores Nov 15 \(missing\) → backfill of box_scores Nov 15 queued/,
    );
    expect(act).toMatch(
      /team_rolling_10d Nov 15: q held: waits for player_game_summary Nov 15 \(missing\) → player_game_summary Nov 15 already on its way \(nothing queued\)/,
    );
    expect(act).toMatch(
      /worker: # filled box_scores Nov 15 \(\d+ rows\)\n\s+-> player_game_summary Nov 15 re-run \(trigger resume, after box_scores Nov 15\)\n\s+-> team_rolling_10d Nov 15 re-run \(trigger resume, after player_game_summary Nov 15\)/,
    );
    expect(act.match(/filled/g)).toHaveLength(1);
    expect(text).toMatch(/downstream dates rebuilt more than once: 0; downstream runs on incomplete inputs: 0/);
  });

  it("README.md's sample of the demo is what the demo prints", () => {
    const readme = readFileSync(join(fileURLToPath(new URL('../../../', import.meta.url)), 'README.md'), 'utf8');
    const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Wrap your processor'));
    const sample = /```text\n([\s\S]*?)```/.exec(quick)?.[1] ?? '';
    expect(sample).toContain('box_scores Nov 15');
    expect(text).toContain(sample);
  });
});
