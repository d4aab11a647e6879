import type { Season, BoxScoreRow } from './season.mjs';
/** A better-sqlite3 connection. */
export type SqliteLike = import('better-sqlite3').Database;
export declare const NBA_SCHEMA: string;
export declare const createNbaTables: (db: SqliteLike) => void;
export declare const loadSchedule: (db: SqliteLike, season: Season) => void;
export declare const markFinal: (db: SqliteLike, gameIds: readonly string[]) => void;
export declare const insertBoxScores: (db: SqliteLike, rows: readonly BoxScoreRow[]) => number;
