// The example's tables ship with the CLI (its `demo` creates them): packages/cli/nba/schema.mjs.
export * from '../../packages/cli/nba/schema.mjs';
