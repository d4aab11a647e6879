/**
 * `plan` reads the last successful build of each date through the run log's optional
 * `lastBuilds` when the store offers it, and folds every run record otherwise: both must plan
 * the same steps, and the built CLI must print that plan.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { toEpochDay, type IsoDate, type RunLog, type RunRecord } from '@smart-backfill/core';
import { openSqliteStore } from '@smart-backfill/sqlite';
import { planFromStore, type PlanReads } from '../src/commands/plan.js';
import { loadConfig } from '../src/config/load-config.js';
import { cleanupAfterEach } from './helpers.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const { temp } = cleanupAfterEach();

const day = (d: number): IsoDate => `2025-11-${String(d).padStart(2, '0')}` as IsoDate;
const HOUR = 3_600_000;
/** Hours after the start of day `d` (UTC). */
const at = (d: number, hours: number): number => toEpochDay(day(d)) * 24 * HOUR + hours * HOUR;

const processor = (name: string, dependsOn?: { processor: string; lookbackDays: number }[]) => ({
  name,
  schedule: { table: 'calendar', dateColumn: 'day', statusColumn: 'state', statuses: ['open'] },
  target: { table: name, dateColumn: 'd' },
  policy: { minRecordsPerDate: 1 },
  command: [process.execPath, '-e', '0'],
  ...(dependsOn === undefined ? {} : { dependsOn }),
});

/**
 * Till receipts → orders (same day) → weekly revenue (the day and six before), days 1–10, in
 * one SQLite file with the run log: the till day 2 is missing; the till day 4 was rebuilt after
 * orders read it; orders day 7 has a later failed run and a held (skipped) run, which built
 * nothing; weekly day 9 has a rebuild that started later but finished sooner.
 */
const makeStore = async (dir: string): Promise<void> => {
  const path = join(dir, 'shop.db');
  const store = openSqliteStore({ path });
  const runs: RunRecord[] = [];
  let n = 0;
  const run = (p: string, d: number, start: number, over: Partial<RunRecord> = {}): void =>
    void runs.push({
      runId: `r${++n}`,
      processorName: p,
      runDate: day(d),
      trigger: 'scheduled',
      isBackfill: false,
      outcome: 'succeeded',
      skipReason: null,
      errorMessage: null,
      startedAt: start,
      finishedAt: start + HOUR / 2,
      durationMs: HOUR / 2,
      metadata: {},
      ...over,
    });
  for (let d = 1; d <= 10; d++) {
    if (d !== 2) run('pos_sales', d, at(d, 1));
    run('orders_daily', d, at(d, 2));
    run('weekly_revenue', d, at(d, 3));
  }
  run('pos_sales', 4, at(6, 1), { trigger: 'manual' });
  run('orders_daily', 7, at(8, 0), { outcome: 'failed', errorMessage: 'boom' });
  run('orders_daily', 7, at(8, 1), { outcome: 'skipped', skipReason: 'backfill_queued', metadata: { gap_size: 1 } });
  run('weekly_revenue', 9, at(9, 4), { finishedAt: at(9, 4) + 60_000 });
  for (const r of runs) await store.runLog.append(r);
  await store.close();
  const db = new Database(path);
  db.exec(`CREATE TABLE calendar(day TEXT PRIMARY KEY, state TEXT NOT NULL);
           CREATE TABLE pos_sales(d TEXT NOT NULL);
           CREATE TABLE orders_daily(d TEXT NOT NULL);
           CREATE TABLE weekly_revenue(d TEXT NOT NULL);`);
  for (let d = 1; d <= 10; d++) {
    db.prepare(`INSERT INTO calendar VALUES (?, 'open')`).run(day(d));
    if (d !== 2) db.prepare('INSERT INTO pos_sales VALUES (?)').run(day(d));
    for (const t of ['orders_daily', 'weekly_revenue']) db.prepare(`INSERT INTO ${t} VALUES (?)`).run(day(d));
  }
  db.close();
};

/** The run log's reads, counted; `narrow: false` hides `lastBuilds`, as a store without it would. */
const counted = (inner: RunLog, narrow: boolean): { runLog: RunLog; calls: { runs: number; lastBuilds: number } } => {
  const calls = { runs: 0, lastBuilds: 0 };
  const runLog: RunLog = {
    append: (r) => inner.append(r),
    runs: (q) => (calls.runs++, inner.runs(q)),
    hold: (h, o) => inner.hold(h, o),
    heldRuns: (q) => inner.heldRuns(q),
    release: (p, d, s, t) => inner.release(p, d, s, t),
    claimResume: (p, d, c) => inner.claimResume(p, d, c),
    finishResume: (c, done) => inner.finishResume(c, done),
    ...(narrow ? { lastBuilds: (q: Parameters<NonNullable<RunLog['lastBuilds']>>[0]) => (calls.lastBuilds++, inner.lastBuilds!(q)) } : {}),
  };
  return { runLog, calls };
};

describe('plan reads the last builds', () => {
  it('plans the same with the store’s lastBuilds read as by folding every run, and the CLI prints that plan', async () => {
    const t = temp();
    await makeStore(t.dir);
    t.write('smart-backfill.config.json', {
      store: { type: 'sqlite', path: './shop.db' },
      processors: [
        processor('weekly_revenue', [{ processor: 'orders_daily', lookbackDays: 6 }]),
        processor('pos_sales'),
        processor('orders_daily', [{ processor: 'pos_sales', lookbackDays: 0 }]),
      ],
    });
    const config = await loadConfig(t.dir, undefined, {});
    const store = openSqliteStore({ path: join(t.dir, 'shop.db'), readOnly: true });
    try {
      const plan = async (narrow: boolean) => {
        const { runLog, calls } = counted(store.runLog, narrow);
        const reads: PlanReads = {
          config,
          runLog,
          windowFor: (p) => store.windowReader(p.schedule as never, p.target as never),
        };
        return { plan: await planFromStore(reads, config.graph, config.graph.order, day(1), day(10)), calls };
      };
      const narrow = await plan(true);
      const folded = await plan(false);
      // One read of the run log, no run records.
      expect(narrow.calls).toEqual({ runs: 0, lastBuilds: 1 });
      expect(folded.calls).toEqual({ runs: 3, lastBuilds: 0 });
      expect(narrow.plan).toEqual(folded.plan);
      expect(
        narrow.plan.steps.map(
          (s) => `${s._tag} ${s.processor} ${s.date}${s._tag === 'Rerun' && s.because === 'ran_on_incomplete_input' ? ' stale' : ''}`,
        ),
      ).toEqual([
        `Backfill pos_sales ${day(2)}`,
        `Rerun orders_daily ${day(2)}`,
        `Rerun orders_daily ${day(4)} stale`,
        ...[2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => `Rerun weekly_revenue ${day(d)}`),
      ]);

      const r = spawnSync(process.execPath, [bin, 'plan', '--from', day(1), '--to', day(10), '--json'], {
        cwd: t.dir,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${JSON.stringify(folded.plan, null, 2)}\n`);
    } finally {
      await store.close();
    }
  }, 120_000);
});
