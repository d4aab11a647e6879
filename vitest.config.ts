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
    // Google clients must never probe the GCE metadata server (169.254.169.254); the setup file also traps any non-loopback socket.
    env: { METADATA_SERVER_DETECTION: 'none' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
