import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { calendarProcessor, cleanupAfterEach, runBuiltCli } from './helpers.js';

const { temp } = cleanupAfterEach();

const day = (d: number): string => `2025-11-${String(d).padStart(2, '0')}`;

/**
 * A shop's pipeline: till receipts (pos_sales) → orders_daily (the same day) → weekly_revenue
 * (the six days before and the day). Open every day 1–10; `gaps` lists the days each table lacks.
 */
const makeShop = (file: string, gaps: Partial<Record<'pos_sales' | 'orders_daily' | 'weekly_revenue', number[]>> = {}): void => {
  const w = new Database(file);
  w.exec(`CREATE TABLE calendar(day TEXT PRIMARY KEY, state TEXT NOT NULL);
          CREATE TABLE pos_sales(sale_date TEXT NOT NULL);
          CREATE TABLE orders_daily(order_date TEXT NOT NULL);
          CREATE TABLE weekly_revenue(week_date TEXT NOT NULL);`);
  for (let d = 1; d <= 10; d++) {
    w.prepare('INSERT INTO calendar VALUES (?, ?)').run(day(d), 'open');
    if (!(gaps.pos_sales ?? []).includes(d)) w.prepare('INSERT INTO pos_sales VALUES (?)').run(day(d));
    if (!(gaps.orders_daily ?? []).includes(d)) w.prepare('INSERT INTO orders_daily VALUES (?)').run(day(d));
    if (!(gaps.weekly_revenue ?? []).includes(d)) w.prepare('INSERT INTO weekly_revenue VALUES (?)').run(day(d));
  }
  w.close();
};

const table = (name: string, column: string, dependsOn?: { processor: string; lookbackDays: number }[]) =>
  calendarProcessor(name, column, { dependsOn });

const shopConfig = (store: Record<string, unknown>, edges?: { orders?: unknown[]; weekly?: unknown[]; pos?: unknown[] }) => ({
  store,
  processors: [
    table('weekly_revenue', 'week_date', (edges?.weekly as never) ?? [{ processor: 'orders_daily', lookbackDays: 6 }]),
    table('pos_sales', 'sale_date', edges?.pos as never),
    table('orders_daily', 'order_date', (edges?.orders as never) ?? [{ processor: 'pos_sales', lookbackDays: 0 }]),
  ],
});

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('dependsOn in the config', () => {
  it('a cycle is refused at load: exit 2, one line naming the cycle', () => {
    const t = temp();
    makeShop(join(t.dir, 'shop.db'));
    t.write(
      'smart-backfill.config.json',
      shopConfig({ type: 'sqlite', path: './shop.db' }, { pos: [{ processor: 'weekly_revenue', lookbackDays: 0 }] }),
    );
    const r = runBuiltCli(t.dir, ['status']);
    expect(r.code).toBe(2);
    expect(r.errors).toContain('  processors: dependsOn has a cycle: weekly_revenue → orders_daily → pos_sales → weekly_revenue');
    expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
  }, 120_000);

  it('an unknown name, a self-edge and a negative lookback are refused, each on its own line', () => {
    const t = temp();
    makeShop(join(t.dir, 'shop.db'));
    t.write(
      'smart-backfill.config.json',
      shopConfig(
        { type: 'sqlite', path: './shop.db' },
        {
          orders: [{ processor: 'pos_sale', lookbackDays: 0 }],
          pos: [{ processor: 'pos_sales', lookbackDays: 0 }],
          weekly: [{ processor: 'orders_daily', lookbackDays: -1 }],
        },
      ),
    );
    const r = runBuiltCli(t.dir, ['plan', '--from', day(1), '--to', day(10)]);
    expect(r.code).toBe(2);
    expect(r.errors).toEqual(
      expect.arrayContaining(['  processors[0].dependsOn[0].lookbackDays: expected a whole number >= 0 and <= 3660, got -1']),
    );
    // The graph's rules run once the shapes are right.
    t.write(
      'smart-backfill.config.json',
      shopConfig(
        { type: 'sqlite', path: './shop.db' },
        { orders: [{ processor: 'pos_sale', lookbackDays: 0 }], pos: [{ processor: 'pos_sales', lookbackDays: 0 }] },
      ),
    );
    const again = runBuiltCli(t.dir, ['plan', '--from', day(1), '--to', day(10)]);
    expect(again.code).toBe(2);
    expect(again.errors).toEqual(
      expect.arrayContaining([
        '  processors[1].dependsOn[0]: pos_sales.dependsOn "pos_sales": a processor cannot depend on itself',
        '  processors[2].dependsOn[0]: orders_daily.dependsOn "pos_sale": no processor of that name (known: weekly_revenue, pos_sales)',
      ]),
    );
  }, 120_000);
});

