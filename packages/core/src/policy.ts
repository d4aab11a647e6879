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

export interface PolicyProblem {
  readonly _tag: 'PolicyProblem';
  readonly field: keyof GapPolicy | 'policy';
  readonly value: unknown;
  readonly message: string;
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'undefined' : String(v));

const POLICY_FIELDS: ReadonlyArray<keyof GapPolicy> = [
  'lookbackDays',
  'criticalLookbackDays',
  'minRecordsPerDate',
  'autoBackfillThreshold',
  'blockOn',
  'maxAttempts',
];

/**
 * Validate a (possibly partial) policy, filling absent fields from `base`
 * (the defaults). Returns every problem at once, each naming its field:
 * `lookbackDays must be a whole number >= 1, got -2`.
 */
export const validatePolicy = (input: unknown, base: GapPolicy = DEFAULT_POLICY): Result<readonly PolicyProblem[], GapPolicy> => {
  if (input === undefined || input === null) return ok(base);
  if (typeof input !== 'object' || Array.isArray(input)) {
    return err([
      {
        _tag: 'PolicyProblem',
        field: 'policy',
        value: input,
        message: `policy must be an object, got ${Array.isArray(input) ? 'an array' : show(input)}`,
      },
    ]);
  }
  const raw = input as Record<string, unknown>;
  const problems: PolicyProblem[] = [];
  const problem = (field: PolicyProblem['field'], value: unknown, message: string): void => {
    problems.push({ _tag: 'PolicyProblem', field, value, message });
  };
  for (const key of Object.keys(raw)) {
    if (!(POLICY_FIELDS as readonly string[]).includes(key)) {
      problem('policy', raw[key], `policy has no field "${key}" (known: ${POLICY_FIELDS.join(', ')})`);
    }
  }
  const whole = (field: Exclude<keyof GapPolicy, 'blockOn'>, min: number): number => {
    const v = field in raw ? raw[field] : base[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      problem(field, v, `${field} must be a whole number >= ${min}, got ${show(v)}`);
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
    problem('blockOn', blockOnRaw, `blockOn must be "any" or "critical", got ${show(blockOnRaw)}`);
  }
  if (problems.every((p) => p.field !== 'lookbackDays' && p.field !== 'criticalLookbackDays') && criticalLookbackDays > lookbackDays) {
    problem(
      'criticalLookbackDays',
      criticalLookbackDays,
      `criticalLookbackDays must be <= lookbackDays (${lookbackDays}), got ${criticalLookbackDays}`,
    );
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
