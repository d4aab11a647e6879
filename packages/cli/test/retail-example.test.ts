/**
 * The second example, end to end through the built binary, as a shop would use it: its
 * own warehouse (`calendar(day, state)` open/closed, `orders_daily(order_date, store_id,
 * amount)` built from point-of-sale uploads), one day never built, one built half-way.
 * init → a status mismatch (refused) → check (writes nothing) → run (held) → worker
 * (fills, resumes) → status → a manual rebuild of healthy days → assess → report, with the
 * output and the databases checked at every step.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runBuiltCli } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const example = join(root, 'examples/retail');
const DAY_MS = 86_400_000;
// Inside the repository, so the example's processor module finds better-sqlite3 as a user's project would.
mkdirSync(join(root, 'test-artifacts'), { recursive: true });
const dir = mkdtempSync(join(root, 'test-artifacts', 'retail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const TODAY = iso(Date.now());
const isSunday = (d: string): boolean => new Date(`${d}T00:00:00Z`).getUTCDay() === 0;
/** The open day `n` days ago, or the one before it when that is a Sunday. */
const openDayAgo = (n: number): string => {
  let d = iso(Date.parse(TODAY) - n * DAY_MS);
  while (isSunday(d)) d = iso(Date.parse(d) - DAY_MS);
  return d;
};
const SKIPPED = openDayAgo(5); // the nightly job never ran
const PARTIAL = openDayAgo(9); // it died after one store's row
const FROM = iso(Date.parse(TODAY) - 60 * DAY_MS);

const sb = (...args: string[]) => runBuiltCli(dir, args);
const warehouse = join(dir, 'warehouse.db');
const tracking = join(dir, '.smart-backfill/tracking.db');
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const query = <T>(file: string, sql: string, ...params: unknown[]): T[] => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
};
const rowsOn = (d: string): number =>
  query<{ n: number }>(warehouse, 'SELECT count(*) AS n FROM orders_daily WHERE order_date = ?', d)[0]!.n;
const writeConfig = (statuses: string[]): void => {
  const config = JSON.parse(readFileSync(join(example, 'smart-backfill.config.json'), 'utf8')) as {
    processors: { schedule: { statuses: string[] } }[];
  };
  config.processors[0]!.schedule.statuses = statuses;
  writeFileSync(join(dir, 'smart-backfill.config.json'), `${JSON.stringify(config, null, 2)}\n`);
};

