#!/usr/bin/env node
// CLI `check` on SQLite (goal: < 300 ms wall, < 120 MB peak RSS): spawns
// `node packages/cli/dist/bin.js check player_game_summary --date 2025-11-16`
// against the NBA example database (examples/nba/generate.mjs, built into a
// temp folder) N times; reports wall time, CPU time and peak RSS of each run
// (from the child's own process.resourceUsage(), via bench/support/rss-probe.mjs),
// and checks that no Google SDK module was loaded (adapters are lazy-loaded:
// SQLite is configured, so @google-cloud/*, @grpc/* and google-auth-library must
// never load). Also measures a bare `node -e 0` start for reference.
// Imports nothing itself; needs `npm run build`.
//   node bench/cli-check.bench.mjs [--runs N]
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const bin = join(root, 'packages/cli/dist/bin.js');
if (!existsSync(bin)) {
  console.error('cli-check: packages/cli/dist/bin.js is missing (run `npm run build` first)');
  process.exit(1);
}
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 15);
const probe = pathToFileURL(join(here, 'support/rss-probe.mjs')).href;

const dir = mkdtempSync(join(tmpdir(), 'sb-bench-cli-'));
const nba = join(root, 'examples/nba');
const gen = spawnSync(
  process.execPath,
  [join(nba, 'generate.mjs'), '--db', join(dir, 'nba.db'), '--through', '2025-11-16', '--build', '--skip', '2025-11-15'],
  { cwd: dir, encoding: 'utf8' },
);
if (gen.status !== 0) {
  console.error(`cli-check: generate.mjs failed: ${gen.stderr}`);
  process.exit(1);
}
const config = JSON.parse(readFileSync(join(nba, 'smart-backfill.config.json'), 'utf8'));
config.store.path = './nba.db';
for (const p of config.processors) if (p.module) p.module = join(nba, p.module);
writeFileSync(join(dir, 'smart-backfill.config.json'), JSON.stringify(config, null, 2));

const runOnce = (argv) => {
  const out = join(dir, 'probe.json');
  rmSync(out, { force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', probe, ...argv], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, SB_PROBE_OUT: out, NO_COLOR: '1' },
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const p = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, wallMs, ...p };
};

const baseline = [];
for (let i = 0; i < 5; i++) baseline.push(runOnce(['-e', '0']));
const runs = [];
for (let i = 0; i < RUNS; i++) runs.push(runOnce([bin, 'check', 'player_game_summary', '--date', '2025-11-16']));
const first = runs[0];
if (first.status !== 3) {
  console.error(`cli-check: expected exit 3 (held: Nov 15 would be queued), got ${first.status}\n${first.stdout}\n${first.stderr}`);
  process.exit(1);
}
// the same check with --json, to be sure the figures are for real work
const json = runOnce([bin, 'check', 'player_game_summary', '--date', '2025-11-16', '--json']);

const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const max = (xs) => Math.max(...xs);
const s = {
  bench: 'cli-check',
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  runs: runs.length,
  exitCode: first.status,
  wallMs: { median: med(runs.map((r) => r.wallMs)), max: max(runs.map((r) => r.wallMs)) },
  cpuMs: { median: med(runs.map((r) => r.cpuMs)), max: max(runs.map((r) => r.cpuMs)) },
  peakRssMb: { median: med(runs.map((r) => r.maxRssKb / 1024)), max: max(runs.map((r) => r.maxRssKb / 1024)) },
  nodeStartup: {
    wallMs: med(baseline.map((r) => r.wallMs)),
    cpuMs: med(baseline.map((r) => r.cpuMs)),
    peakRssMb: med(baseline.map((r) => r.maxRssKb / 1024)),
  },
  modules: {
    cjs: first.cjsModules,
    googleCloud: first.googleCloudModules,
    grpc: first.grpcModules,
    googleAuth: first.googleAuthModules,
    betterSqlite3: first.betterSqlite3,
  },
  jsonOutputBytes: json.stdout.length,
  goal: { wallMs: 300, peakRssMb: 120 },
};
const f = (x) => x.toFixed(1).padStart(7);
console.log(
  `cli-check: ${RUNS} × \`smart-backfill check player_game_summary --date 2025-11-16\` on SQLite (exit ${first.status}), load ${s.loadAverage.join(' ')}`,
);
console.log(`  wall ms     median ${f(s.wallMs.median)}   max ${f(s.wallMs.max)}    (node -e 0: ${f(s.nodeStartup.wallMs)})`);
console.log(`  cpu ms      median ${f(s.cpuMs.median)}   max ${f(s.cpuMs.max)}    (node -e 0: ${f(s.nodeStartup.cpuMs)})`);
console.log(`  peak RSS MB median ${f(s.peakRssMb.median)}   max ${f(s.peakRssMb.max)}    (node -e 0: ${f(s.nodeStartup.peakRssMb)})`);
console.log(
  `  modules loaded: ${s.modules.cjs} CommonJS; @google-cloud ${s.modules.googleCloud}, @grpc ${s.modules.grpc}, google-auth ${s.modules.googleAuth}; better-sqlite3 ${s.modules.betterSqlite3}`,
);
console.log(
  `  goal: wall < 300 ms → ${s.wallMs.median < 300 ? 'met' : 'NOT met'}; peak RSS < 120 MB → ${s.peakRssMb.max < 120 ? 'met' : 'NOT met'}; Google SDKs not loaded → ${s.modules.googleCloud + s.modules.grpc + s.modules.googleAuth === 0 ? 'yes' : 'NO'}`,
);
rmSync(dir, { recursive: true, force: true });
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results/cli-check.json'), JSON.stringify(s, null, 2) + '\n');
if (s.modules.googleCloud + s.modules.grpc + s.modules.googleAuth > 0) process.exitCode = 1;
