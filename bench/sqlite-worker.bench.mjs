#!/usr/bin/env node
// SQLite worker throughput: backfills per second with a no-op processor, for 1
// and 4 worker processes on one database file (goal: >= 2,000/s). Each backfill
// is the whole protocol: receive (lease), claim, run, complete, ack, run-log row.
// Uses the engine's createWorker when packages/engine/dist loads, else the same
// claim/complete protocol driven directly (--direct forces that).
// Imports the BUILT packages: run `npx tsc -b packages/sqlite packages/engine` first.
//   node bench/sqlite-worker.bench.mjs [--jobs N] [--workers 1,4] [--direct] [--synchronous NORMAL|FULL]
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
const sqlite = await import(join(here, '../packages/sqlite/dist/index.js')).catch((e) => {
  console.error(`sqlite-worker: cannot load packages/sqlite/dist (run \`npx tsc -b packages/sqlite\` first): ${e.message}`);
  process.exit(1);
});
const forceDirect = process.argv.includes('--direct') || process.env.SB_BENCH_MODE === 'direct';
const engine = forceDirect ? undefined : await import(join(here, '../packages/engine/dist/index.js')).catch(() => undefined);
const MODE = engine?.createWorker !== undefined ? 'engine' : 'direct';
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const SYNC = arg('synchronous', 'NORMAL');

// ---------------------------------------------------------------- child: one worker
if (process.argv.includes('--child')) {
  const { db: dbPath, workerId, leaseMs } = JSON.parse(process.env.SB_BENCH);
  const store = sqlite.openSqliteStore({ path: dbPath, busyTimeoutMs: 10_000, synchronous: SYNC });
  const remaining = store.db.prepare(`SELECT COUNT(*) FROM backfill_requests WHERE status IN ('queued','processing')`).pluck();
  let completed = 0;
  let errors = 0;
  let tick;
  if (MODE === 'engine') {
    const noop = { name: 'noop', run: async () => undefined };
    const worker = engine.createWorker({
      queue: store.queue,
      tracker: store.tracker,
      runLog: store.runLog,
      clock: engine.systemClock,
      workerId,
      leaseMs,
      registry: new Map([['noop', noop]]),
      resume: false,
      batchSize: 50,
    });
    tick = async () => {
      const t = await worker.runOnce();
      for (const o of t.outcomes) {
        if (o._tag === 'Completed') completed++;
        else if (o._tag === 'Error') errors++;
      }
      return t.received;
    };
  } else {
    const { tracker, queue, runLog } = store;
    tick = async () => {
      const ds = await queue.receive({ max: 50, leaseMs, waitMs: 0 });
      for (const d of ds) {
        const startedAt = Date.now();
        const c = await tracker.apply(d.message.id, { _tag: 'Claim', at: startedAt, owner: workerId, leaseMs });
        if (c._tag === 'Err') {
          await d.ack();
          continue;
        }
        const done = await tracker.apply(d.message.id, { _tag: 'Complete', at: Date.now(), attempt: c.value.attempt });
        await runLog.append({
          runId: `${d.message.id}:${c.value.attempt}`,
          processorName: 'noop',
          runDate: c.value.date,
          trigger: 'backfill',
          isBackfill: true,
          outcome: 'succeeded',
          skipReason: null,
          errorMessage: null,
          startedAt,
          finishedAt: Date.now(),
          durationMs: Date.now() - startedAt,
          metadata: { request_id: d.message.id },
        });
        await d.ack();
        if (done._tag === 'Ok') completed++;
      }
      return ds.length;
    };
  }
  process.send({ type: 'ready' });
  process.once('message', async () => {
    const t0 = performance.now();
    for (;;) {
      let n = 0;
      try {
        n = await tick();
      } catch {
        errors++;
      }
      if (n === 0) {
        if (remaining.get() === 0) break;
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    const ms = performance.now() - t0;
    await store.close();
    process.send({ type: 'done', workerId, completed, errors, ms }, () => process.disconnect());
  });
} else {
  // -------------------------------------------------------------- parent
  const JOBS = Number(arg('jobs', 20_000));
  const WORKERS = String(arg('workers', '1,4')).split(',').map(Number);
  const results = [];
  for (const n of WORKERS) {
    const dir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
    const db = join(dir, 'bench.db');
    try {
      const store = sqlite.openSqliteStore({ path: db, synchronous: SYNC });
      const now = Date.now();
      const epochDay = Date.UTC(2000, 0, 1) / 86_400_000;
      for (let i = 0; i < JOBS; i += 1000) {
        const batch = [];
        for (let k = i; k < Math.min(JOBS, i + 1000); k++) {
          batch.push({
            requestId: `job-${k}`,
            processorName: 'noop',
            date: new Date((epochDay + k) * 86_400_000).toISOString().slice(0, 10),
            requestType: 'auto',
            priority: 'normal',
            requestedAt: now,
            requestedBy: 'bench',
            triggerReason: 'auto_backfill',
            metadata: {},
          });
        }
        const { created } = await store.tracker.create(batch);
        await store.queue.publish(
          created.map((r) =>
            engine !== undefined
              ? engine.queueMessageForRequest(r)
              : { id: r.requestId, data: JSON.stringify({ request_id: r.requestId }), attributes: {} },
          ),
        );
      }
      await store.close();
      const children = Array.from({ length: n }, (_, i) =>
        fork(self, ['--child', ...process.argv.slice(2)], {
          env: { ...process.env, SB_BENCH: JSON.stringify({ db, workerId: `w${i + 1}`, leaseMs: 600_000 }) },
        }),
      );
      await Promise.all(children.map((c) => new Promise((r) => c.once('message', r))));
      const t0 = performance.now();
      const reports = await Promise.all(
        children.map((c) => {
          const p = new Promise((r) => c.on('message', (m) => m.type === 'done' && r(m)));
          c.send('go');
          return p;
        }),
      );
      const wallMs = performance.now() - t0;
      const completed = reports.reduce((s, r) => s + r.completed, 0);
      const errors = reports.reduce((s, r) => s + r.errors, 0);
      const check = sqlite.openSqliteStore({ path: db });
      const done = check.db.prepare(`SELECT COUNT(*) FROM backfill_requests WHERE status = 'completed'`).pluck().get();
      await check.close();
      const perSecond = Math.round((completed / wallMs) * 1000);
      results.push({
        loadAverage1m: Number(loadavg()[0].toFixed(2)),
        workers: n,
        jobs: JOBS,
        completed,
        completedInDb: done,
        errors,
        wallMs: Math.round(wallMs),
        perSecond,
        perWorker: reports.map((r) => r.completed),
      });
      console.log(
        `sqlite-worker [${MODE}, synchronous=${SYNC}, load ${loadavg()[0].toFixed(1)} on ${cpus().length} cpus]: ${n} worker(s), ${completed}/${JOBS} backfills in ${Math.round(wallMs)} ms = ${perSecond}/s (errors ${errors}; per worker ${reports.map((r) => r.completed).join(', ')})`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const goal = 2000;
  const best = Math.max(...results.map((r) => r.perSecond));
  console.log(`goal >= ${goal}/s: ${best >= goal ? 'met' : 'NOT met'} (best ${best}/s)`);
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(
    join(here, 'results', 'sqlite-worker.json'),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        mode: MODE,
        synchronous: SYNC,
        goalPerSecond: goal,
        results,
      },
      null,
      2,
    ) + '\n',
  );
}
