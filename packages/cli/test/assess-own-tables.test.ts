import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanupAfterEach, CLI_BIN, runBuiltCli } from './helpers.js';

// `assess` and `report` through the built binary on a retail database (not the NBA example):
// `calendar(day, state)` says which days the shops were open, `orders_daily(order_date, store_id, amount)` is the table filled.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const DAY_MS = 86_400_000;
const { temp } = cleanupAfterEach();

// The real clock: `backfill` and `worker` stamp requests with it, and `assess` must judge them inside its window.
const TODAY = new Date().toISOString().slice(0, 10);
const daysAgo = (n: number): string => new Date(Date.parse(TODAY) - n * DAY_MS).toISOString().slice(0, 10);

/** 40 days of calendar (closed every 7th day); 4 stores' orders on open days except `missing` days ago. */
const shop = (target = 'orders_daily', missing: readonly number[] = [5, 12]) => {
  const t = temp('sb-shop-');
  const db = new Database(join(t.dir, 'shop.db'));
  db.exec('CREATE TABLE calendar (day TEXT, state TEXT); CREATE TABLE orders_daily (order_date TEXT, store_id INTEGER, amount REAL)');
  const cal = db.prepare('INSERT INTO calendar VALUES (?, ?)');
  const order = db.prepare('INSERT INTO orders_daily VALUES (?, ?, ?)');
  for (let i = 1; i <= 40; i++) {
    const open = i % 7 !== 0;
    cal.run(daysAgo(i), open ? 'open' : 'closed');
    if (open && !missing.includes(i)) for (let s = 1; s <= 4; s++) order.run(daysAgo(i), s, 10 * s);
  }
  db.close();
  t.write('smart-backfill.config.json', {
    store: { type: 'sqlite', path: './shop.db' },
    processors: [
      {
        name: 'orders',
        schedule: { table: 'calendar', dateColumn: 'day', statusColumn: 'state', statuses: ['open'] },
        target: { table: target, dateColumn: 'order_date' },
        policy: { minRecordsPerDate: 3 },
        // The rebuild leaves the rows as they are: the dates were healthy.
        command: [process.execPath, '-e', '0'],
      },
    ],
  });
  return t.dir;
};

interface AssessOut {
  processors: {
    assessment: { verdict: string; unknownBecause: string[]; checklistVerdict: string };
    gapFrequency: { gaps: number; healedSince: string[] } | null;
    notComputed: { signal: string; reason: string }[];
  }[];
}

