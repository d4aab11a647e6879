// The example processor ships with the CLI (its `demo` runs it): packages/cli/nba/processor.mjs.
// `"module": "./processor.mjs"` in this folder's config loads it through this file.
export * from '../../packages/cli/nba/processor.mjs';
