/**
 * SIGKILL at random points: 1,000 SQLite backfill jobs worked by three worker
 * processes (the built engine worker on the built SQLite store) while the test
 * kills one of them with SIGKILL at seeded random moments and starts a
 * replacement, 30 times. A sweeper runs beside them, as `smart-backfill worker` does.
 *
 * Every job must end `completed` or `failed` (nothing stuck in queued or
 * processing, no message left leased), every completed attempt must have really
 * run, and no job may be completed by a stale attempt. How long the orphaned
 * jobs took to finish after their worker died is measured and recorded, not
 * asserted (the machine is shared).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createSweeper, queueMessageForRequest, systemClock } from '@smart-backfill/engine';
import { openSqliteStore } from '@smart-backfill/sqlite';
import { seededRandom } from '@smart-backfill/testkit';
import { record } from './figures.js';
import { requests, tempDir } from './support.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/kill-worker.mjs', import.meta.url));
const BUILT = existsSync(`${ROOT}packages/engine/dist/index.js`) && existsSync(`${ROOT}packages/sqlite/dist/index.js`);

const JOBS = 1_000;
const WORKERS = 3;
const KILLS = 30;
const LEASE_MS = 1_500;
const SWEEP_MS = 250;
const RUN_MS = 60;
const SEED = 20251116;

interface Live {
  id: string;
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
}

describe('SIGKILL at random points (SQLite, worker processes)', () => {
  it(`${JOBS.toLocaleString('en')} jobs, ${KILLS} kills: every job ends completed or failed, nothing left leased, no stale completion`, async () => {
    expect(BUILT, 'the worker processes run packages/*/dist: run `npm run build` first').toBe(true);
    const tmp = tempDir();
    const dbPath = tmp.file('kill.db');
    const store = openSqliteStore({ path: dbPath, busyTimeoutMs: 10_000 });
    const random = seededRandom(SEED);
    const children = new Set<Live>();
    try {
      store.db.exec('CREATE TABLE runs (request_id TEXT NOT NULL, attempt INTEGER NOT NULL, worker_id TEXT NOT NULL, at INTEGER NOT NULL)');
      const all = requests(JOBS, 'noop', Date.now(), '2000-01-01', 'job');
      for (let i = 0; i < JOBS; i += 250) {
        const { created } = await store.tracker.create(all.slice(i, i + 250));
        await store.queue.publish(created.map(queueMessageForRequest));
      }
      expect(store.db.prepare('SELECT COUNT(*) FROM backfill_requests').pluck().get()).toBe(JOBS);

      let spawned = 0;
      const spawn = (): Live => {
        const id = `w${++spawned}`;
        const child = fork(WORKER, [], {
          cwd: ROOT,
          env: { ...process.env, SB_DB: dbPath, SB_WORKER: id, SB_LEASE_MS: String(LEASE_MS), SB_RUN_MS: String(RUN_MS) },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        const ready = new Promise<void>((resolve) => child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve()));
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        const live = { id, child, ready, exited };
        children.add(live);
        void exited.then(() => children.delete(live));
        return live;
      };

      const remaining = store.db.prepare(`SELECT COUNT(*) FROM backfill_requests WHERE status IN ('queued','processing')`).pluck();
      const heldBy = store.db
        .prepare(`SELECT request_id AS id FROM backfill_requests WHERE status = 'processing' AND lease_owner = ?`)
        .pluck();
      const sweeper = createSweeper({ tracker: store.tracker, queue: store.queue, clock: systemClock });
      let swept = 0;
      let sweeping = true;
      const sweepLoop = (async () => {
        while (sweeping) {
          swept += (await sweeper.runOnce()).expired;
          await delay(SWEEP_MS);
        }
      })();

      for (let i = 0; i < WORKERS; i++) spawn();
      await Promise.all([...children].map((c) => c.ready));

      // kill a random live worker at a random moment, then replace it
      const orphans = new Map<string, number>();
      let kills = 0;
      let killedWithWorkInHand = 0;
      const started = Date.now();
      while (kills < KILLS && (remaining.get() as number) > 0) {
        await delay(60 + Math.floor(random.next() * 340));
        const live = [...children];
        const victim = live[Math.floor(random.next() * live.length)];
        if (victim === undefined) break;
        victim.child.kill('SIGKILL');
        await victim.exited;
        const at = Date.now();
        kills++;
        const held = heldBy.all(victim.id) as string[];
        if (held.length > 0) killedWithWorkInHand++;
        for (const id of held) if (!orphans.has(id)) orphans.set(id, at);
        await spawn().ready;
      }
      const lastKill = Date.now();

      // let the survivors finish (bounded: a hang fails the test instead of blocking CI)
      const deadline = Date.now() + 120_000;
      while ((remaining.get() as number) > 0 && Date.now() < deadline) await delay(100);
      const finishedAt = Date.now();
      sweeping = false;
      await sweepLoop;
      for (const c of [...children]) c.child.send('stop');
      await Promise.all([...children].map((c) => Promise.race([c.exited, delay(10_000).then(() => c.child.kill('SIGKILL'))])));

      const byStatus = Object.fromEntries(
        (
          store.db.prepare('SELECT status, COUNT(*) AS n FROM backfill_requests GROUP BY status').all() as Array<{
            status: string;
            n: number;
          }>
        ).map((r) => [r.status, r.n]),
      );
      const unfinishedMessages = store.db
        .prepare(`SELECT COUNT(*) FROM backfill_queue WHERE state IN ('ready','leased')`)
        .pluck()
        .get() as number;
      // a completed job's final attempt really ran (the processor wrote its row before Complete)
      const completedWithoutRun = store.db
        .prepare(
          `SELECT COUNT(*) FROM backfill_requests r WHERE r.status = 'completed' AND NOT EXISTS (SELECT 1 FROM runs x WHERE x.request_id = r.request_id AND x.attempt = r.attempt)`,
        )
        .pluck()
        .get() as number;
      const runsTotal = store.db.prepare('SELECT COUNT(*) FROM runs').pluck().get() as number;
      const rerun = store.db
        .prepare('SELECT COUNT(*) FROM (SELECT request_id FROM runs GROUP BY request_id HAVING COUNT(*) > 1)')
        .pluck()
        .get() as number;
      const maxAttempt = store.db.prepare('SELECT MAX(attempt) FROM backfill_requests').pluck().get() as number;

      // how long after its worker died each orphaned job reached a final state
      const finalAt = store.db.prepare(
        'SELECT status, completed_at AS completedAt, updated_at AS updatedAt FROM backfill_requests WHERE request_id = ?',
      );
      const recover: number[] = [];
      for (const [id, killedAt] of orphans) {
        const r = finalAt.get(id) as { status: string; completedAt: number | null; updatedAt: number };
        expect(['completed', 'failed']).toContain(r.status);
        recover.push((r.completedAt ?? r.updatedAt) - killedAt);
      }
      recover.sort((a, b) => a - b);
      const pct = (p: number): number | null =>
        recover.length === 0 ? null : recover[Math.min(recover.length - 1, Math.ceil(p * recover.length) - 1)]!;

      // the jobs may all finish before the last planned kill on a fast machine; most kills must land
      expect(kills).toBeGreaterThanOrEqual(KILLS / 2);
      expect(remaining.get()).toBe(0);
      expect((byStatus['completed'] ?? 0) + (byStatus['failed'] ?? 0)).toBe(JOBS);
      expect(unfinishedMessages).toBe(0);
      expect(completedWithoutRun).toBe(0);
      expect(killedWithWorkInHand).toBeGreaterThan(0); // the kills really landed mid-work
      record('sigkill', `${JOBS} jobs, ${KILLS} kills`, {
        jobs: JOBS,
        kills,
        killedWithWorkInHand,
        orphanedJobs: orphans.size,
        completed: byStatus['completed'] ?? 0,
        failed: byStatus['failed'] ?? 0,
        stuck: remaining.get(),
        leftInQueue: unfinishedMessages,
        processorRuns: runsTotal,
        jobsRunMoreThanOnce: rerun,
        maxAttempt,
        sweptByParent: swept,
        leaseMs: LEASE_MS,
        sweepMs: SWEEP_MS,
        orphanRecoveryMs: { median: pct(0.5), p95: pct(0.95), max: pct(1) },
        killPhaseMs: lastKill - started,
        drainAfterLastKillMs: finishedAt - lastKill,
      });
    } finally {
      for (const c of [...children]) c.child.kill('SIGKILL');
      await store.close();
      tmp.done();
    }
  });
});
