export * from '../../packages/cli/nba/scraper.mjs';
