export interface SeededRandom {
  next(): number;
  int(min: number, max: number): number;
  pick<T>(list: readonly T[]): T;
  shuffle<T>(list: readonly T[]): T[];
}
export interface Player {
  readonly playerId: string;
  readonly name: string;
  readonly team: string;
  readonly starter: boolean;
}
export interface Game {
  readonly gameId: string;
  readonly gameDate: string;
  readonly homeTeam: string;
  readonly awayTeam: string;
}
export interface Season {
  readonly teams: string[];
  readonly players: Player[];
  readonly games: Game[];
  readonly offDays: string[];
}
export interface BoxScoreRow {
  readonly game_id: string;
  readonly game_date: string;
  readonly team: string;
  readonly opponent: string;
  readonly is_home: number;
  readonly player_id: string;
  readonly player_name: string;
  readonly minutes: number;
  readonly fgm: number;
  readonly fga: number;
  readonly fg3m: number;
  readonly fg3a: number;
  readonly ftm: number;
  readonly fta: number;
  readonly oreb: number;
  readonly dreb: number;
  readonly ast: number;
  readonly stl: number;
  readonly blk: number;
  readonly tov: number;
  readonly pf: number;
  readonly pts: number;
}
export declare const seededRandom: (seed: number) => SeededRandom;
export declare const TEAMS: readonly string[];
export declare const FIXED_OFF_DAYS: readonly string[];
export declare const generateSeason: (opts?: { seed?: number; start?: string; end?: string }) => Season;
export declare const boxScore: (game: Game, players: readonly Player[], seed?: number) => BoxScoreRow[];
