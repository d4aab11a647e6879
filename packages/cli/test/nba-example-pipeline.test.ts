// examples/nba's second "Try it", through the built binary with the example's own config:
// a raw day lost holds both levels that read it, and one `worker --once` re-scrapes it and
// re-runs them once each, in dependency order.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');
const example = join(root, 'examples/nba');
// Inside the repository, so the example's modules find better-sqlite3 as a user's project would.
mkdirSync(join(root, 'test-artifacts'), { recursive: true });
const dir = mkdtempSync(join(root, 'test-artifacts', 'nba-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const node = (args: string[]) => {
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

describe('examples/nba: a raw day lost', () => {
  it('holds player_game_summary and team_rolling_10d, then one worker pass heals all three levels in order', () => {
    // The example's config as it ships, its module paths pointed back at the example folder.
    const cfg = JSON.parse(readFileSync(join(example, 'smart-backfill.config.json'), 'utf8')) as {
      store: { path: string };
      processors: { name: string; module: string; dependsOn?: unknown }[];
    };
    expect(cfg.processors.map((p) => [p.name, p.dependsOn])).toEqual([
      ['box_scores', undefined],
      ['player_game_summary', [{ processor: 'box_scores', lookbackDays: 0 }]],
      ['team_rolling_10d', [{ processor: 'player_game_summary', lookbackDays: 9 }]],
    ]);
    for (const p of cfg.processors) p.module = join(example, p.module);
    writeFileSync(join(dir, 'smart-backfill.config.json'), JSON.stringify(cfg));
    const db = join(dir, cfg.store.path);
    const gen = node([join(example, 'generate.mjs'), '--db', db, '--through', '2025-11-16', '--build', '--lose', '2025-11-15']);
    expect(gen.code, gen.out).toBe(0);

    const pgs = node([bin, 'run', 'player_game_summary', '--date', '2025-11-15']);
    expect(pgs.code, pgs.out).toBe(3);
    expect(pgs.out).toContain('held: waiting for box_scores 2025-11-15 (backfill queued)');
    const rolling = node([bin, 'run', 'team_rolling_10d', '--date', '2025-11-15']);
    expect(rolling.code, rolling.out).toBe(3);
    expect(rolling.out).toContain('held: waiting for player_game_summary 2025-11-15 (in flight)');
    const w = node([bin, 'worker', '--once']);
    expect(w.code, w.out).toBe(0);
    expect(w.out).toContain('filled box_scores 2025-11-15');

    const d = new Database(db, { readonly: true });
    try {
      const requests = d.prepare('SELECT processor_name, game_date, status FROM backfill_requests').all();
      expect(requests).toEqual([{ processor_name: 'box_scores', game_date: '2025-11-15', status: 'completed' }]);
      const succeeded = d
        .prepare(
          "SELECT processor_name, run_trigger FROM analytics_processor_runs WHERE run_date = '2025-11-15' AND outcome = 'succeeded' ORDER BY started_at, rowid",
        )
        .all();
      expect(succeeded).toEqual([
        { processor_name: 'box_scores', run_trigger: 'backfill' },
        { processor_name: 'player_game_summary', run_trigger: 'resume' },
        { processor_name: 'team_rolling_10d', run_trigger: 'resume' },
      ]);
      // Built from the whole day: every box score scraped is summarised, and every team that played has its averages.
      const count = (sql: string): number => d.prepare(sql).pluck().get() as number;
      expect(count("SELECT count(*) FROM player_game_summary WHERE game_date = '2025-11-15'")).toBe(
        count("SELECT count(*) FROM box_scores_raw WHERE game_date = '2025-11-15'"),
      );
      expect(count("SELECT count(*) FROM team_rolling_10d WHERE game_date = '2025-11-15'")).toBeGreaterThan(0);
    } finally {
      d.close();
    }
    const plan = node([bin, 'plan', '--from', '2025-11-01', '--to', '2025-11-15']);
    expect(plan.code, plan.out).toBe(0);
    expect(plan.out).toContain('nothing to do');
  }, 120_000);
});
