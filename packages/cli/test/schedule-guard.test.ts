/**
 * Issue 12 items 1, 4 and 9 through the built CLI, on a retail database that is not
 * the NBA example: calendar(day, state) with 'open'/'closed', orders_daily(order_date, store_id, amount).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, cli } from './helpers.js';

const { temp } = cleanupAfterEach();

/** November 2025: Sundays closed, every open day with 40 orders except `absent`. */
const retail = (opts: { statuses: readonly string[]; absent?: readonly string[]; command?: readonly string[] }) => {
  const t = temp('sb-cli-retail-');
  const dbPath = join(t.dir, 'retail.db');
  const db = new Database(dbPath);
  db.exec('CREATE TABLE calendar (day TEXT NOT NULL, state TEXT NOT NULL)');
  db.exec('CREATE TABLE orders_daily (order_date TEXT NOT NULL, store_id INTEGER NOT NULL, amount REAL NOT NULL)');
  const day = db.prepare('INSERT INTO calendar (day, state) VALUES (?, ?)');
  const order = db.prepare('INSERT INTO orders_daily (order_date, store_id, amount) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let d = 1; d <= 30; d++) {
      const date = `2025-11-${String(d).padStart(2, '0')}`;
      const closed = new Date(`${date}T00:00:00Z`).getUTCDay() === 0;
      day.run(date, closed ? 'closed' : 'open');
      if (!closed && !(opts.absent ?? []).includes(date)) for (let s = 0; s < 40; s++) order.run(date, s, 10 + s);
    }
  })();
  db.close();
  t.write('smart-backfill.config.json', {
    store: { type: 'sqlite', path: './retail.db' },
    processors: [
      {
        name: 'orders_daily',
        schedule: { table: 'calendar', dateColumn: 'day', statusColumn: 'state', statuses: opts.statuses },
        target: { table: 'orders_daily', dateColumn: 'order_date' },
        policy: { lookbackDays: 30, minRecordsPerDate: 30 },
        // Exits 0 and writes nothing: "succeeded", never "filled".
        command: opts.command ?? ['node', '-e', 'process.exit(0)'],
      },
    ],
  });
  const rows = (date: string): number => {
    const d = new Database(dbPath, { readonly: true });
    try {
      return (d.prepare('SELECT COUNT(*) AS n FROM orders_daily WHERE order_date = ?').get(date) as { n: number }).n;
    } finally {
      d.close();
    }
  };
  return { cwd: t.dir, rows };
};

describe('item 1: a status mismatch is a configuration error, not "no gaps"', () => {
  it('check and run exit 2 naming the statuses found; the processor never runs', async () => {
    const { cwd } = retail({ statuses: ['Open'], command: ['node', '-e', 'process.exit(9)'] });
    const want =
      'schedule "calendar" has 30 rows between 2025-11-01 and 2025-11-30 but none with state in ("Open"); found: "closed" (5), "open" (25)';
    const check = await cli(['check', 'orders_daily', '--date', '2025-12-01'], { cwd });
    expect(check.code).toBe(2);
    expect(check.stderr).toContain(want);
    expect(check.stdout).not.toContain('Proceed');
    const run = await cli(['run', 'orders_daily', '--date', '2025-12-01'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).toContain(want);
    // The processor would have exited 9 (a processor failure, exit 1); it was never started.
    expect(run.stdout).toContain('failed during check');
  });

  it('an empty window proceeds with a warning in check, run (stdout and stderr), status and the run log', async () => {
    const { cwd } = retail({ statuses: ['open'] });
    const warning = 'schedule "calendar" has no rows between 2026-02-01 and 2026-03-02; nothing was checked';
    const check = await cli(['check', 'orders_daily', '--date', '2026-03-03'], { cwd });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`warning    ${warning}`);
    const run = await cli(['run', 'orders_daily', '--date', '2026-03-03'], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`warning: ${warning}`);
    expect(run.stderr).toContain(`warning: ${warning}`);
    const json = await cli(['run', 'orders_daily', '--date', '2026-03-03', '--json'], { cwd });
    expect(json.json<{ outcome: { warnings: string[] } }>().outcome.warnings).toEqual([expect.stringContaining(warning)]);
    // status reads the warning back from the run log record's metadata.
    const status = await cli(['status', 'orders_daily', '--today', '2026-03-03'], { cwd });
    expect(status.stdout).toContain(`warning (run 2026-03-03): ${warning}`);
    const sj = await cli(['status', 'orders_daily', '--today', '2026-03-03', '--json'], { cwd });
    expect(sj.json<{ processors: { warnings: { message: string }[] }[] }>().processors[0]?.warnings).toEqual([
      { runDate: '2026-03-03', message: expect.stringContaining(warning) },
    ]);
  });
});

describe('items 4 and 9: the worker says what its guards saw; "succeeded" is not "filled"', () => {
  it('worker --once: a processor that exits 0 without writing fails the attempt, and the warning reaches stderr', async () => {
    const { cwd, rows } = retail({ statuses: ['open'], absent: ['2025-11-15'] });
    const held = await cli(['run', 'orders_daily', '--date', '2025-11-16'], { cwd });
    expect(held.code).toBe(3);
    const worker = await cli(['worker', '--once', '--json'], { cwd });
    const why = 'the processor succeeded but 2025-11-15 has 0 rows; need ≥ 30';
    expect(worker.stderr).toContain(why);
    expect(worker.stderr).toContain('processor failed');
    const lines = worker.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l['_tag'] === 'Completed')).toBe(false);
    expect(lines.at(-1)).toMatchObject({ summary: { completed: 0 } });
    expect(rows('2025-11-15')).toBe(0);
    const status = await cli(['status', 'orders_daily', '--json', '--today', '2025-11-16'], { cwd });
    const open = status.json<{ processors: { openRequests: { date: string; status: string; errorMessage: string | null }[] }[] }>()
      .processors[0]?.openRequests;
    expect(open).toMatchObject([{ date: '2025-11-15', status: 'queued' }]);
    expect(open?.[0]?.errorMessage).toContain(why);
  });
});
