// [slow] Installs what `npm pack` would publish, and nothing else of this repository:
// the installed `smart-backfill` must carry everything `demo` needs (no path into examples/).
// One install for the whole file; about 10 s.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const packages = readdirSync(join(root, 'packages')).filter((p) => existsSync(join(root, 'packages', p, 'package.json')));

const t = tempDir('sb-packed-');
const tarballs = join(t.dir, 'tarballs');
const app = join(t.dir, 'app');
// No registry: npx must find the installed bin or fail, never fetch one.
// The npm_* variables of an enclosing `npm test`/`npx vitest` (local_prefix…) would point npm at this repository.
const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const env = { ...inherited, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', NO_COLOR: '1' };
const sh = (cmd: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> =>
  spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
const ok = (r: SpawnSyncReturns<string>, what: string): string => {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

describe('[slow] the packed packages, installed into an empty folder', () => {
  beforeAll(() => {
    for (const p of packages)
      if (!existsSync(join(root, 'packages', p, 'dist', 'index.js')))
        throw new Error(`packages/${p} is not built: run "npm run build" first`);
    mkdirSync(tarballs, { recursive: true });
    // One npm for every workspace: each package packed exactly as `npm publish` would.
    ok(sh('npm', ['pack', '--workspaces', '--pack-destination', tarballs, '--ignore-scripts'], root), 'npm pack --workspaces');
    // Third-party dependencies come from this repository's install (hard links, no copy):
    // `npm install <tarball>` resolves version ranges from registry metadata that the npm
    // cache does not hold offline. Everything of ours comes from the tarballs alone.
    const modules = join(app, 'node_modules');
    mkdirSync(modules, { recursive: true });
    const deps = readdirSync(join(root, 'node_modules'))
      .filter((e) => e !== '@smart-backfill' && !e.startsWith('.'))
      .map((e) => join(root, 'node_modules', e));
    ok(spawnSync('cp', ['-al', ...deps, `${modules}/`], { encoding: 'utf8' }), 'cp -al node_modules');
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'try-smart-backfill', private: true }));
    const tgz = readdirSync(tarballs).map((f) => join(tarballs, f));
    expect(tgz).toHaveLength(packages.length);
    // --ignore-scripts: the hard-linked better-sqlite3 is already built; nothing may write into it.
    ok(sh('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', ...tgz], app), 'npm install');
    return t.cleanup;
  }, 180_000);

  it('installs no file of ours from outside the tarballs', () => {
    const cli = join(app, 'node_modules', '@smart-backfill', 'cli');
    expect(existsSync(join(cli, 'nba', 'season.mjs'))).toBe(true);
    expect(spawnSync('readlink', ['-f', cli], { encoding: 'utf8' }).stdout.trim()).toBe(cli);
  });

  it('runs `npx smart-backfill --help`', () => {
    const out = ok(sh('npx', ['smart-backfill', '--help'], app), 'npx smart-backfill --help');
    expect(out).toContain('Usage: smart-backfill');
    expect(out).toContain('demo');
  });

  it('runs `npx smart-backfill demo` to the end', () => {
    const out = ok(sh('npx', ['smart-backfill', 'demo'], app), 'npx smart-backfill demo');
    expect(out).toContain('smart-backfill demo: an NBA season');
    expect(out).toMatch(/healed automatically\s+2 \(Nov 15, Nov 24\)/);
    expect(out).toContain('gap calendar report:');
  });
});
