export * from '../../packages/cli/nba/season.mjs';
