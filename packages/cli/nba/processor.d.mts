import type { SqliteLike } from './schema.mjs';
import type { BoxScoreRow } from './season.mjs';
export interface SummaryResult {
  readonly date: string;
  readonly finalGames: number;
  readonly gamesWithBoxScores: number;
  readonly rows: number;
}
export declare const gameScore: (r: BoxScoreRow) => number;
export declare const trueShooting: (r: BoxScoreRow) => number | null;
export declare const buildPlayerGameSummary: (db: SqliteLike, date: string, opts?: { now?: () => string }) => SummaryResult;
export declare function run(opts: { date: string; store: { type: string; path?: string } }): Promise<SummaryResult>;
