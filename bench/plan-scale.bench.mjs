#!/usr/bin/env node
// `smart-backfill plan` at scale on SQLite (goal: < 1 s wall): a graph of 100 processors in
// five levels (10 raw → 30 → 30 → 20 → 10, each reading one to three of the level above
// with lookbacks 0, 3, 7 or 10 days), a year of data (one row per processor per date in its
// own target table, a shared schedule), a year of run log (one succeeded run per processor
// per date, 36,500 rows), 12 raw dates missing and 4 raw dates backfilled after their
// downstream was built. Times the built CLI (`plan --from … --to … --json`, spawned N
// times) and, in process, where the time goes: opening the store, the run-log reads, the
// window reads, and core's rule (`builtOnIncompleteInput` + `planPipeline`). `--keep` keeps the
// database (and prints where), to compare `plan --json` across builds.
// Needs `npm run build`.
//   node bench/plan-scale.bench.mjs [--runs N]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const bin = join(root, 'packages/cli/dist/bin.js');
if (!existsSync(bin)) {
  console.error('plan-scale: packages/cli/dist/bin.js is missing (run `npm run build` first)');
  process.exit(1);
}
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 5);
const dist = (pkg) => pathToFileURL(join(root, `packages/${pkg}/dist/index.js`)).href;
const core = await import(dist('core'));
const sqlite = await import(dist('sqlite'));

const FROM = '2025-01-01';
const TO = '2025-12-31';
const DAY = 86_400_000;
const dates = [];
for (let d = FROM; d <= TO; d = core.addDays(d, 1)) dates.push(d);

// ---- the graph: deterministic, so every run of the bench plans the same thing ----
let seed = 20251116;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const LEVELS = [10, 30, 30, 20, 10];
const LOOKBACKS = [0, 3, 7, 10];
const levels = [];
const processors = [];
for (const [l, n] of LEVELS.entries()) {
  const names = Array.from({ length: n }, (_, i) => `p${l}_${String(i).padStart(2, '0')}`);
  for (const name of names) {
    const above = levels[l - 1] ?? [];
    const k = above.length === 0 ? 0 : 1 + Math.floor(rand() * 3);
    const picked = [...new Set(Array.from({ length: k }, () => above[Math.floor(rand() * above.length)]))];
    processors.push({
      name,
      level: l,
      dependsOn: picked.map((p) => ({ processor: p, lookbackDays: LOOKBACKS[Math.floor(rand() * LOOKBACKS.length)] })),
    });
  }
  levels.push(names);
}

// ---- the store ----
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-plan-'));
const dbPath = join(dir, 'plan.db');
const store = sqlite.openSqliteStore({ path: dbPath });
store.close?.();
const { default: Database } = await import('better-sqlite3');
const db = new Database(dbPath);
const missing = new Set();
for (let i = 0; i < 12; i++) missing.add(`${levels[0][i % 10]}|${dates[30 + Math.floor(rand() * 300)]}`);
const restated = new Map();
for (let i = 0; i < 4; i++) restated.set(`${levels[0][(i * 3) % 10]}|${dates[40 + Math.floor(rand() * 280)]}`, true);
db.transaction(() => {
  db.exec('CREATE TABLE schedule (d TEXT NOT NULL, status TEXT NOT NULL)');
  const s = db.prepare(`INSERT INTO schedule VALUES (?, 'Final')`);
  for (const d of dates) s.run(d);
  const run = db.prepare(
    `INSERT INTO analytics_processor_runs (run_id, processor_name, run_date, run_trigger, is_backfill, outcome, skip_reason, error_message, started_at, finished_at, duration_ms, metadata)
     VALUES (?, ?, ?, ?, ?, 'succeeded', NULL, NULL, ?, ?, 60000, '{}')`,
  );
  let id = 0;
  for (const p of processors) {
    db.exec(`CREATE TABLE t_${p.name} (d TEXT NOT NULL)`);
    const row = db.prepare(`INSERT INTO t_${p.name} VALUES (?)`);
    for (const d of dates) {
      const k = `${p.name}|${d}`;
      if (missing.has(k)) continue;
      row.run(d);
      const at = core.toEpochDay(d) * DAY + (6 + p.level) * 3_600_000;
      run.run(`r${++id}`, p.name, d, 'scheduled', 0, at, at + 60_000);
      // Backfilled again a week later: everything downstream that read it was built before.
      if (restated.has(k)) run.run(`r${++id}`, p.name, d, 'backfill', 1, at + 7 * DAY, at + 7 * DAY + 60_000);
    }
  }
})();
db.close();
const config = {
  store: { type: 'sqlite', path: './plan.db' },
  processors: processors.map((p) => ({
    name: p.name,
    schedule: { table: 'schedule', dateColumn: 'd', statusColumn: 'status', statuses: ['Final'] },
    target: { table: `t_${p.name}`, dateColumn: 'd' },
    command: 'true',
    policy: { minRecordsPerDate: 1 },
    ...(p.dependsOn.length > 0 ? { dependsOn: p.dependsOn } : {}),
  })),
};
writeFileSync(join(dir, 'smart-backfill.config.json'), JSON.stringify(config, null, 2));

