// The rolling-average level ships with the CLI (its `demo` runs it): packages/cli/nba/team-rolling.mjs.
// `"module": "./team-rolling.mjs"` in this folder's config loads it through this file.
export * from '../../packages/cli/nba/team-rolling.mjs';
