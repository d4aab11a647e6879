import { countProblem, parseIsoDate, type IsoDate } from '@smart-backfill/core';
import { SqliteInputError, SqliteStoreError } from './errors.js';

/** Validate a date crossing into SQL: only `YYYY-MM-DD` is ever bound. */
export const checkDate = (value: unknown, field: string): IsoDate => {
  const r = parseIsoDate(value);
  if (r._tag === 'Err') throw new SqliteInputError(field, r.error.message);
  return r.value;
};

/**
 * A query or record handed to a port method must be an object: otherwise the
 * first property read would surface as a bare `TypeError` naming no field.
 */
export const checkObject = (value: unknown, field: string): void => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SqliteInputError(
      field,
      `expected an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
};

/** In `u` mode a paired surrogate is one code point, so this matches only unpaired halves. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Any string is stored verbatim (quotes, NUL, emoji, megabytes) except one that is
 * not valid Unicode: SQLite text is UTF-8, and an unpaired surrogate would come
 * back changed, so it is refused rather than silently altered.
 */
export const checkString = (value: unknown, field: string): string => {
  if (typeof value !== 'string') throw new SqliteInputError(field, `expected a string, got ${value === null ? 'null' : typeof value}`);
  if (LONE_SURROGATE.test(value))
    throw new SqliteInputError(field, 'contains an unpaired UTF-16 surrogate, which cannot be stored as UTF-8 text');
  return value;
};

export const checkNonEmpty = (value: unknown, field: string): string => {
  const s = checkString(value, field);
  if (s.length === 0) throw new SqliteInputError(field, 'expected a non-empty string');
  return s;
};

export const checkInstant = (value: unknown, field: string): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new SqliteInputError(
      field,
      `expected epoch milliseconds (a safe integer), got ${typeof value === 'number' ? String(value) : typeof value}`,
    );
  }
  return value;
};

/** A limit: core's count rule, so every adapter refuses the same values. */
export const checkLimit = (value: unknown, field: string, fallback: number): number => {
  if (value === undefined) return fallback;
  const problem = countProblem(value);
  if (problem !== undefined) throw new SqliteInputError(field, problem);
  return value as number;
};

export const toJson = (value: unknown, field: string): string => {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new SqliteInputError(field, `cannot be stored as JSON: ${(cause as Error).message}`, { cause });
  }
  if (text === undefined) throw new SqliteInputError(field, 'cannot be stored as JSON');
  return text;
};

export const fromJson = <A>(text: string, what: string): A => {
  try {
    return JSON.parse(text) as A;
  } catch (cause) {
    throw new SqliteStoreError(`${what} holds invalid JSON`, { cause, code: 'corrupt' });
  }
};
