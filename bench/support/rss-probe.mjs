// Loaded with `node --import` into a spawned CLI: on exit, write the process's
// peak RSS, CPU time and which notable modules it loaded to $SB_PROBE_OUT.
// Google SDKs are CommonJS packages, so they show up in the CJS module cache
// even when imported from ESM.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const out = process.env.SB_PROBE_OUT;
process.on('exit', (code) => {
  if (!out) return;
  const ru = process.resourceUsage();
  const loaded = Object.keys(require.cache);
  const notable = (re) => loaded.filter((p) => re.test(p)).length;
  writeFileSync(
    out,
    JSON.stringify({
      code,
      maxRssKb: ru.maxRSS,
      cpuMs: (ru.userCPUTime + ru.systemCPUTime) / 1000,
      cjsModules: loaded.length,
      googleCloudModules: notable(/[\\/]@google-cloud[\\/]/),
      grpcModules: notable(/[\\/]@grpc[\\/]/),
      googleAuthModules: notable(/[\\/]google-auth-library[\\/]|[\\/]gaxios[\\/]/),
      betterSqlite3: notable(/[\\/]better-sqlite3[\\/]/) > 0,
    }),
  );
});
