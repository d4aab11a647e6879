// The raw level's scraper ships with the CLI (its `demo` runs it): packages/cli/nba/scraper.mjs.
// `"module": "./scraper.mjs"` in this folder's config loads it through this file.
export * from '../../packages/cli/nba/scraper.mjs';
