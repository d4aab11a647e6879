import { DEFAULT_POLICY, type GapPolicy } from '@smart-backfill/core';
import { engineError, errorMessage } from './errors.js';

/** The part of a processor's policy the worker reads. */
export type WorkerPolicy = Pick<GapPolicy, 'maxAttempts' | 'lookbackDays'>;

type Layer = Partial<GapPolicy> | GapPolicy | undefined;

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'undefined' : String(v));

/**
 * `DEFAULT_POLICY` overlaid with each layer in turn (an `undefined` field does not
 * override). Only the fields the worker reads are checked: a worker given
 * `{ lookbackDays: 5 }` must keep working although core's `validatePolicy` would
 * reject it beside the default `criticalLookbackDays` (10), which the worker never uses.
 *
 * @throws SmartBackfillError (`invalid_config`) naming `what` and every bad field.
 */
export const workerPolicy = (layers: readonly Layer[], what: string): WorkerPolicy => {
  let maxAttempts: unknown = DEFAULT_POLICY.maxAttempts;
  let lookbackDays: unknown = DEFAULT_POLICY.lookbackDays;
  for (const l of layers) {
    if (l?.maxAttempts !== undefined) maxAttempts = l.maxAttempts;
    if (l?.lookbackDays !== undefined) lookbackDays = l.lookbackDays;
  }
  const problems: string[] = [];
  const whole = (field: string, v: unknown): number => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1) return v;
    problems.push(`${field} must be a whole number >= 1, got ${show(v)}`);
    return 1;
  };
  const p = { maxAttempts: whole('maxAttempts', maxAttempts), lookbackDays: whole('lookbackDays', lookbackDays) };
  if (problems.length > 0) throw engineError('invalid_config', `invalid ${what}: ${problems.join('; ')}`);
  return p;
};

/**
 * Each processor's worker policy: `own(name)` over `fallback` over the defaults.
 * `fallback` is checked here, once, so a bad worker-wide policy fails at start-up;
 * a bad (or throwing) `own` answer fails the delivery that asked.
 */
export const policyResolver = (fallback: Layer, own: (processorName: string) => Layer): ((processorName: string) => WorkerPolicy) => {
  const base = workerPolicy([fallback], 'worker policy');
  return (name) => {
    let mine: Layer;
    try {
      mine = own(name);
    } catch (e) {
      throw engineError('invalid_config', `could not get the policy of processor ${JSON.stringify(name)}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    return mine === undefined ? base : workerPolicy([fallback, mine], `policy for processor ${JSON.stringify(name)}`);
  };
};
