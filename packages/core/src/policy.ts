import { err, ok, type Result } from './result.js';

/**
 * How far back a check looks, what counts as "enough data", and when a gap is
 * small enough to heal without a person. Field meanings and defaults follow
 * the seed's `SmartBackfillMixin` constants.
 */
export interface GapPolicy {
  /** Days before the run date that are checked (seed: `LOOKBACK_WINDOW_DAYS = 30`). */
  readonly lookbackDays: number;
  /** The most recent days, where a gap always breaks the run (seed: `CRITICAL_LOOKBACK_DAYS = 10`). */
  readonly criticalLookbackDays: number;
  /** A date with fewer rows than this is missing (seed: `MIN_RECORDS_PER_DATE = 100`). */
  readonly minRecordsPerDate: number;
  /** Gaps of at most this many dates are backfilled automatically (seed: `AUTO_BACKFILL_THRESHOLD = 3`). */
  readonly autoBackfillThreshold: number;
  /** `any`: any gap holds the run (the seed). `critical`: only gaps inside the critical window do. */
  readonly blockOn: 'any' | 'critical';
  /** After this many failed attempts for one date, stop re-queueing and escalate. */
  readonly maxAttempts: number;
}

export const DEFAULT_POLICY: GapPolicy = Object.freeze({
  lookbackDays: 30,
  criticalLookbackDays: 10,
  minRecordsPerDate: 100,
  autoBackfillThreshold: 3,
  blockOn: 'any',
  maxAttempts: 3,
});

/** The seed's threshold tuning guide: conservative 2, balanced 3, aggressive 5–7 (we take 7). */
export const POLICY_PRESETS = Object.freeze({
  conservative: Object.freeze({ ...DEFAULT_POLICY, autoBackfillThreshold: 2 }),
  balanced: Object.freeze({ ...DEFAULT_POLICY, autoBackfillThreshold: 3 }),
  aggressive: Object.freeze({ ...DEFAULT_POLICY, autoBackfillThreshold: 7 }),
}) satisfies Record<string, GapPolicy>;

export type PolicyPresetName = keyof typeof POLICY_PRESETS;

/**
 * What is wrong with a policy, as data: the caller words it (`formatPolicyProblem`
 * for a sentence, the CLI for its `policy.lookbackDays: expected …` paths).
 */
export type PolicyProblem =
  /** The policy is not an object at all. */
  | { readonly _tag: 'NotAnObject'; readonly value: unknown }
  /** The policy has a field `GapPolicy` does not (a typo, usually); `known` lists the fields it does have. */
  | { readonly _tag: 'UnknownField'; readonly field: string; readonly value: unknown; readonly known: readonly string[] }
  /** A field's value is out of range; `expected` says what it accepts (`a whole number >= 1`). */
  | { readonly _tag: 'InvalidValue'; readonly field: keyof GapPolicy; readonly value: unknown; readonly expected: string };

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'undefined' : String(v));

const POLICY_FIELDS: ReadonlyArray<keyof GapPolicy> = [
  'lookbackDays',
  'criticalLookbackDays',
  'minRecordsPerDate',
  'autoBackfillThreshold',
  'blockOn',
  'maxAttempts',
];

/** One line naming the field and the problem: `lookbackDays must be a whole number >= 1, got -2`. */
export const formatPolicyProblem = (p: PolicyProblem): string => {
  switch (p._tag) {
    case 'NotAnObject':
      return `policy must be an object, got ${Array.isArray(p.value) ? 'an array' : show(p.value)}`;
    case 'UnknownField':
      return `policy has no field "${p.field}" (known: ${p.known.join(', ')})`;
    case 'InvalidValue':
      return `${p.field} must be ${p.expected}, got ${show(p.value)}`;
  }
};

/**
 * Validate a (possibly partial) policy, filling absent fields from `base`
 * (the defaults). Returns every problem at once, each naming its field.
 */
export const validatePolicy = (input: unknown, base: GapPolicy = DEFAULT_POLICY): Result<readonly PolicyProblem[], GapPolicy> => {
  if (input === undefined || input === null) return ok(base);
  if (typeof input !== 'object' || Array.isArray(input)) {
    return err([{ _tag: 'NotAnObject', value: input }]);
  }
  const raw = input as Record<string, unknown>;
  const problems: PolicyProblem[] = [];
  const problem = (field: keyof GapPolicy, value: unknown, expected: string): void => {
    problems.push({ _tag: 'InvalidValue', field, value, expected });
  };
  for (const key of Object.keys(raw)) {
    if (!(POLICY_FIELDS as readonly string[]).includes(key))
      problems.push({ _tag: 'UnknownField', field: key, value: raw[key], known: POLICY_FIELDS });
  }
  const whole = (field: Exclude<keyof GapPolicy, 'blockOn'>, min: number): number => {
    const v = field in raw ? raw[field] : base[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      problem(field, v, `a whole number >= ${min}`);
      return base[field];
    }
    return v;
  };
  const lookbackDays = whole('lookbackDays', 1);
  const criticalLookbackDays = whole('criticalLookbackDays', 0);
  const minRecordsPerDate = whole('minRecordsPerDate', 1);
  const autoBackfillThreshold = whole('autoBackfillThreshold', 0);
  const maxAttempts = whole('maxAttempts', 1);
  const blockOnRaw = 'blockOn' in raw ? raw['blockOn'] : base.blockOn;
  if (blockOnRaw !== 'any' && blockOnRaw !== 'critical') {
    problem('blockOn', blockOnRaw, '"any" or "critical"');
  }
  const rangeOk = problems.every((p) => p._tag !== 'InvalidValue' || (p.field !== 'lookbackDays' && p.field !== 'criticalLookbackDays'));
  if (rangeOk && criticalLookbackDays > lookbackDays) {
    problem('criticalLookbackDays', criticalLookbackDays, `<= lookbackDays (${lookbackDays})`);
  }
  if (problems.length > 0) return err(problems);
  return ok({
    lookbackDays,
    criticalLookbackDays,
    minRecordsPerDate,
    autoBackfillThreshold,
    blockOn: blockOnRaw as GapPolicy['blockOn'],
    maxAttempts,
  });
};
