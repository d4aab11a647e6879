import type { SqliteLike } from './schema.mjs';
export interface RollingResult {
  readonly date: string;
  readonly teams: number;
  readonly inputDays: number;
  readonly missingInputDays: string[];
}
export declare const ROLLING_DAYS: number;
export declare const buildTeamRolling: (db: SqliteLike, date: string, opts?: { now?: () => string }) => RollingResult;
export declare function run(opts: { date: string; store: { type: string; path?: string } }): Promise<RollingResult>;
