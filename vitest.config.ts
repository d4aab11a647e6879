import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import projects from './vitest.workspace.js';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against sources, so `npm test` needs no build for the library code.
    alias: [{ find: /^@smart-backfill\/([a-z]+)$/, replacement: `${root}packages/$1/src/index.ts` }],
  },
  test: {
    projects,
    setupFiles: [`${root}scripts/vitest-setup.ts`],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