// ---- the CLI, spawned ----
// The child's own CPU time (bench/support/rss-probe.mjs): on a loaded machine wall time is mostly waiting.
const probe = pathToFileURL(join(here, 'support/rss-probe.mjs')).href;
const cli = () => {
  const out = join(dir, 'probe.json');
  rmSync(out, { force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', probe, bin, 'plan', '--from', FROM, '--to', TO, '--json'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', SB_PROBE_OUT: out },
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const p = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, wallMs, cpuMs: p.cpuMs ?? NaN };
};
const node0 = () => {
  const t0 = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0']);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const runs = Array.from({ length: RUNS }, cli);
const first = runs[0];
if (first.status !== 0) {
  console.error(`plan-scale: plan exited ${first.status}\n${first.stderr}`);
  process.exit(1);
}
const plan = JSON.parse(first.stdout);
const backfills = plan.steps.filter((s) => s._tag === 'Backfill').length;
const reruns = plan.steps.length - backfills;

// ---- in process: where the time goes (the reads `planFromStore` makes, then core's rule) ----
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
let t = process.hrtime.bigint();
const ro = sqlite.openSqliteStore({ path: dbPath, readOnly: true });
const openMs = ms(t);
const graph = core.buildPipelineGraph(processors).value;
t = process.hrtime.bigint();
const since = core.toEpochDay(FROM) * DAY - DAY;
const started = new Map();
const finished = new Map();
for (const p of processors) {
  started.set(p.name, new Map());
  finished.set(p.name, new Map());
}
// The plan's read: the store's `lastBuilds` (one query), else every run folded the same way.
const names = processors.map((p) => p.name);
const builds =
  ro.runLog.lastBuilds !== undefined
    ? await ro.runLog.lastBuilds({ processorNames: names, since })
    : core.lastBuildsOf((await Promise.all(names.map((name) => ro.runLog.runs({ processorName: name, since })))).flat());
for (const b of builds) {
  started.get(b.processorName).set(b.runDate, b.startedAt);
  finished.get(b.processorName).set(b.runDate, b.finishedAt);
}
const runLogMs = ms(t);
t = process.hrtime.bigint();
const windows = new Map();
for (const p of config.processors) {
  const w = sqlite.sqliteWindowReader(ro.db, p.schedule, p.target);
  windows.set(p.name, await w.readWindow({ processorName: p.name, start: FROM, end: TO }));
}
const windowMs = ms(t);
t = process.hrtime.bigint();
const perProcessor = new Map();
for (const p of processors) {
  const w = windows.get(p.name);
  const a = core.analyzeRange({ start: FROM, end: TO, ...w, policy: { minRecordsPerDate: 1 } });
  const miss = new Set(a.missingDates);
  const built = [...new Set(w.expectedDates)].filter((d) => !miss.has(d));
  const stale = core.builtOnIncompleteInput(graph.dependsOn.get(p.name) ?? [], started.get(p.name), finished);
  perProcessor.set(p.name, { missing: miss, built, ranOnIncomplete: stale });
}
const steps = core.planPipeline(graph, perProcessor);
const coreMs = ms(t);
ro.close?.();

const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const s = {
  bench: 'plan-scale',
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  processors: processors.length,
  days: dates.length,
  runLogRows: processors.length * dates.length - missing.size + restated.size,
  runs: RUNS,
  plan: { steps: plan.steps.length, backfills, reruns, inProcessSteps: steps.length },
  cliWallMs: { median: med(runs.map((r) => r.wallMs)), max: Math.max(...runs.map((r) => r.wallMs)) },
  cliCpuMs: { median: med(runs.map((r) => r.cpuMs)), max: Math.max(...runs.map((r) => r.cpuMs)) },
  nodeStartupMs: med(Array.from({ length: 3 }, node0)),
  inProcessMs: { open: openMs, runLogReads: runLogMs, windowReads: windowMs, core: coreMs },
  goal: { wallMs: 1000 },
};
const f = (x) => x.toFixed(1).padStart(7);
console.log(
  `plan-scale: ${RUNS} × \`smart-backfill plan --from ${FROM} --to ${TO} --json\`, ${s.processors} processors × ${s.days} days on SQLite (${s.runLogRows} runs), load ${s.loadAverage.join(' ')}`,
);
console.log(`  plan: ${plan.steps.length} steps (${backfills} backfills, ${reruns} re-runs)`);
console.log(`  CLI wall ms   median ${f(s.cliWallMs.median)}   max ${f(s.cliWallMs.max)}   (node -e 0: ${f(s.nodeStartupMs)})`);
console.log(`  CLI cpu ms    median ${f(s.cliCpuMs.median)}   max ${f(s.cliCpuMs.max)}`);
console.log(
  `  in process ms open ${f(openMs)}   run log ${f(runLogMs)}   windows ${f(windowMs)}   core ${f(coreMs)}   (${steps.length} steps)`,
);
console.log(`  goal: wall < 1 s → ${s.cliWallMs.median < 1000 ? 'met' : 'NOT met'}`);
if (process.argv.includes('--keep')) console.log(`  kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results/plan-scale.json'), JSON.stringify(s, null, 2) + '\n');
if (steps.length !== plan.steps.length) {
  console.error(`plan-scale: the CLI planned ${plan.steps.length} steps, the in-process replay ${steps.length}`);
  process.exitCode = 1;
}
