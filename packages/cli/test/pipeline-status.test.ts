import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { calendarProcessor, cleanupAfterEach, runBuiltCli } from './helpers.js';

const { temp } = cleanupAfterEach();

const day = (d: number): string => `2025-11-${String(d).padStart(2, '0')}`;
const TABLES = ['raw_orders', 'order_lines', 'store_weekly', 'payments'] as const;

/**
 * A shop open days 1–10: raw_orders → order_lines (same day) → store_weekly (six days back), and
 * payments, read by nothing and reading nothing. The 4th of raw_orders was lost, so order_lines lacks it too.
 */
const makeShop = (file: string): void => {
  const w = new Database(file);
  w.exec(`CREATE TABLE calendar(day TEXT PRIMARY KEY, state TEXT NOT NULL);
          ${TABLES.map((t) => `CREATE TABLE ${t}(d TEXT NOT NULL);`).join('\n')}`);
  for (let d = 1; d <= 10; d++) {
    w.prepare('INSERT INTO calendar VALUES (?, ?)').run(day(d), 'open');
    for (const t of TABLES)
      if (!(d === 4 && (t === 'raw_orders' || t === 'order_lines'))) w.prepare(`INSERT INTO ${t} VALUES (?)`).run(day(d));
  }
  w.close();
};

const table = (name: string, dependsOn?: { processor: string; lookbackDays: number }[]) => calendarProcessor(name, 'd', { dependsOn });

/** Declared out of dependency order, and raw_orders before payments: the listing sorts both. */
const shopConfig = (edges: boolean) => ({
  store: { type: 'sqlite', path: './shop.db' },
  processors: [
    table('store_weekly', edges ? [{ processor: 'order_lines', lookbackDays: 6 }] : undefined),
    table('raw_orders'),
    table('order_lines', edges ? [{ processor: 'raw_orders', lookbackDays: 0 }] : undefined),
    table('payments'),
  ],
});

interface StatusJson {
  pipeline?: { processor: string; level: number; dependsOn: unknown[] }[];
  processors: { name: string; level?: number; heldRuns: { runDate: string; waitingFor: string[]; waitingForUpstream?: unknown }[] }[];
}

