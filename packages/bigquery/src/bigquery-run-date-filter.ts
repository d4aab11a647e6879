import { isIsoDate, type IsoDate, type RunQuery } from '@smart-backfill/core';
import { p, type Param } from './client.js';
import { inputError } from './errors.js';

/**
 * The `runDateFrom` / `runDateTo` part of a run-log read: conditions on `game_date` (the date a
 * run is for; `run_date` is when it started, the partition column) and their parameters.
 * Adds nothing when neither is set.
 *
 * @throws SmartBackfillError (input) when a bound is not a YYYY-MM-DD date.
 */
export const runDateFilter = (q: Pick<RunQuery, 'runDateFrom' | 'runDateTo'>): { where: string[]; params: Record<string, Param> } => {
  const where: string[] = [];
  const params: Record<string, Param> = {};
  const bound = (field: 'runDateFrom' | 'runDateTo', op: '>=' | '<=', name: string): void => {
    const v: unknown = q[field];
    if (v === undefined) return;
    if (!isIsoDate(v)) throw inputError(field, `runs: ${field} must be a YYYY-MM-DD date, got ${JSON.stringify(v)}`);
    where.push(`game_date ${op} @${name}`);
    params[name] = p.date(v as IsoDate);
  };
  bound('runDateFrom', '>=', 'run_date_from');
  bound('runDateTo', '<=', 'run_date_to');
  return { where, params };
};
