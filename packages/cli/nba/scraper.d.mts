import type { SqliteLike } from './schema.mjs';
import type { Season } from './season.mjs';
export interface ScrapeResult {
  readonly date: string;
  readonly finalGames: number;
  readonly gamesScraped: number;
  readonly rows: number;
}
export declare const scrapeBoxScores: (
  db: SqliteLike,
  season: Season,
  date: string,
  opts?: { seed?: number | undefined; gamesLimit?: number | undefined },
) => ScrapeResult;
export declare function run(opts: { date: string; store: { type: string; path?: string } }): Promise<ScrapeResult>;
