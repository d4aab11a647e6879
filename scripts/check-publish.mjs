#!/usr/bin/env node
// `npm run check:publish`: for every workspace package, on its built dist/:
//   publint (package.json exports/files/types), attw --pack (the types resolve
//   for ESM consumers under node16 and bundler resolution; these packages are
//   ESM-only, so CommonJS `require` is out of scope), and `npm pack --dry-run`
//   (no tests, fixtures, sources maps of tests or tsbuildinfo in the tarball;
//   a README and dist/index.d.ts in it). Run `npm run build` first.
//   node scripts/check-publish.mjs [package…]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const only = process.argv.slice(2);
const dirs = workspaces.filter((w) => only.length === 0 || only.some((o) => w.endsWith(`/${o}`)));
const bin = (name) => join(root, 'node_modules/.bin', name);
const run = (cmd, args, cwd) => spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
const FORBIDDEN = [/(^|\/)test\//, /\.test\.[cm]?[jt]s/, /(^|\/)fixtures?\//, /\.tsbuildinfo$/, /(^|\/)src\/.*\.ts$/, /(^|\/)\.env/];

let failures = 0;
for (const dir of dirs) {
  const cwd = join(root, dir);
  const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
  const problems = [];
  if (!existsSync(join(cwd, 'dist/index.js'))) problems.push('dist/index.js missing: run `npm run build` first');
  else {
    const pl = run(process.execPath, [bin('publint'), '--strict'], cwd);
    if (pl.status !== 0 || !/All good/.test(pl.stdout)) problems.push(`publint:\n${(pl.stdout + pl.stderr).trim()}`);
    const at = run(bin('attw'), ['--pack', '.', '--profile', 'esm-only', '--format', 'ascii'], cwd);
    if (at.status !== 0) problems.push(`attw:\n${(at.stdout + at.stderr).trim()}`);
    const pk = run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], cwd);
    if (pk.status !== 0) problems.push(`npm pack: ${pk.stderr.trim()}`);
    else {
      const files = JSON.parse(pk.stdout)[0].files.map((f) => f.path);
      const bad = files.filter((f) => FORBIDDEN.some((re) => re.test(f)));
      if (bad.length > 0)
        problems.push(`npm pack would publish: ${bad.slice(0, 10).join(', ')}${bad.length > 10 ? ` (+${bad.length - 10})` : ''}`);
      for (const must of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts'])
        if (!files.includes(must)) problems.push(`npm pack is missing ${must}`);
    }
  }
  for (const field of ['description', 'license', 'keywords', 'exports', 'files', 'engines'])
    if (pkg[field] === undefined) problems.push(`package.json has no "${field}"`);
  // not fatal until the project has a public home: npm shows it, provenance needs it
  if (pkg.repository === undefined) console.log(`note ${pkg.name}: no "repository" field (add it once the repository URL is known)`);
  if (pkg.sideEffects !== false && pkg.bin === undefined) problems.push('package.json: "sideEffects" should be false');
  const types = pkg.exports?.['.']?.types;
  if (types === undefined || Object.keys(pkg.exports['.'])[0] !== 'types') problems.push('exports["."]: "types" must come first');
  console.log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${pkg.name}`);
  for (const p of problems) console.log(`     ${p.replace(/\n/g, '\n     ')}`);
  failures += problems.length === 0 ? 0 : 1;
}
console.log(
  failures === 0
    ? `\ncheck:publish: ${dirs.length} packages ready`
    : `\ncheck:publish: ${failures} of ${dirs.length} packages have problems`,
);
process.exit(failures === 0 ? 0 : 1);
