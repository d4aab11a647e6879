#!/usr/bin/env node
// Recovery overhead on SQLite with a no-op processor (goal: < 100 ms median):
// one guarded run finds a one-date gap → holds the run and queues the backfill
// (tracker + queue + run log) → a worker receives it, claims, runs the no-op
// processor (one row), completes, acks → the held run is released and re-run
// through the guard (trigger `resume`) → Ran. Timed end to end per recovery,
// wall and CPU (the machine is shared: CPU time is the steadier figure).
// Imports the BUILT packages: run `npm run build` (or `npm run bench`) first.
//   node bench/sqlite-recovery.bench.mjs [--recoveries N] [--synchronous NORMAL|FULL]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const load = (p) =>
  import(join(here, `../packages/${p}/dist/index.js`)).catch((e) => {
    console.error(`sqlite-recovery: cannot load packages/${p}/dist (run \`npm run build\` first): ${e.message}`);
    process.exit(1);
  });
const [{ openSqliteStore }, engine, core] = await Promise.all([load('sqlite'), load('engine'), load('core')]);
const { withSmartBackfill, createWorker, processorRegistry, systemClock } = engine;
const { addDays, isoDate } = core;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('recoveries', 300));
const WARMUP = 20;
const SYNC = arg('synchronous', 'NORMAL');

const dir = mkdtempSync(join(tmpdir(), 'sb-bench-recovery-'));
const store = openSqliteStore({ path: join(dir, 'bench.db'), synchronous: SYNC });
const db = store.db;
db.exec(`CREATE TABLE schedule (processor TEXT NOT NULL, game_date TEXT NOT NULL);
         CREATE TABLE target (processor TEXT NOT NULL, game_date TEXT NOT NULL);
         CREATE INDEX schedule_pd ON schedule (processor, game_date);
         CREATE INDEX target_pd ON target (processor, game_date);`);
const window = store.windowReader(
  { table: 'schedule', dateColumn: 'game_date', processorColumn: 'processor' },
  { table: 'target', dateColumn: 'game_date', processorColumn: 'processor' },
);
const addSchedule = db.prepare('INSERT INTO schedule VALUES (?, ?)');
const addRow = db.prepare('INSERT INTO target VALUES (?, ?)');

// Each recovery gets its own processor: 30 scheduled days, all present but the day before the run.
const RUN_DATE = isoDate('2025-11-16');
const names = Array.from({ length: N + WARMUP }, (_, i) => `p${i}`);
db.transaction(() => {
  for (const name of names) {
    for (let k = 1; k <= 30; k++) {
      const d = addDays(RUN_DATE, -k);
      addSchedule.run(name, d);
      if (k !== 1) addRow.run(name, d);
    }
    addSchedule.run(name, RUN_DATE);
  }
})();

const policy = { lookbackDays: 30, criticalLookbackDays: 10, minRecordsPerDate: 1, autoBackfillThreshold: 3 };
const deps = {
  window,
  tracker: store.tracker,
  queue: store.queue,
  runLog: store.runLog,
  alertLog: store.alertLog,
  clock: systemClock,
  policy,
};
const guards = names.map((name) => withSmartBackfill({ name, run: async ({ date }) => void addRow.run(name, date) }, deps));
const registry = processorRegistry(guards);
const worker = createWorker({ ...deps, registry, leaseMs: 60_000, batchSize: 1 });

const wall = [];
const cpu = [];
let ok = 0;
for (const [i, guard] of guards.entries()) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const held = await guard.run({ date: RUN_DATE });
  if (held._tag !== 'Held') throw new Error(`expected Held, got ${held._tag}`);
  const tick = await worker.runOnce({ max: 1 });
  const done = tick.outcomes[0];
  const c = process.cpuUsage(c0);
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  if (done?._tag !== 'Completed' || !done.resumed.includes(RUN_DATE))
    throw new Error(`expected Completed + resumed, got ${JSON.stringify(done)}`);
  const held2 = await store.runLog.heldRuns({ processorName: guard.name, status: 'held' });
  if (held2.length !== 0) throw new Error('held run not released');
  if (i >= WARMUP) {
    wall.push(t);
    cpu.push((c.user + c.system) / 1000);
    ok++;
  }
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
};
const f = (x) => x.toFixed(2).padStart(8);
const summary = {
  bench: 'sqlite-recovery',
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  synchronous: SYNC,
  recoveries: ok,
  wallMs: { median: pct(wall, 0.5), p95: pct(wall, 0.95), max: pct(wall, 1) },
  cpuMs: { median: pct(cpu, 0.5), p95: pct(cpu, 0.95), max: pct(cpu, 1) },
  goalMedianMs: 100,
};
console.log(
  `sqlite-recovery: ${ok} recoveries (detect → hold + queue → backfill → resume), synchronous=${SYNC}, load ${summary.loadAverage.join(' ')}`,
);
console.log(`  wall ms   median ${f(summary.wallMs.median)}   p95 ${f(summary.wallMs.p95)}   max ${f(summary.wallMs.max)}`);
console.log(`  cpu  ms   median ${f(summary.cpuMs.median)}   p95 ${f(summary.cpuMs.p95)}   max ${f(summary.cpuMs.max)}`);
console.log(
  `  goal: median < 100 ms → ${summary.wallMs.median < 100 ? 'met' : 'NOT met'} (wall), ${summary.cpuMs.median < 100 ? 'met' : 'NOT met'} (CPU)`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results/sqlite-recovery.json'), JSON.stringify(summary, null, 2) + '\n');
