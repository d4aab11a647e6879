import { parseIsoDate, type IsoDate } from '@smart-backfill/core';
import { BigQueryAdapterError } from './errors.js';

/**
 * Values as the client hands them back: DATE as `BigQueryDate { value }`,
 * TIMESTAMP as `BigQueryTimestamp { value: ISO string }`, INT64 as a number,
 * JSON as a string, REPEATED as an array. Plain strings and numbers are accepted
 * too, so other client versions (or `skipParsing`) decode the same.
 */

const bad = (what: string, column: string, v: unknown): BigQueryAdapterError =>
  new BigQueryAdapterError('query_failed', `column ${column} returned ${JSON.stringify(v) ?? String(v)}, expected ${what}`);

const unwrap = (v: unknown): unknown => (typeof v === 'object' && v !== null && 'value' in v ? (v as { value: unknown }).value : v);

export const readDate = (column: string, v: unknown): IsoDate => {
  const raw = unwrap(v);
  const r = parseIsoDate(typeof raw === 'string' ? raw.slice(0, 10) : raw);
  if (r._tag === 'Err') throw bad('a DATE', column, v);
  return r.value;
};

export const readDates = (column: string, v: unknown): IsoDate[] => {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw bad('an ARRAY<DATE>', column, v);
  return v.map((x) => readDate(column, x));
};

/** Epoch milliseconds of a TIMESTAMP. */
export const readMillis = (column: string, v: unknown): number => {
  const raw = unwrap(v);
  if (raw instanceof Date) return raw.getTime();
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
  if (typeof raw === 'string') {
    const ms = Date.parse(raw);
    if (!Number.isNaN(ms)) return ms;
  }
  throw bad('a TIMESTAMP', column, v);
};

export const readMillisOrNull = (column: string, v: unknown): number | null =>
  v === null || v === undefined ? null : readMillis(column, v);

export const readInt = (column: string, v: unknown): number => {
  const raw = unwrap(v);
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw bad('an INT64', column, v);
  return n;
};

export const readString = (column: string, v: unknown): string => {
  if (typeof v !== 'string') throw bad('a STRING', column, v);
  return v;
};

export const readStringOrNull = (column: string, v: unknown): string | null =>
  v === null || v === undefined ? null : readString(column, v);

export const readBool = (column: string, v: unknown): boolean => {
  if (typeof v !== 'boolean') throw bad('a BOOL', column, v);
  return v;
};

/** A JSON column (a string unless the client parsed it) as an object. */
export const readJsonObject = (column: string, v: unknown): Record<string, unknown> => {
  if (v === null || v === undefined) return {};
  let parsed: unknown = v;
  if (typeof v === 'string') {
    try {
      parsed = JSON.parse(v);
    } catch (e) {
      throw new BigQueryAdapterError('corrupt', `column ${column} holds invalid JSON`, { cause: e });
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('a JSON object', column, v);
  return parsed as Record<string, unknown>;
};

/** For insertAll: TIMESTAMP as an ISO string (BigQuery parses it; no float-seconds rounding). */
export const tsOut = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
