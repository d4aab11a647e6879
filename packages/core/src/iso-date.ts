import { err, ok, type Result } from './result.js';

declare const isoDateBrand: unique symbol;

/**
 * A validated calendar date in `YYYY-MM-DD` form (years 0001–9999).
 * It names a day, not an instant: there is no time zone in it, and nothing in
 * this module reads one. Arithmetic goes through epoch days so that results
 * never depend on the process's `TZ`.
 */
export type IsoDate = string & { readonly [isoDateBrand]: true };

/** Days since 1970-01-01 (which is day 0). The compact form adapters hand over. */
export type EpochDay = number;

export interface InvalidDate {
  readonly _tag: 'InvalidDate';
  readonly value: unknown;
  readonly message: string;
}

const MIN_DAY = -719162; // 0001-01-01
const MAX_DAY = 2932896; // 9999-12-31

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

const daysInMonth = (y: number, m: number): number =>
  m === 2 ? (isLeap(y) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;

/**
 * Civil date → epoch day, Howard Hinnant's `days_from_civil`: exact integer
 * arithmetic, valid for the whole proleptic Gregorian range we accept.
 */
export const civilToEpochDay = (y: number, m: number, d: number): EpochDay => {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
};

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;
const pad4 = (n: number): string => (n < 10 ? '000' : n < 100 ? '00' : n < 1000 ? '0' : '') + n;

/** Epoch day → `YYYY-MM-DD` (Hinnant's `civil_from_days`). */
export const fromEpochDay = (day: EpochDay): IsoDate => {
  if (!Number.isInteger(day) || day < MIN_DAY || day > MAX_DAY) {
    throw new RangeError(`[smart-backfill] epoch day ${String(day)} is outside 0001-01-01..9999-12-31`);
  }
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${pad4(y)}-${pad2(m)}-${pad2(d)}` as IsoDate;
};

const describe = (value: unknown): string =>
  typeof value === 'string'
    ? JSON.stringify(value)
    : value === undefined
      ? 'undefined'
      : typeof value === 'object'
        ? (JSON.stringify(value) ?? String(value))
        : String(value);

const invalid = (value: unknown, why: string): InvalidDate => ({
  _tag: 'InvalidDate',
  value,
  message: `${describe(value)} is not a calendar date in YYYY-MM-DD form (${why})`,
});

const digit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Parse a `YYYY-MM-DD` string. Rejects anything else — other separators,
 * single-digit parts, surrounding spaces, times, offsets, days that do not
 * exist (`2025-02-30`) and years outside 0001–9999 — with a message naming the value.
 */
export const parseIsoDate = (value: unknown): Result<InvalidDate, IsoDate> => {
  const day = parseEpochDay(value);
  return typeof day === 'number' ? ok(value as IsoDate) : err(day);
};

const digitsAt = (value: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + value.charCodeAt(i) - 48;
  return n;
};

/** Like `parseIsoDate`, but returns the epoch day (or the error). */
export const parseEpochDay = (value: unknown): EpochDay | InvalidDate => {
  if (typeof value !== 'string') return invalid(value, `expected a string, got ${value === null ? 'null' : typeof value}`);
  if (value.length !== 10) return invalid(value, 'expected exactly 10 characters');
  for (let i = 0; i < 10; i++) {
    const c = value.charCodeAt(i);
    if (i === 4 || i === 7) {
      if (c !== 45) return invalid(value, 'expected "-" between year, month and day');
    } else if (!digit(c)) return invalid(value, 'expected digits');
  }
  // Digits checked above: arithmetic on char codes, no substrings (every date a store reads passes here).
  const y = digitsAt(value, 0, 4);
  const m = digitsAt(value, 5, 7);
  const d = digitsAt(value, 8, 10);
  if (y < 1) return invalid(value, 'year must be 0001–9999');
  if (m < 1 || m > 12) return invalid(value, 'month must be 01–12');
  if (d < 1 || d > daysInMonth(y, m)) return invalid(value, `day must be 01–${daysInMonth(y, m)} in that month`);
  return civilToEpochDay(y, m, d);
};

export const isIsoDate = (value: unknown): value is IsoDate => typeof parseEpochDay(value) === 'number';

/**
 * For trusted input (tests, constants, values already validated at an edge):
 * throws a `RangeError` naming the value when it is not a date.
 */
export const isoDate = (value: string): IsoDate => {
  const r = parseEpochDay(value);
  if (typeof r !== 'number') throw new RangeError(`[smart-backfill] ${r.message}`);
  return value as IsoDate;
};

// Days before month m (1..12) in a year that starts in March, as in `civilToEpochDay`.
const DAYS_BEFORE_MONTH = [0, 306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275] as const;

/**
 * Epoch day of a date known to be valid (an `IsoDate`). Fast: no validation.
 * The same arithmetic as `civilToEpochDay`, specialised for years >= 1 so every
 * division truncates (this is the hot loop of a fleet check; the digit offsets
 * `'0' * 1111` etc. are folded into the constants).
 */
export const toEpochDay = (date: IsoDate): EpochDay => {
  const y = date.charCodeAt(0) * 1000 + date.charCodeAt(1) * 100 + date.charCodeAt(2) * 10 + date.charCodeAt(3) - 53328;
  const m = date.charCodeAt(5) * 10 + date.charCodeAt(6) - 528;
  const d = date.charCodeAt(8) * 10 + date.charCodeAt(9) - 528;
  const yy = m <= 2 ? y - 1 : y;
  return 365 * yy + (yy >> 2) - ((yy / 100) | 0) + ((yy / 400) | 0) + (DAYS_BEFORE_MONTH[m] as number) + d - 719469;
};

export const addDays = (date: IsoDate, days: number): IsoDate => fromEpochDay(toEpochDay(date) + days);

/** `a − b` in whole days. */
export const diffDays = (a: IsoDate, b: IsoDate): number => toEpochDay(a) - toEpochDay(b);

/** Valid ISO dates order lexicographically, which is also chronological. */
export const compareDates = (a: IsoDate, b: IsoDate): -1 | 0 | 1 => (a < b ? -1 : a > b ? 1 : 0);

/** Every date from `start` to `end`, both inclusive; empty when `end < start`. */
export const dateRange = (start: IsoDate, end: IsoDate): IsoDate[] => {
  const s = toEpochDay(start);
  const e = toEpochDay(end);
  const out: IsoDate[] = [];
  for (let d = s; d <= e; d++) out.push(fromEpochDay(d));
  return out;
};

/**
 * The UTC calendar date of an instant (epoch milliseconds). The one place a
 * timestamp becomes a date: callers pass the clock's reading explicitly.
 */
export const utcDateOf = (epochMillis: number): IsoDate => fromEpochDay(Math.floor(epochMillis / 86_400_000));
