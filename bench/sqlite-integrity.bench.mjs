#!/usr/bin/env node
// What the integrity check on opening a store costs (`PRAGMA quick_check`, store.integrityCheck):
// builds a tracking file of about --mb MB (default 1024: the tracking tables plus a filler
// table of 1 KB rows with an index), then times openSqliteStore with and without the check,
// --repeats times each, and reports the median wall and CPU time of one open.
// Imports the BUILT packages: run `npm run build` (or `npm run bench`) first.
//   node bench/sqlite-integrity.bench.mjs [--mb 1024] [--repeats 3]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { openSqliteStore } = await import(join(here, '../packages/sqlite/dist/index.js')).catch((e) => {
  console.error(`sqlite-integrity: cannot load packages/sqlite/dist (run \`npm run build\` first): ${e.message}`);
  process.exit(1);
});
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const MB = arg('mb', 1024);
const REPEATS = arg('repeats', 3);

const dir = mkdtempSync(join(tmpdir(), 'sb-bench-integrity-'));
const file = join(dir, 'tracking.db');
try {
  const build = openSqliteStore({ path: file });
  build.db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB NOT NULL); CREATE INDEX filler_k ON filler (k);');
  const rows = Math.round((MB * 1024 * 1024) / 1100);
  const batch = 50_000;
  for (let done = 0; done < rows; done += batch) {
    const n = Math.min(batch, rows - done);
    build.db.exec(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${n})
                   INSERT INTO filler (k, v) SELECT hex(randomblob(8)), randomblob(1000) FROM c;`);
  }
  build.db.pragma('wal_checkpoint(TRUNCATE)');
  await build.close();
  const size = statSync(file).size;

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const time = (integrityCheck) => {
    const wall = [];
    const cpu = [];
    for (let i = 0; i < REPEATS; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const s = openSqliteStore({ path: file, integrityCheck });
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      s.db.close();
    }
    return { wallMs: Math.round(median(wall)), cpuMs: Math.round(median(cpu)) };
  };
  const off = time(false);
  const on = time(true);
  const result = { bench: 'sqlite-integrity', fileBytes: size, repeats: REPEATS, open: off, openWithQuickCheck: on, load: loadavg()[0] };
  console.log(
    `open ${(size / 1024 / 1024).toFixed(0)} MB tracking file: ${off.wallMs} ms without the check, ${on.wallMs} ms with quick_check ` +
      `(CPU ${off.cpuMs} / ${on.cpuMs} ms; median of ${REPEATS}; load ${loadavg()[0].toFixed(1)})`,
  );
  console.log(JSON.stringify(result));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