describe('status and report show the pipeline', () => {
  it('one row per processor in dependency order, and the upstream gap that holds each downstream run', () => {
    const t = temp();
    makeShop(join(t.dir, 'shop.db'));
    t.write('smart-backfill.config.json', shopConfig(true));
    // order_lines for the 4th reads the lost raw day: held, raw_orders' backfill queued.
    expect(runBuiltCli(t.dir, ['run', 'order_lines', '--date', day(4)]).code).toBe(3);
    // store_weekly for the 5th reads order_lines' 4th, which waits on that held run.
    expect(runBuiltCli(t.dir, ['run', 'store_weekly', '--date', day(5)]).code).toBe(3);

    const j = runBuiltCli(t.dir, ['status', '--json', '--today', day(10), '--weeks', '1']);
    expect(j.code, j.stderr).toBe(0);
    const s = JSON.parse(j.stdout) as StatusJson;
    expect(s.pipeline).toEqual([
      { processor: 'payments', level: 0, dependsOn: [] },
      { processor: 'raw_orders', level: 0, dependsOn: [] },
      { processor: 'order_lines', level: 1, dependsOn: [{ processor: 'raw_orders', lookbackDays: 0 }] },
      { processor: 'store_weekly', level: 2, dependsOn: [{ processor: 'order_lines', lookbackDays: 6 }] },
    ]);
    expect(s.processors.map((p) => `${p.level} ${p.name}`)).toEqual(['0 payments', '0 raw_orders', '1 order_lines', '2 store_weekly']);
    const held = Object.fromEntries(s.processors.map((p) => [p.name, p.heldRuns]));
    expect(held['order_lines']).toMatchObject([
      {
        runDate: day(4),
        waitingFor: [],
        waitingForUpstream: [{ processor: 'raw_orders', missing: [day(4)], queued: [day(4)], inFlight: [], escalated: [] }],
      },
    ]);
    expect(held['store_weekly']).toMatchObject([
      {
        runDate: day(5),
        waitingForUpstream: [{ processor: 'order_lines', missing: [day(4)], queued: [], inFlight: [day(4)], escalated: [] }],
      },
    ]);
    // A processor without inputs keeps its entries as before.
    expect(held['raw_orders']).toEqual([]);
    expect(s.processors.find((p) => p.name === 'payments')).not.toHaveProperty('heldRuns.0.waitingForUpstream');

    const text = runBuiltCli(t.dir, ['status', '--today', day(10), '--weeks', '1']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      [
        'pipeline, in dependency order',
        '  level 0  payments      reads no other processor',
        '  level 0  raw_orders    reads no other processor',
        `  level 1  order_lines   reads raw_orders (same day); held: ${day(4)} for raw_orders ${day(4)} (backfill queued)`,
        `  level 2  store_weekly  reads order_lines (6 days back); held: ${day(5)} for order_lines ${day(4)} (in flight)`,
      ].join('\n'),
    );
    expect(text.stdout).toContain(`  held run ${day(4)} (backfill queued), waiting for raw_orders ${day(4)} (backfill queued)\n`);
    expect(text.stdout).toContain(`  held run ${day(5)} (waiting for backfill), waiting for order_lines ${day(4)} (in flight)\n`);
    const blocks = text.stdout.split('\n').filter((l) => /^[a-z_]+$/.test(l));
    expect(blocks).toEqual(['payments', 'raw_orders', 'order_lines', 'store_weekly']);

    const r = runBuiltCli(t.dir, ['report', '--out', 'report.html', '--today', day(10), '--days', '14']);
    expect(r.code, r.stderr).toBe(0);
    const page = readFileSync(join(t.dir, 'report.html'), 'utf8');
    expect([...page.matchAll(/data-pipeline-row="([a-z_]+)" data-level="(\d)"/g)].map((m) => `${m[2]} ${m[1]}`)).toEqual([
      '0 payments',
      '0 raw_orders',
      '1 order_lines',
      '2 store_weekly',
    ]);
    expect(page).toContain(`<span data-held-for="${day(4)}">${day(4)} waits for raw_orders ${day(4)} (backfill queued)</span>`);
    expect(page).toContain(`<span data-held-for="${day(5)}">${day(5)} waits for order_lines ${day(4)} (in flight)</span>`);
    // The calendars follow the same order.
    expect([...page.matchAll(/<section class="processor" data-processor="([a-z_]+)"/g)].map((m) => m[1])).toEqual([
      'payments',
      'raw_orders',
      'order_lines',
      'store_weekly',
    ]);
  }, 120_000);

  it('a config without dependsOn lists as configured, with no pipeline', () => {
    const t = temp();
    makeShop(join(t.dir, 'shop.db'));
    t.write('smart-backfill.config.json', shopConfig(false));
    const j = runBuiltCli(t.dir, ['status', '--json', '--today', day(10), '--weeks', '1']);
    expect(j.code, j.stderr).toBe(0);
    const s = JSON.parse(j.stdout) as StatusJson;
    expect(s).not.toHaveProperty('pipeline');
    expect(s.processors.map((p) => p.name)).toEqual(['store_weekly', 'raw_orders', 'order_lines', 'payments']);
    expect(s.processors[0]).not.toHaveProperty('level');
    expect(runBuiltCli(t.dir, ['status', '--today', day(10), '--weeks', '1']).stdout).not.toContain('pipeline');
    expect(runBuiltCli(t.dir, ['report', '--out', 'report.html', '--today', day(10), '--days', '14']).code).toBe(0);
    expect(readFileSync(join(t.dir, 'report.html'), 'utf8')).not.toContain('<h2>Pipeline</h2>');
  }, 120_000);
});