describe('assess and report on your own tables (built binary)', () => {
  beforeAll(() => {
    if (!existsSync(CLI_BIN)) {
      const b = spawnSync(process.execPath, [join(root, 'node_modules/typescript/CLI_BIN/tsc'), '-b', 'packages/cli'], {
        cwd: root,
        encoding: 'utf8',
      });
      if (b.status !== 0) throw new Error(`build failed: ${b.stdout}${b.stderr}`);
    }
  });

  it('rebuilding 25 healthy dates by hand is not 25 gaps: verdict, gap count and report KPIs do not move (item 11)', () => {
    const dir = shop();
    const before = runBuiltCli(dir, ['assess', 'orders', '--today', TODAY, '--json']);
    expect(before.stderr).toBe('');
    expect(before.code).toBe(0);
    const b = JSON.parse(before.stdout) as AssessOut;
    expect(b.processors[0]?.gapFrequency).toMatchObject({ gaps: 2, healedSince: [] });
    expect(b.processors[0]?.assessment.verdict).toBe('not_needed');
    const reportBefore = JSON.parse(runBuiltCli(dir, ['report', '--json', '--out', 'before.html', '--today', TODAY]).stdout) as {
      kpis: { gaps: number };
    };

    // 25 open days among the last 30, two of them the missing ones: 23 healthy dates rebuilt.
    const queued = runBuiltCli(dir, ['backfill', 'orders', '--from', daysAgo(30), '--to', daysAgo(2), '--force']);
    expect(queued.code).toBe(0);
    expect(queued.stdout).toMatch(/25 dates/);
    const worked = runBuiltCli(dir, ['worker', '--once']);
    expect(worked.code).toBe(0);
    const db = new Database(join(dir, 'shop.db'), { readonly: true });
    // The processor here writes nothing: the 23 healthy dates pass the re-count after the run; the 2
    // missing ones do not ("succeeded" is not "filled") and stay open for another attempt.
    expect(db.prepare("SELECT count(*) FROM backfill_requests WHERE request_type = 'manual' AND status = 'completed'").pluck().get()).toBe(
      23,
    );
    expect(db.prepare("SELECT count(*) FROM backfill_requests WHERE request_type = 'auto'").pluck().get()).toBe(0);
    db.close();

    const after = runBuiltCli(dir, ['assess', 'orders', '--today', TODAY, '--json']);
    expect(after.code).toBe(0);
    const a = JSON.parse(after.stdout) as AssessOut;
    expect(a.processors[0]?.gapFrequency).toMatchObject({ gaps: 2, healedSince: [] });
    expect(a.processors[0]?.assessment.verdict).toBe('not_needed');
    // The rebuild's 25 backfill runs are not scheduled runs: they do not make a dependency-failure rate (item 12).
    expect(a.processors[0]?.notComputed.find((n) => n.signal === 'dependencyFailurePct')?.reason).toMatch(
      /no scheduled runs of orders .*\(25 backfill, resume or manual run\(s\) do not count\)/,
    );
    const human = runBuiltCli(dir, ['assess', 'orders', '--today', TODAY]);
    expect(human.stdout).toMatch(/verdict: NOT NEEDED/);
    expect(human.stdout).toMatch(/\(2 gap date\(s\) of 26 scheduled .*: 2 missing now, 0 healed since\)/);

    const reportAfter = JSON.parse(runBuiltCli(dir, ['report', '--json', '--out', 'after.html', '--today', TODAY]).stdout) as {
      kpis: { gaps: number; healedManually: number };
    };
    expect(reportAfter.kpis.gaps).toBe(reportBefore.kpis.gaps);
    expect(reportAfter.kpis).toMatchObject({ gaps: 2, healedManually: 0 });
  }, 120_000);

  it('a target table it cannot read is UNKNOWN with the reason and exit 6, never NOT NEEDED (item 13)', () => {
    const dir = shop('orders_daly'); // a typo: the table does not exist
    const human = runBuiltCli(dir, ['assess', 'orders', '--today', TODAY, '--manual-minutes', '0']);
    expect(human.code).toBe(6);
    expect(human.stdout).toMatch(/verdict: UNKNOWN/);
    expect(human.stdout).not.toMatch(/NOT NEEDED/);
    expect(human.stdout).toMatch(/because gap frequency not measured: could not read .*the target table "orders_daly": .*orders_daly/);
    const json = runBuiltCli(dir, ['assess', 'orders', '--today', TODAY, '--manual-minutes', '0', '--json']);
    expect(json.code).toBe(6);
    const j = JSON.parse(json.stdout) as AssessOut;
    expect(j.processors[0]?.assessment).toMatchObject({ verdict: 'unknown', checklistVerdict: 'not_yet' });
    expect(j.processors[0]?.assessment.unknownBecause[0]).toMatch(/orders_daly/);
  }, 60_000);

  it('a schedule with no rows in the window is UNKNOWN, naming the schedule and its status filter (item 13)', () => {
    const dir = shop();
    const db = new Database(join(dir, 'shop.db'));
    db.exec("UPDATE calendar SET state = 'Open'"); // nothing passes statuses ["open"]
    db.close();
    const r = runBuiltCli(dir, ['assess', 'orders', '--today', TODAY, '--manual-minutes', '0']);
    expect(r.code).toBe(6);
    expect(r.stdout).toMatch(/verdict: UNKNOWN/);
    expect(r.stdout).toMatch(
      /because gap frequency not measured: no schedule rows: the schedule table "calendar" lists no dates .* with state in \["open"\]/,
    );
  });
});
