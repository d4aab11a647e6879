import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, runBuiltCli } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const { temp, track } = cleanupAfterEach();

const day = (d: number): string => `2025-11-${String(d).padStart(2, '0')}`;

/** A retail warehouse: open every day but Sundays; orders for each open day except `missing`. */
const makeWarehouse = (file: string, missing: readonly number[] = []): void => {
  const w = new Database(file);
  w.exec(`CREATE TABLE calendar(day TEXT PRIMARY KEY, state TEXT NOT NULL);
          CREATE TABLE orders_daily(order_date TEXT NOT NULL, store_id INTEGER NOT NULL, amount REAL NOT NULL);
          CREATE INDEX orders_daily_date ON orders_daily(order_date);`);
  for (let d = 1; d <= 22; d++) {
    const open = new Date(Date.UTC(2025, 10, d)).getUTCDay() !== 0;
    w.prepare('INSERT INTO calendar VALUES (?, ?)').run(day(d), open ? 'open' : 'closed');
    if (open && !missing.includes(d))
      for (let s = 1; s <= 3; s++) w.prepare('INSERT INTO orders_daily VALUES (?, ?, ?)').run(day(d), s, 10 * s);
  }
  w.close();
};

const config = (store: Record<string, unknown>) => ({
  store,
  processors: [
    {
      name: 'orders',
      schedule: { table: 'calendar', dateColumn: 'day', statusColumn: 'state', statuses: ['open'] },
      target: { table: 'orders_daily', dateColumn: 'order_date' },
      policy: { lookbackDays: 7, criticalLookbackDays: 7, minRecordsPerDate: 1, autoBackfillThreshold: 3 },
      // The processor writes nothing: every byte that could change in the warehouse would be smart-backfill's.
      command: [process.execPath, '-e', '0'],
    },
  ],
});

const fingerprint = (file: string) => {
  const db = new Database(file, { readonly: true });
  const journal = db.pragma('journal_mode', { simple: true });
  db.close();
  return {
    sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
    journal,
    sidecars: [`${file}-wal`, `${file}-shm`, `${file}-journal`].filter((f) => existsSync(f)),
  };
};

const COMMANDS: ReadonlyArray<readonly string[]> = [
  ['check', 'orders', '--date', day(20)],
  ['run', 'orders', '--date', day(20)],
  ['worker', '--once'],
  ['status', '--today', day(21)],
  ['assess', 'orders', '--today', day(21)],
  ['report', '--today', day(21), '--out', 'report.html'],
];

