/**
 * `npm run test:reliability`: the reliability and security suite (issue 7).
 * Not one of the `npm test` projects (vitest.workspace.ts `PACKAGES`): it runs
 * longer, spawns worker processes, and its child workers import the built
 * packages (`npm run build` first). Same alias and setup file as the root
 * config, so the non-loopback socket trap is on for every file here.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));

/** @public */
export default defineConfig({
  root,
  resolve: {
    alias: [{ find: /^@smart-backfill\/([a-z]+)$/, replacement: `${root}packages/$1/src/index.ts` }],
  },
  test: {
    name: 'reliability',
    include: ['reliability/**/*.test.ts'],
    setupFiles: [`${root}scripts/vitest-setup.ts`, `${root}reliability/net-trap-check.ts`],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores, shared: one file at a time keeps the process-kill test honest.
    fileParallelism: false,
    sequence: { shuffle: false },
  },
});