describe('the retail example, end to end (built binary, a shop warehouse)', () => {
  it('init → mismatch refused → check → run held → worker fills and resumes → status → rebuild → assess → report', () => {
    expect(existsSync(CLI_BIN), 'run `npm run build` first').toBe(true);
    for (const f of ['warehouse.mjs', 'processor.mjs', 'generate.mjs']) copyFileSync(join(example, f), join(dir, f));
    const gen = spawnSync(
      process.execPath,
      ['generate.mjs', '--db', 'warehouse.db', '--from', FROM, '--through', TODAY, '--build', '--skip', SKIPPED, '--partial', PARTIAL],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(gen.status, gen.stderr).toBe(0);
    expect(rowsOn(SKIPPED)).toBe(0);
    expect(rowsOn(PARTIAL)).toBe(1);

    // init: the config and the tracking file, nothing in the warehouse.
    const before = sha(warehouse);
    const init = sb('init');
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/created the smart-backfill tables in \.smart-backfill\/tracking\.db/);
    expect(existsSync(tracking)).toBe(true);
    expect(sha(warehouse)).toBe(before);

    // The user points the config at their tables — with the calendar's state written as it is not stored.
    writeConfig(['Open']);
    const mismatch = sb('check', 'orders_daily', '--date', TODAY);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stdout + mismatch.stderr).toMatch(/none with state in \("Open"\); found: "closed" \(\d+\), "open" \(\d+\)/);
    const refusedRun = sb('run', 'orders_daily', '--date', TODAY);
    expect(refusedRun.code).toBe(2);
    expect(rowsOn(TODAY)).toBe(0); // the processor never ran
    writeConfig(['open']);

    // check: what run would do, and nothing written anywhere.
    const trackingBefore = sha(tracking);
    const check = sb('check', 'orders_daily', '--date', TODAY, '--json');
    expect(check.code).toBe(3);
    const report = JSON.parse(check.stdout) as { wouldQueue: string[]; analysis: { absentDates: string[] } };
    expect(report.wouldQueue).toEqual([PARTIAL, SKIPPED].sort());
    expect(report.analysis.absentDates).toEqual([SKIPPED]);
    expect(check.stdout).not.toContain('gameDate');
    expect(sha(tracking)).toBe(trackingBefore);
    expect(sha(warehouse)).toBe(before);

    // run: held, one backfill per missing date, tracked.
    const run = sb('run', 'orders_daily', '--date', TODAY, '--json');
    expect(run.code).toBe(3);
    const requests = () =>
      query<{ game_date: string; status: string; request_type: string }>(
        tracking,
        'SELECT game_date, status, request_type FROM backfill_requests ORDER BY game_date, requested_at',
      );
    expect(requests()).toEqual([
      { game_date: [PARTIAL, SKIPPED].sort()[0], status: 'queued', request_type: 'auto' },
      { game_date: [PARTIAL, SKIPPED].sort()[1], status: 'queued', request_type: 'auto' },
    ]);
    expect(query(tracking, 'SELECT run_date, status FROM held_runs')).toEqual([{ run_date: TODAY, status: 'held' }]);
    expect(sha(warehouse)).toBe(before);

    // The shop's words, not the seed's: `date` in the JSON, "nothing scheduled" on the calendar.
    const gaps = [PARTIAL, SKIPPED].sort();
    expect(run.stdout).not.toContain('gameDate');
    expect((JSON.parse(run.stdout) as { outcome: { queued: { date: string }[] } }).outcome.queued.map((r) => r.date)).toEqual(gaps);
    const open = sb('status', 'orders_daily', '--json');
    expect(open.stdout).not.toContain('gameDate');
    const openRequests = (JSON.parse(open.stdout) as { processors: { openRequests: { date: string }[] }[] }).processors[0]!.openRequests;
    expect(openRequests.map((r) => r.date).sort()).toEqual(gaps);
    const calendar = sb('status', 'orders_daily');
    expect(calendar.stdout).toContain('. nothing scheduled');
    expect(calendar.stdout).not.toMatch(/\bgames?\b/i);

    // worker: fills both days (re-counted: 4 rows each), then resumes today's held run.
    const worker = sb('worker', '--once');
    expect(worker.code, worker.stderr).toBe(0);
    expect(rowsOn(SKIPPED)).toBe(4);
    expect(rowsOn(PARTIAL)).toBe(4);
    expect(rowsOn(TODAY)).toBe(4);
    expect(requests().map((r) => r.status)).toEqual(['completed', 'completed']);
    expect(query(tracking, 'SELECT run_date, status FROM held_runs')).toEqual([{ run_date: TODAY, status: 'resumed' }]);
    expect(
      query(
        tracking,
        'SELECT run_trigger, outcome FROM analytics_processor_runs WHERE run_date = ? AND is_backfill = 0 ORDER BY started_at',
        TODAY,
      ),
    ).toEqual([
      { run_trigger: 'scheduled', outcome: 'failed' }, // the run refused for the status mismatch, on record
      { run_trigger: 'scheduled', outcome: 'skipped' },
      { run_trigger: 'resume', outcome: 'succeeded' },
    ]);

    // status: nothing open, nothing held.
    const status = sb('status', 'orders_daily', '--json');
    expect(status.code).toBe(0);
    const st = JSON.parse(status.stdout) as { processors: { openRequests: unknown[]; heldRuns: unknown[]; openAlerts: unknown[] }[] };
    expect(st.processors[0]).toMatchObject({ openRequests: [], heldRuns: [], openAlerts: [] });

    // A person rebuilds three weeks of healthy days (--force: complete days too). Not gaps.
    const assessBefore = JSON.parse(sb('assess', 'orders_daily', '--json').stdout) as {
      processors: { gapFrequency: { gaps: number }; assessment: { verdict: string } }[];
    };
    const rebuild = sb('backfill', 'orders_daily', '--from', openDayAgo(25), '--to', openDayAgo(12), '--force', '--json');
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).not.toContain('gameDate');
    const rebuilt = (JSON.parse(rebuild.stdout) as { queued: { date: string }[] }).queued.map((r) => r.date);
    expect(rebuilt).toContain(openDayAgo(12));
    expect(sb('worker', '--once').code).toBe(0);
    const manual = query<{ n: number }>(
      tracking,
      "SELECT count(*) AS n FROM backfill_requests WHERE request_type = 'manual' AND status = 'completed'",
    )[0]!.n;
    expect(manual).toBeGreaterThanOrEqual(10);
    const assess = sb('assess', 'orders_daily', '--json');
    expect([0, 6]).toContain(assess.code);
    const a = JSON.parse(assess.stdout) as typeof assessBefore;
    expect(a.processors[0]!.gapFrequency.gaps).toBe(assessBefore.processors[0]!.gapFrequency.gaps);
    expect(a.processors[0]!.gapFrequency.gaps).toBe(2);
    expect(a.processors[0]!.assessment.verdict).toBe(assessBefore.processors[0]!.assessment.verdict);

    // report: one self-contained page; two gaps, both healed automatically, none by a person.
    const rep = sb('report', '--out', 'report.html', '--json');
    expect(rep.code, rep.stderr).toBe(0);
    const kpis = (JSON.parse(rep.stdout) as { kpis: { gaps: number; healedAutomatically: number; healedManually: number; open: number } })
      .kpis;
    expect(kpis).toMatchObject({ gaps: 2, healedAutomatically: 2, healedManually: 0, open: 0 });
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('orders_daily');
    expect(html).not.toMatch(/\bgames?\b/i);
  }, 180_000);
});
