#!/usr/bin/env node
// How the cost of a check grows (should be linear):
//   A. one processor, lookback 30 → 3,650 days
//   B. lookback 30 days, processors 1 → 10,000
// each through (1) the pure core (analyzeGaps + decide on string inputs) and
// (2) the real SQLite path (guard.check: one window query over indexed user
// tables + tracker.forWindow + open alerts; writes nothing). Daily schedule,
// 2% of dates missing (seeded). Reports CPU time (steadier than wall time on a
// shared machine) per check and per date-check, and a least-squares slope of
// log(time) on log(size): 1.0 is linear.
// Imports the BUILT packages: run `npm run build` (or `npm run bench`) first.
//   node bench/check-scaling.bench.mjs [--max-processors N]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const load = (p) =>
  import(join(here, `../packages/${p}/dist/index.js`)).catch((e) => {
    console.error(`check-scaling: cannot load packages/${p}/dist (run \`npm run build\` first): ${e.message}`);
    process.exit(1);
  });
const [core, engine, { openSqliteStore }] = await Promise.all([load('core'), load('engine'), load('sqlite')]);
const { addDays, analyzeGaps, decide, isoDate, DEFAULT_POLICY } = core;
const { withSmartBackfill, systemClock } = engine;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const MAX_P = arg('max-processors', 10_000);
const AS_OF = isoDate('2035-01-01');
const LOOKBACKS = [30, 90, 365, 1_000, 3_650];
const PROCESSORS = [1, 10, 100, 1_000, 10_000].filter((p) => p <= MAX_P);

let seed = 20251116;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const cpuMs = (f) => {
  const c0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  const r = f();
  const done = (x) => {
    const c = process.cpuUsage(c0);
    return { cpu: (c.user + c.system) / 1000, wall: Number(process.hrtime.bigint() - w0) / 1e6, value: x };
  };
  return r instanceof Promise ? r.then(done) : done(r);
};
/** Best of `rounds` (the least disturbed by other load). */
const best = async (rounds, f) => {
  let b;
  for (let i = 0; i < rounds; i++) {
    const r = await cpuMs(f);
    if (b === undefined || r.cpu < b.cpu) b = r;
  }
  return b;
};
const slope = (xs, ys) => {
  const lx = xs.map(Math.log);
  const ly = ys.map((y) => Math.log(Math.max(y, 1e-9)));
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i] - mx) * (ly[i] - my);
    den += (lx[i] - mx) ** 2;
  }
  return num / den;
};

const history = (days) => {
  const expected = [];
  const counts = {};
  for (let k = 1; k <= days; k++) {
    const d = addDays(AS_OF, -k);
    expected.push(d);
    if (rand() >= 0.02) counts[d] = 200;
  }
  return { expected, counts };
};
const policyFor = (lookbackDays) => ({
  ...DEFAULT_POLICY,
  lookbackDays,
  criticalLookbackDays: Math.min(10, lookbackDays),
  autoBackfillThreshold: 1_000_000,
});

// ---- SQLite fixture: schedule + target with (processor, date) indexes
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-scaling-'));
const store = openSqliteStore({ path: join(dir, 'scaling.db') });
store.db.exec(`CREATE TABLE schedule (processor TEXT NOT NULL, game_date TEXT NOT NULL);
               CREATE TABLE target (processor TEXT NOT NULL, game_date TEXT NOT NULL, n INTEGER);
               CREATE INDEX schedule_pd ON schedule (processor, game_date);
               CREATE INDEX target_pd ON target (processor, game_date);`);
const window = store.windowReader(
  { table: 'schedule', dateColumn: 'game_date', processorColumn: 'processor' },
  { table: 'target', dateColumn: 'game_date', processorColumn: 'processor' },
);
const insS = store.db.prepare('INSERT INTO schedule VALUES (?, ?)');
const insT = store.db.prepare('INSERT INTO target VALUES (?, ?, 1)');
const seedSqlite = (name, days) => {
  const { expected, counts } = history(days);
  for (const d of expected) {
    insS.run(name, d);
    // target counts rows: a present date gets minRecordsPerDate rows... one row and a policy min of 1 keeps the table small
    if (counts[d] !== undefined) insT.run(name, d);
  }
};
const guardFor = (name, lookbackDays) =>
  withSmartBackfill(
    { name, run: async () => undefined },
    {
      window,
      tracker: store.tracker,
      queue: store.queue,
      runLog: store.runLog,
      alertLog: store.alertLog,
      clock: systemClock,
      policy: { ...policyFor(lookbackDays), minRecordsPerDate: 1 },
    },
  );

