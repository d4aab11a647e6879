import { parseIsoDate } from './iso-date.js';

/*
 * What makes a value handed to a port method unusable, written once for every adapter.
 * Each returns the problem as a value (or `undefined` when the value is fine); the
 * adapter throws it as `invalid_input`, naming the field (`invalidInput`).
 */

const shown = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'number'
        ? String(v)
        : typeof v === 'string'
          ? JSON.stringify(v)
          : typeof v;

/** Not a `YYYY-MM-DD` calendar date. */
export const dateProblem = (v: unknown): string | undefined => {
  const r = parseIsoDate(v);
  return r._tag === 'Err' ? r.error.message : undefined;
};

/** Not a string, or an empty one (ids, processor names, claimants). */
export const nonEmptyProblem = (v: unknown): string | undefined =>
  typeof v !== 'string' ? `expected a string, got ${shown(v)}` : v.length === 0 ? 'expected a non-empty string' : undefined;

/**
 * Not an instant in epoch milliseconds. Fractions pass: a manual clock moved alongside
 * real time steps by fractions, and a store that keeps whole milliseconds rounds itself.
 */
export const instantProblem = (v: unknown): string | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? undefined : `expected epoch milliseconds, got ${shown(v)}`;

/** Not a count or limit: a whole number >= 0. */
export const countProblem = (v: unknown): string | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? undefined : `expected a whole number >= 0, got ${shown(v)}`;

/** Not a way to release a held run: `RunLog.release` takes `resumed` or `cancelled` only (anything else would leave it neither held nor released). */
export const releaseStatusProblem = (v: unknown): string | undefined =>
  v === 'resumed' || v === 'cancelled' ? undefined : `expected "resumed" or "cancelled", got ${JSON.stringify(v)}`;

/** Not a duration: finite milliseconds >= 0. */
export const durationProblem = (v: unknown): string | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : `expected milliseconds >= 0, got ${shown(v)}`;
