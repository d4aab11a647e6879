export * from '../../packages/cli/nba/team-rolling.mjs';