describe('the warehouse is read-only to every command', () => {
  it('check, run, worker --once, status, assess and report leave the warehouse byte-identical; check creates no tracking file', () => {
    const t = temp();
    const warehouse = join(t.dir, 'warehouse.db');
    makeWarehouse(warehouse, [18]);
    t.write(
      'smart-backfill.config.json',
      config({ type: 'sqlite', path: './.smart-backfill/tracking.db', warehouse: { path: './warehouse.db' } }),
    );
    const before = fingerprint(warehouse);
    expect(before).toMatchObject({ journal: 'delete', sidecars: [] });
    const codes: Record<string, number | null> = {};
    for (const args of COMMANDS) {
      const r = runBuiltCli(t.dir, [...args]);
      codes[args[0]!] = r.code;
      expect(fingerprint(warehouse), `after ${args.join(' ')}: ${r.stderr}`).toEqual(before);
      if (args[0] === 'check') expect(existsSync(join(t.dir, '.smart-backfill'))).toBe(false);
    }
    // The gap on the 18th was seen, queued and filled through the tracking file alone.
    expect(codes).toMatchObject({ check: 3, run: 3, worker: 0, status: 0, report: 0 });
    const tracking = new Database(join(t.dir, '.smart-backfill', 'tracking.db'), { readonly: true });
    // The no-op processor fills nothing, so the 18th may be queued again; every request is for it and none is left active.
    const requests = tracking.prepare('SELECT game_date, status FROM backfill_requests').all() as Array<{
      game_date: string;
      status: string;
    }>;
    expect(requests.length).toBeGreaterThan(0);
    expect(new Set(requests.map((r) => r.game_date))).toEqual(new Set([day(18)]));
    tracking.close();
  });

  it('a config with store.path only (the warehouse is the store) still works, and check writes nothing into it', () => {
    const t = temp();
    const shop = join(t.dir, 'shop.db');
    makeWarehouse(shop);
    t.write('smart-backfill.config.json', config({ type: 'sqlite', path: './shop.db' }));
    const before = fingerprint(shop);
    const check = runBuiltCli(t.dir, ['check', 'orders', '--date', day(20)]);
    expect(check.code, check.stderr).toBe(0);
    expect(fingerprint(shop)).toEqual(before);
    const run = runBuiltCli(t.dir, ['run', 'orders', '--date', day(20)]);
    expect(run.code, run.stderr).toBe(0);
    const db = new Database(shop, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM analytics_processor_runs WHERE run_date = '2025-11-20'").pluck().get()).toBe(1);
    db.close();
  });

  it('init writes a config whose tracking file is apart from the warehouse, and creates only the tracking file', () => {
    const t = temp();
    const r = runBuiltCli(t.dir, ['init']);
    expect(r.code, r.stderr).toBe(0);
    const written = JSON.parse(readFileSync(join(t.dir, 'smart-backfill.config.json'), 'utf8')) as { store: unknown };
    expect(written.store).toEqual({ type: 'sqlite', path: './.smart-backfill/tracking.db', warehouse: { path: './warehouse.db' } });
    expect(existsSync(join(t.dir, '.smart-backfill', 'tracking.db'))).toBe(true);
    expect(existsSync(join(t.dir, 'warehouse.db'))).toBe(false);
  });
});

describe('a lock held by another process', () => {
  it('says what it waits for after ~2 s, gives up at store.busyTimeoutMs with one line and exit 1, and loses nothing recorded before', async () => {
    const t = temp();
    makeWarehouse(join(t.dir, 'warehouse.db'));
    t.write(
      'smart-backfill.config.json',
      config({ type: 'sqlite', path: './tracking.db', warehouse: { path: './warehouse.db' }, busyTimeoutMs: 3000 }),
    );
    const first = runBuiltCli(t.dir, ['run', 'orders', '--date', day(20)]);
    expect(first.code, first.stderr).toBe(0);

    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(join(t.dir, 'tracking.db'))});
         db.exec('BEGIN IMMEDIATE'); console.log('locked'); process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close(); }); process.stdin.resume();`,
      ],
      { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    track(() => {
      if (holder.exitCode === null) holder.kill();
    });
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (b: Buffer) => (b.toString().includes('locked') ? resolve() : undefined));
      holder.on('exit', (code) => reject(new Error(`lock holder exited with ${String(code)}`)));
    });

    const blocked = runBuiltCli(t.dir, ['run', 'orders', '--date', day(21)]);
    holder.stdin.end();
    await new Promise((resolve) => holder.on('exit', resolve));

    expect(blocked.code, blocked.stdout + blocked.stderr).toBe(1);
    expect(blocked.errors[0]).toMatch(/^waiting for the write lock on .*tracking\.db \(another process holds it\); giving up after 3 s/);
    // It ends in one clear line; before it, only the guard's own error log of the same failure (item 4).
    expect(blocked.errors.at(-1)).toMatch(/^error: .*tracking\.db" stayed locked by another process for [\d.]+ s \(limit 3000 ms/);
    for (const l of blocked.errors.slice(1, -1)) expect(l).toMatch(/^error: could not append run record .*stayed locked/);
    expect(blocked.stderr).not.toMatch(/alert already open/);

    const db = new Database(join(t.dir, 'tracking.db'), { readonly: true });
    expect(db.prepare('SELECT run_date, outcome FROM analytics_processor_runs').all()).toEqual([
      { run_date: day(20), outcome: 'succeeded' },
    ]);
    db.close();
  });
});

describe('a damaged tracking file is refused by every command', () => {
  const damages: ReadonlyArray<[string, (file: string) => void]> = [
    ['cut mid-page', (f) => truncateSync(f, statSync(f).size - 1_500)],
    [
      'garbage over a data page',
      (f) => {
        const fd = openSync(f, 'r+');
        writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, statSync(f).size - 2 * 4096);
        closeSync(fd);
      },
    ],
    ['zero-length', (f) => writeFileSync(f, '')],
  ];

  for (const [what, damage] of damages) {
    it(`${what}: one line, exit 1, nothing written`, () => {
      const t = temp();
      makeWarehouse(join(t.dir, 'warehouse.db'), [18]);
      t.write('smart-backfill.config.json', config({ type: 'sqlite', path: './tracking.db', warehouse: { path: './warehouse.db' } }));
      expect(runBuiltCli(t.dir, ['run', 'orders', '--date', day(20)]).code).toBe(3);
      const file = join(t.dir, 'tracking.db');
      const db = new Database(file);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      damage(file);
      const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
      for (const args of COMMANDS) {
        const r = runBuiltCli(t.dir, [...args]);
        expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(1);
        expect(r.errors).toHaveLength(1);
        expect(r.errors[0]).toMatch(
          what === 'zero-length'
            ? /^error: store: database ".*tracking\.db" is empty \(0 bytes\) where a database was expected; restore it from a backup, or delete it/
            : /^error: store: database ".*tracking\.db" is damaged \(.+\); restore it from a backup or move it aside \(store\.integrityCheck: false skips this check\)$/,
        );
        expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(sha);
      }
    });
  }
});
