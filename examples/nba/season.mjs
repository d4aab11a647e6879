// The season generator ships with the CLI (its `demo` plays it): packages/cli/nba/season.mjs.
export * from '../../packages/cli/nba/season.mjs';
