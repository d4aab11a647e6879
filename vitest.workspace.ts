/**
 * One Vitest project per package, and one for the examples whose code a test runs
 * (`examples/<name>/test/`). Vitest 4 ignores this file on its own; `vitest.config.ts`
 * loads it as `test.projects`, and `scripts/test.mjs` fails the run if any project
 * listed here collected no tests.
 */
export const PACKAGES = ['core', 'engine', 'memory', 'testkit', 'alerts', 'sqlite', 'bigquery', 'pubsub', 'report', 'cli'] as const;

export default [
  ...PACKAGES.map((name) => ({
    extends: true as const,
    test: {
      name,
      root: `packages/${name}`,
      include: ['test/**/*.test.ts'],
    },
  })),
  {
    extends: true as const,
    test: {
      name: 'examples',
      root: 'examples',
      include: ['*/test/**/*.test.ts'],
    },
  },
];
