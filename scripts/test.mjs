#!/usr/bin/env node
// The test command the README names. Builds (the CLI tests run the built
// binary), runs every Vitest project, then fails loudly if any package listed
// in vitest.workspace.ts collected no tests: Vitest alone would pass on zero.
//   npm test                      all packages
//   npm test -- --seed 123        reproduce a fast-check failure
//   npm test -- --project core    some packages (only those are required to have tests)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const env = { ...process.env };
const passthrough = [];
const only = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--seed') env.FC_SEED = args[++i];
  else if (a.startsWith('--seed=')) env.FC_SEED = a.slice(7);
  else if (a === '--project') {
    only.push(args[i + 1]);
    passthrough.push(a, args[++i]);
  } else passthrough.push(a);
}

const workspace = readFileSync(join(root, 'vitest.workspace.ts'), 'utf8');
// The packages, then the examples' project (`examples/<name>/test/`), counted as one row.
const packages = [...JSON.parse(workspace.slice(workspace.indexOf('['), workspace.indexOf(']') + 1).replace(/'/g, '"')), 'examples'];
const required = only.length > 0 ? only : packages;
if (packages.length <= 1) {
  console.error('scripts/test.mjs: could not read the package list from vitest.workspace.ts');
  process.exit(1);
}

const run = (cmd, cmdArgs) => spawnSync(cmd, cmdArgs, { cwd: root, env, stdio: 'inherit' });

if (!process.env.SMART_BACKFILL_SKIP_BUILD) {
  const b = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json']);
  if (b.status !== 0) {
    console.error('build failed');
    process.exit(b.status ?? 1);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sb-test-'));
const report = join(dir, 'vitest.json');
const vitest = run(process.execPath, [
  join(root, 'node_modules/vitest/vitest.mjs'),
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...passthrough,
]);

let results;
try {
  results = JSON.parse(readFileSync(report, 'utf8'));
} catch {
  results = undefined;
}
rmSync(dir, { recursive: true, force: true });
if (!results) {
  console.error('\nscripts/test.mjs: Vitest wrote no report; treating the run as failed.');
  process.exit(vitest.status || 1);
}

const per = Object.fromEntries(packages.map((p) => [p, { passed: 0, failed: 0, skipped: 0 }]));
for (const file of results.testResults ?? []) {
  const rel = relative(root, file.name).split(sep);
  const pkg = rel[0] === 'packages' ? rel[1] : rel[0] === 'examples' ? 'examples' : undefined;
  if (!pkg || !per[pkg]) continue;
  for (const t of file.assertionResults ?? []) {
    if (t.status === 'passed') per[pkg].passed++;
    else if (t.status === 'failed') per[pkg].failed++;
    else per[pkg].skipped++;
  }
  if ((file.assertionResults ?? []).length === 0 && file.status === 'failed') per[pkg].failed++;
}

console.log('\nTests per package:');
let bad = false;
for (const p of packages) {
  const c = per[p];
  const missing = required.includes(p) && c.passed + c.failed === 0;
  if (missing) bad = true;
  console.log(
    `  ${p.padEnd(10)} ${String(c.passed).padStart(5)} passed ${String(c.failed).padStart(4)} failed ${String(c.skipped).padStart(4)} skipped${missing ? '   <- NO TESTS COLLECTED' : ''}`,
  );
}
const passed = results.numPassedTests ?? 0;
const failed = results.numFailedTests ?? 0;
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
if (bad) console.error('\nFAIL: a package listed in vitest.workspace.ts ran no tests (see above).');
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(bad || vitest.status !== 0 || failed > 0 ? 1 : 0);