describe('plan', () => {
  it('a lost till day: one backfill upstream, then each level that read it, in order; writes nothing', () => {
    const t = temp();
    const shop = join(t.dir, 'shop.db');
    makeShop(shop, { pos_sales: [4], orders_daily: [4] });
    t.write(
      'smart-backfill.config.json',
      shopConfig({ type: 'sqlite', path: './.smart-backfill/tracking.db', warehouse: { path: './shop.db' } }),
    );
    const before = sha(shop);
    const r = runBuiltCli(t.dir, ['plan', '--from', day(1), '--to', day(10), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { processors: string[]; steps: { _tag: string; processor: string; date: string }[] };
    expect(plan.processors).toEqual(['pos_sales', 'orders_daily', 'weekly_revenue']);
    expect(plan.steps.map((s) => `${s._tag} ${s.processor} ${s.date}`)).toEqual([
      `Backfill pos_sales ${day(4)}`,
      `Backfill orders_daily ${day(4)}`,
      ...[4, 5, 6, 7, 8, 9, 10].map((d) => `Rerun weekly_revenue ${day(d)}`),
    ]);
    const text = runBuiltCli(t.dir, ['plan', 'orders_daily', '--from', day(1), '--to', day(10)]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('plan 2025-11-01 … 2025-11-10: 1 backfill, 7 re-runs across orders_daily → weekly_revenue');
    expect(text.stdout).toContain('  1. backfill orders_daily  2025-11-04\n');
    expect(text.stdout).toContain('  2. re-run   weekly_revenue  2025-11-04…2025-11-10 (7 dates) (reads orders_daily)');
    expect(sha(shop)).toBe(before);
    expect(existsSync(join(t.dir, '.smart-backfill'))).toBe(false);
  }, 120_000);

  it('a day built before an input it reads was rebuilt is re-run, and what read it after it', () => {
    const t = temp();
    const shop = join(t.dir, 'shop.db');
    makeShop(shop);
    t.write('smart-backfill.config.json', shopConfig({ type: 'sqlite', path: './shop.db' }));
    // orders_daily ran for the 4th; then the till data of the 4th was rebuilt.
    expect(runBuiltCli(t.dir, ['run', 'orders_daily', '--date', day(4)]).code).toBe(0);
    expect(runBuiltCli(t.dir, ['run', 'pos_sales', '--date', day(4), '--trigger', 'manual']).code).toBe(0);
    const before = sha(shop);
    const r = runBuiltCli(t.dir, ['plan', '--from', day(1), '--to', day(10), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { steps: { _tag: string; processor: string; date: string; because?: unknown }[] };
    expect(plan.steps[0]).toEqual({ _tag: 'Rerun', processor: 'orders_daily', date: day(4), because: 'ran_on_incomplete_input' });
    expect(plan.steps.slice(1).map((s) => `${s.processor} ${s.date}`)).toEqual(
      [4, 5, 6, 7, 8, 9, 10].map((d) => `weekly_revenue ${day(d)}`),
    );
    expect(sha(shop)).toBe(before);
  }, 120_000);
});

/** A processor that inserts one row for its date into its own table of the shop file. */
const writer = (name: string, column: string, shopFile: string, dependsOn?: { processor: string; lookbackDays: number }[]) => {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `const D = require(${JSON.stringify(sqlite)}); const db = new D(process.env.SHOP_DB); db.pragma('busy_timeout = 10000'); db.prepare('INSERT INTO ${name} VALUES (?)').run(process.env.SMART_BACKFILL_DATE); db.close();`;
  return { ...table(name, column, dependsOn), command: [process.execPath, '-e', script], env: { SHOP_DB: shopFile } };
};

describe('a pipeline heals through the CLI', () => {
  it('a lost till day holds both levels; one worker pass fills it and resumes each level once, in order; --with-downstream rebuilds each level after it', () => {
    const t = temp();
    const shop = join(t.dir, 'shop.db');
    makeShop(shop, { pos_sales: [4], orders_daily: [4], weekly_revenue: [4] });
    t.write('smart-backfill.config.json', {
      store: { type: 'sqlite', path: './shop.db' },
      processors: [
        writer('weekly_revenue', 'week_date', shop, [{ processor: 'orders_daily', lookbackDays: 6 }]),
        writer('pos_sales', 'sale_date', shop),
        writer('orders_daily', 'order_date', shop, [{ processor: 'pos_sales', lookbackDays: 0 }]),
      ],
    });
    const orders = runBuiltCli(t.dir, ['run', 'orders_daily', '--date', day(4)]);
    expect(orders.code, orders.stderr).toBe(3);
    expect(orders.stdout).toContain('held: waiting for pos_sales 2025-11-04 (backfill queued)');
    const weekly = runBuiltCli(t.dir, ['run', 'weekly_revenue', '--date', day(4)]);
    expect(weekly.code, weekly.stderr).toBe(3);
    expect(weekly.stdout).toContain('held: waiting for orders_daily 2025-11-04 (in flight)');
    const w = runBuiltCli(t.dir, ['worker', '--once']);
    expect(w.code, w.stderr).toBe(0);
    const db = new Database(shop, { readonly: true });
    const runs = db
      .prepare(
        "SELECT processor_name AS p, run_trigger AS t, outcome AS o FROM analytics_processor_runs WHERE outcome = 'succeeded' ORDER BY started_at",
      )
      .all() as { p: string; t: string; o: string }[];
    expect(runs.map((r) => `${r.p} ${r.t}`)).toEqual(['pos_sales backfill', 'orders_daily resume', 'weekly_revenue resume']);
    for (const [tbl, col] of [
      ['pos_sales', 'sale_date'],
      ['orders_daily', 'order_date'],
      ['weekly_revenue', 'week_date'],
    ] as const)
      expect(db.prepare(`SELECT count(*) FROM ${tbl} WHERE ${col} = ?`).pluck().get(day(4)), tbl).toBe(1);
    db.close();
    const plan = runBuiltCli(t.dir, ['plan', '--from', day(1), '--to', day(10), '--json']);
    expect(JSON.parse(plan.stdout)).toMatchObject({ steps: [] });

    // A person rebuilds the till day with what reads it: each level after the one it reads, once.
    const mark = new Database(shop, { readonly: true });
    const before = mark.prepare('SELECT max(rowid) FROM analytics_processor_runs').pluck().get() as number;
    mark.close();
    const bf = runBuiltCli(t.dir, ['backfill', 'pos_sales', '--from', day(4), '--to', day(4), '--force', '--with-downstream', '--yes']);
    expect(bf.code, bf.stderr).toBe(0);
    expect(bf.stdout).toContain(
      '  downstream orders_daily 2025-11-04 … 2025-11-04\n    queued 2025-11-04 (rebuild: built from an input this rebuilds)',
    );
    // Every filled weekly_revenue day that reads the 4th (six days back), not only the one that ran.
    expect(bf.stdout).toContain('  downstream weekly_revenue 2025-11-04 … 2025-11-10\n    queued 2025-11-04…2025-11-10 (7 dates)');
    for (let i = 0; i < 3; i++) expect(runBuiltCli(t.dir, ['worker', '--once']).code).toBe(0);
    const after = new Database(shop, { readonly: true });
    const later = after
      .prepare(
        "SELECT processor_name AS p, run_trigger AS t FROM analytics_processor_runs WHERE rowid > ? AND outcome = 'succeeded' ORDER BY started_at",
      )
      .all(before) as { p: string; t: string }[];
    after.close();
    expect(later.map((r) => `${r.p} ${r.t}`)).toEqual([
      'pos_sales backfill',
      'orders_daily cascade',
      ...Array.from({ length: 7 }, () => 'weekly_revenue cascade'),
    ]);
    // A dozen spawns of the binary: slow on a loaded machine, not a timing assertion.
  }, 180_000);
});
