export * from '../../packages/cli/nba/schema.mjs';
