import { parseIsoDate, type IsoDate } from '@smart-backfill/core';
import { badInput } from './cli-error.js';

/** A `--date`-like option: required, `YYYY-MM-DD`, a real day. */
export const dateOption = (flag: string, value: unknown): IsoDate => {
  if (value === undefined || value === true) throw badInput(`${flag} is required (YYYY-MM-DD)`);
  const r = parseIsoDate(value);
  if (r._tag === 'Err') throw badInput(`${flag}: ${r.error.message}`);
  return r.value;
};

/** A whole-number option within bounds. */
export const intOption = (flag: string, value: unknown, min: number, max: number): number => {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw badInput(`${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
};