// ---- A: lookback sweep, one processor
const rowsA = [];
store.db.transaction(() => seedSqlite('lookback', Math.max(...LOOKBACKS)))();
for (const L of LOOKBACKS) {
  const { expected, counts } = history(L);
  const reps = Math.max(20, Math.floor(200_000 / L));
  const pure = await best(3, () => {
    let n = 0;
    for (let i = 0; i < reps; i++)
      n += decide(analyzeGaps({ asOf: AS_OF, expectedDates: expected, recordCounts: counts, policy: policyFor(L) }), policyFor(L), {
        isBackfill: false,
        activeRequests: [],
        failedAttempts: new Map(),
      })._tag.length;
    return n;
  });
  const guard = guardFor('lookback', L);
  const sqlReps = Math.max(10, Math.floor(20_000 / L));
  const sql = await best(3, async () => {
    for (let i = 0; i < sqlReps; i++) await guard.check(AS_OF);
  });
  rowsA.push({ lookbackDays: L, pureUsPerCheck: (pure.cpu * 1000) / reps, sqliteUsPerCheck: (sql.cpu * 1000) / sqlReps });
}

// ---- B: processors sweep, lookback 30
const rowsB = [];
let seeded = 0;
for (const P of PROCESSORS) {
  store.db.transaction(() => {
    for (; seeded < P; seeded++) seedSqlite(`p${seeded}`, 30);
  })();
  const fleet = Array.from({ length: P }, () => history(30));
  const pure = await best(3, () => {
    let n = 0;
    for (const { expected, counts } of fleet)
      n += decide(analyzeGaps({ asOf: AS_OF, expectedDates: expected, recordCounts: counts, policy: policyFor(30) }), policyFor(30), {
        isBackfill: false,
        activeRequests: [],
        failedAttempts: new Map(),
      })._tag.length;
    return n;
  });
  const guards = Array.from({ length: P }, (_, i) => guardFor(`p${i}`, 30));
  const sql = await best(P >= 1_000 ? 1 : 3, async () => {
    for (const g of guards) await g.check(AS_OF);
  });
  rowsB.push({
    processors: P,
    pureMsTotal: pure.cpu,
    sqliteMsTotal: sql.cpu,
    pureUsPerProcessor: (pure.cpu * 1000) / P,
    sqliteUsPerProcessor: (sql.cpu * 1000) / P,
  });
}
await store.close();
rmSync(dir, { recursive: true, force: true });

const fitA = {
  pure: slope(
    rowsA.map((r) => r.lookbackDays),
    rowsA.map((r) => r.pureUsPerCheck),
  ),
  sqlite: slope(
    rowsA.map((r) => r.lookbackDays),
    rowsA.map((r) => r.sqliteUsPerCheck),
  ),
};
// fit B on P >= 10: a single check is dominated by fixed overhead and timer resolution
const bigB = rowsB.filter((r) => r.processors >= 10);
const fitB = {
  pure: slope(
    bigB.map((r) => r.processors),
    bigB.map((r) => r.pureMsTotal),
  ),
  sqlite: slope(
    bigB.map((r) => r.processors),
    bigB.map((r) => r.sqliteMsTotal),
  ),
};

const f = (x, w = 10, d = 1) => x.toFixed(d).padStart(w);
console.log(
  `check-scaling (CPU time, best of 3; load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')})`,
);
console.log('A. one processor, lookback grows');
console.log('   lookback   core µs/check   µs/date   sqlite µs/check   µs/date');
for (const r of rowsA)
  console.log(
    `   ${String(r.lookbackDays).padStart(8)} ${f(r.pureUsPerCheck, 15)} ${f(r.pureUsPerCheck / r.lookbackDays, 9, 3)} ${f(r.sqliteUsPerCheck, 17)} ${f(r.sqliteUsPerCheck / r.lookbackDays, 9, 3)}`,
  );
console.log(
  `   log-log slope: core ${fitA.pure.toFixed(2)}, sqlite ${fitA.sqlite.toFixed(2)}  (1.00 = linear; below 1 = fixed cost still visible)`,
);
console.log('B. lookback 30, processors grow');
console.log('   processors   core ms total   µs/proc   sqlite ms total   µs/proc');
for (const r of rowsB)
  console.log(
    `   ${String(r.processors).padStart(10)} ${f(r.pureMsTotal, 15, 2)} ${f(r.pureUsPerProcessor, 9)} ${f(r.sqliteMsTotal, 17, 1)} ${f(r.sqliteUsPerProcessor, 9)}`,
  );
console.log(`   log-log slope (P >= 10): core ${fitB.pure.toFixed(2)}, sqlite ${fitB.sqlite.toFixed(2)}  (1.00 = linear)`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results/check-scaling.json'),
  JSON.stringify(
    {
      bench: 'check-scaling',
      at: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      loadAverage: loadavg(),
      lookback: rowsA,
      processors: rowsB,
      slopes: { lookback: fitA, processors: fitB },
    },
    null,
    2,
  ) + '\n',
);
