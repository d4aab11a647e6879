#!/usr/bin/env node
// The command's entry, committed (not built) so `npm ci` on a fresh clone can link
// `node_modules/.bin/smart-backfill` before `dist/` exists; npm skips a bin whose file is missing.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('error: smart-backfill is not built yet: run "npm run build" in the repository first\n');
  process.exitCode = 1;
} else await import(entry.href);
