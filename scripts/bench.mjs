#!/usr/bin/env node
// `npm run bench`: build every package, then run each bench/*.bench.mjs in its
// own Node process (one at a time: the machine is small and shared, and
// benches measure it). Benches are never part of `npm test`.
//   npm run bench                         every bench
//   npm run bench -- core-fleet           only bench/core-fleet.bench.mjs (name, file or path)
//   npm run bench -- core-fleet -- --processors 1000   extra args after `--` go to each bench
//   SMART_BACKFILL_SKIP_BUILD=1 npm run bench           reuse the current dist/
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const benchDir = join(root, 'bench');
const args = process.argv.slice(2);
const dash = args.indexOf('--');
const names = dash >= 0 ? args.slice(0, dash) : args;
const extra = dash >= 0 ? args.slice(dash + 1) : [];

const all = existsSync(benchDir)
  ? readdirSync(benchDir)
      .filter((f) => f.endsWith('.bench.mjs'))
      .sort()
  : [];
const wanted =
  names.length === 0
    ? all
    : names.map((n) => {
        const file = basename(n).replace(/(\.bench)?\.mjs$/, '') + '.bench.mjs';
        if (!all.includes(file)) {
          console.error(`bench: no bench/${file} (have: ${all.join(', ') || 'none'})`);
          process.exit(2);
        }
        return file;
      });
if (wanted.length === 0) {
  console.error('bench: no bench/*.bench.mjs files');
  process.exit(2);
}

if (!process.env.SMART_BACKFILL_SKIP_BUILD) {
  const b = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (b.status !== 0) {
    console.error('bench: build failed (tsc -b tsconfig.build.json)');
    process.exit(b.status ?? 1);
  }
}

// Every figure is only as good as the machine it ran on: say which, and how loaded it was.
const machine = () => ({
  nproc: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
});
const startedAt = new Date().toISOString();
const m0 = machine();
console.log(`bench: ${startedAt} · ${m0.nproc} × ${m0.cpuModel} · node ${m0.node} · load average ${m0.loadAverage.join(' ')}`);

let failed = 0;
const ran = [];
for (const file of wanted) {
  console.log(`\n== ${file}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(benchDir, file), ...extra], { cwd: root, stdio: 'inherit' });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed++;
    console.error(`== ${file} FAILED (exit ${r.status ?? r.signal}) after ${secs}s`);
  } else console.log(`== ${file} done in ${secs}s`);
  ran.push({ bench: file.replace(/\.bench\.mjs$/, ''), ok: r.status === 0, seconds: Number(secs) });
}

// One file with this run's machine and every result the benches wrote (bench/results/<name>.json).
const resultsDir = join(benchDir, 'results');
mkdirSync(resultsDir, { recursive: true });
const results = {};
for (const r of ran) {
  const f = join(resultsDir, `${r.bench}.json`);
  if (r.ok && existsSync(f)) results[r.bench] = JSON.parse(readFileSync(f, 'utf8'));
}
writeFileSync(
  join(resultsDir, 'latest.json'),
  JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), machineAtStart: m0, machineAtEnd: machine(), ran, results }, null, 2) +
    '\n',
);
console.log(
  `\nbench: ${ran.filter((r) => r.ok).length}/${ran.length} ok · load average now ${machine().loadAverage.join(' ')} · bench/results/latest.json`,
);
process.exit(failed > 0 ? 1 : 0);
