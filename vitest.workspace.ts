/**
 * One Vitest project per package. Vitest 4 ignores this file on its own;
 * `vitest.config.ts` loads it as `test.projects`, and `scripts/test.mjs` fails
 * the run if any project listed here collected no tests.
 */
export const PACKAGES = ['core', 'engine', 'memory', 'testkit', 'alerts', 'sqlite', 'bigquery', 'pubsub', 'report', 'cli'] as const;

export default PACKAGES.map((name) => ({
  extends: true as const,
  test: {
    name,
    root: `packages/${name}`,
    include: ['test/**/*.test.ts'],
  },
}));
