export * from '../../packages/cli/nba/processor.mjs';
