import { DEFAULT_POLICY, POLICY_PRESETS, validatePolicy, type GapPolicy, type PolicyPresetName } from './policy.js';
import { isOk } from './result.js';

/**
 * The seed's "Is this needed? (Check first!)" section as ONE function: three
 * measured signals with the seed's cut-offs, its decision checklist, the
 * verdict, and the policy to start from. Nothing here reads a store: the caller
 * measures (see `monitoring.ts`) and passes numbers. Every printed verdict,
 * checklist and suggested policy (`assess` text and JSON, the HTML report)
 * comes from here, so no other place restates the rule.
 */

/**
 * `unknown`: the gap frequency — the figure the seed says to decide on — could
 * not be measured, so the answer is neither "needed" nor "not needed".
 */
export type Verdict = 'not_needed' | 'monitor' | 'implement' | 'unknown';

/** Where one signal stands against the seed's cut-offs. */
export type SignalLevel = 'not_needed' | 'monitor' | 'implement' | 'unknown';

/** A figure that could not be computed, and why (no run log yet, nobody tracked manual work, ...). */
export interface Unmeasured {
  readonly value: null;
  readonly reason: string;
}

/** A number, `null` (not measured, no reason given) or an `Unmeasured` with its reason. */
export type Measurement = number | null | Unmeasured;

export interface AssessmentInput {
  /** Missing dates found in the last 30 days (seed Query 1). */
  readonly gapsPer30Days: Measurement;
  /** Scheduled runs failed or held for a missing dependency, percent of scheduled runs (seed Query 2; `dependencyFailureRate().overall`). */
  readonly dependencyFailurePct: Measurement;
  /** Minutes per week people spend on manual backfills (seed "Query 3", tracked by hand). */
  readonly manualBackfillMinutesPerWeek: Measurement;
  /**
   * Minutes per week automation would save. Defaults to the manual backfill
   * minutes: the seed expects manual work to drop to 0 for small gaps.
   */
  readonly minutesSavedPerWeek?: Measurement;
  /**
   * Has someone considered the seed's simpler alternatives (scraper
   * reliability, dependency precheck, a manual script, better alerting)? No data
   * can answer this; unless a person says so it stays `unknown`.
   */
  readonly simplerAlternativesConsidered?: boolean | null;
  /** What the suggested policy is derived from (default: nothing observed, the base policy's values). */
  readonly policyHistory?: PolicyHistory;
}

export type SignalName = 'gapsPer30Days' | 'dependencyFailurePct' | 'manualBackfillMinutesPerWeek';

/**
 * A measured value against its threshold(s), all in one unit; `text` is what
 * is printed (`2.13% of scheduled runs < 5% of scheduled runs`).
 */
export interface Comparison {
  readonly value: number;
  readonly unit: Unit;
  /** `between`: `bounds` is `[low, high]`, both inclusive. */
  readonly op: '>' | '<=' | '<' | 'between';
  readonly bounds: readonly number[];
  readonly text: string;
}

export interface SignalAssessment {
  readonly signal: SignalName;
  readonly value: number | null;
  /** `unknown` when the value could not be measured. */
  readonly level: SignalLevel;
  /** The value against the cut-off that applied; `null` when unmeasured. */
  readonly comparison: Comparison | null;
  /** The rule that applied, with the numbers: `7 gaps in 30 days > 5 gaps in 30 days: over the seed's implement line`. */
  readonly reason: string;
}

export type ChecklistStatus = 'passed' | 'failed' | 'unknown';

export interface ChecklistItem {
  readonly item:
    | 'gap_frequency_over_3_per_week'
    | 'manual_backfill_over_30_min_per_week'
    | 'dependency_failures_over_5_pct'
    | 'roi_over_1_hour_saved_per_week'
    | 'simpler_alternatives_considered';
  /** The seed's wording. */
  readonly label: string;
  readonly status: ChecklistStatus;
  /** The value against the item's line; `null` when unknown or not a number. */
  readonly comparison: Comparison | null;
  /** The numbers behind the status, or why it could not be computed. */
  readonly detail: string;
}

export interface Assessment {
  /**
   * The one rule (see `docs/monitoring.md`):
   * - `unknown` when the gap frequency could not be measured;
   * - `implement` exactly when every checklist item is ticked (the seed: "if ALL checked: proceed");
   * - otherwise `monitor` when some measured signal reaches its monitor line
   *   ("if ANY unchecked: don't implement yet, continue monitoring");
   * - otherwise `not_needed`.
   */
  readonly verdict: Verdict;
  readonly signals: readonly SignalAssessment[];
  /** Why the verdict, first; then one line per signal, strongest first. */
  readonly reasons: readonly string[];
  /** When the verdict is `unknown`: what could not be measured, one line each. Empty otherwise. */
  readonly unknownBecause: readonly string[];
  readonly checklist: readonly ChecklistItem[];
  /** The checklist's own conclusion; `proceed` exactly when the verdict is `implement`. */
  readonly checklistVerdict: 'proceed' | 'not_yet';
  /** The policy to start from, with its reasons. */
  readonly suggestion: PolicySuggestion;
}

const valueOf = (m: Measurement | undefined): { value: number | null; why: string } => {
  if (typeof m === 'number') {
    return Number.isFinite(m) && m >= 0 ? { value: m, why: '' } : { value: null, why: `not a usable number (${String(m)})` };
  }
  if (m === null || m === undefined) return { value: null, why: 'no figure given' };
  return { value: null, why: m.reason };
};

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100));

/** Units a comparison is stated in; `%` units are written right after the number. */
export type Unit = 'gaps in 30 days' | 'gaps/week' | '% of scheduled runs' | 'min/week' | 'min/week saved';

/** A number with its unit: `2.13% of scheduled runs`, `7 gaps in 30 days`. */
export const quantity = (n: number, unit: Unit): string => (unit.startsWith('%') ? `${fmt(n)}${unit}` : `${fmt(n)} ${unit}`);

const compare = (value: number, unit: Unit, op: Comparison['op'], bounds: readonly number[]): Comparison => {
  const v = quantity(value, unit);
  const text =
    op === 'between'
      ? `${v} is between ${quantity(bounds[0] as number, unit)} and ${quantity(bounds[1] as number, unit)}`
      : `${v} ${op} ${quantity(bounds[0] as number, unit)}`;
  return { value, unit, op, bounds, text };
};

/**
 * The seed's cut-offs, read with exact boundaries:
 * gaps/30 days: < 3 not needed ("0–2"), 3..5 monitor, > 5 implement;
 * dependency failures: < 5% not needed, 5%..10% monitor, > 10% implement;
 * manual backfill: < 30 min/week not needed, 30..60 monitor, > 60 implement.
 */
export const SIGNAL_THRESHOLDS: Readonly<
  Record<SignalName, { readonly monitorFrom: number; readonly implementAbove: number; readonly unit: Unit; readonly label: string }>
> = Object.freeze({
  gapsPer30Days: Object.freeze({ monitorFrom: 3, implementAbove: 5, unit: 'gaps in 30 days' as const, label: 'gap frequency' }),
  dependencyFailurePct: Object.freeze({
    monitorFrom: 5,
    implementAbove: 10,
    unit: '% of scheduled runs' as const,
    label: 'dependency failures',
  }),
  manualBackfillMinutesPerWeek: Object.freeze({
    monitorFrom: 30,
    implementAbove: 60,
    unit: 'min/week' as const,
    label: 'manual backfill time',
  }),
});

const assessSignal = (signal: SignalName, m: Measurement): SignalAssessment => {
  const { value, why } = valueOf(m);
  const t = SIGNAL_THRESHOLDS[signal];
  if (value === null) return { signal, value, level: 'unknown', comparison: null, reason: `${t.label} not measured: ${why}` };
  if (value > t.implementAbove) {
    const c = compare(value, t.unit, '>', [t.implementAbove]);
    return { signal, value, level: 'implement', comparison: c, reason: `${t.label}: ${c.text}: over the seed's implement line` };
  }
  if (value >= t.monitorFrom) {
    const c = compare(value, t.unit, 'between', [t.monitorFrom, t.implementAbove]);
    return { signal, value, level: 'monitor', comparison: c, reason: `${t.label}: ${c.text}: borderline, monitor` };
  }
  const c = compare(value, t.unit, '<', [t.monitorFrom]);
  return { signal, value, level: 'not_needed', comparison: c, reason: `${t.label}: ${c.text}: not needed` };
};

const RANK: Record<SignalLevel, number> = { implement: 3, monitor: 2, not_needed: 1, unknown: 0 };

const item = (
  id: ChecklistItem['item'],
  label: string,
  value: number | null,
  unknownWhy: string,
  line: number,
  unit: Unit,
  note = '',
): ChecklistItem => {
  if (value === null) return { item: id, label, status: 'unknown', comparison: null, detail: `cannot tell: ${unknownWhy}` };
  const c = compare(value, unit, value > line ? '>' : '<=', [line]);
  return { item: id, label, status: value > line ? 'passed' : 'failed', comparison: c, detail: `${c.text}${note}` };
};

/**
 * Should this team turn on smart-backfill? The seed's checks, its checklist,
 * the verdict and a starting policy, with every number shown.
 */
export const assess = (input: AssessmentInput): Assessment => {
  const signals = [
    assessSignal('gapsPer30Days', input.gapsPer30Days),
    assessSignal('dependencyFailurePct', input.dependencyFailurePct),
    assessSignal('manualBackfillMinutesPerWeek', input.manualBackfillMinutesPerWeek),
  ];

  const gaps = valueOf(input.gapsPer30Days);
  const dep = valueOf(input.dependencyFailurePct);
  const manual = valueOf(input.manualBackfillMinutesPerWeek);
  const saved = input.minutesSavedPerWeek === undefined ? manual : valueOf(input.minutesSavedPerWeek);
  const alt = input.simplerAlternativesConsidered;
  const perWeek = gaps.value === null ? null : (gaps.value * 7) / 30;

  const checklist: ChecklistItem[] = [
    item(
      'gap_frequency_over_3_per_week',
      'Monitoring shows gap frequency > 3/week',
      perWeek,
      gaps.why,
      3,
      'gaps/week',
      gaps.value === null ? '' : ` (${quantity(gaps.value, 'gaps in 30 days')} × 7/30)`,
    ),
    item('manual_backfill_over_30_min_per_week', 'Manual backfill time > 30 min/week', manual.value, manual.why, 30, 'min/week'),
    item('dependency_failures_over_5_pct', 'Dependency failures > 5% of runs', dep.value, dep.why, 5, '% of scheduled runs'),
    item(
      'roi_over_1_hour_saved_per_week',
      'ROI calculation shows value (> 1 hour saved/week)',
      saved.value,
      saved.why,
      60,
      'min/week saved',
      input.minutesSavedPerWeek === undefined ? ' (taken as the manual backfill time it replaces)' : '',
    ),
    alt === true || alt === false
      ? {
          item: 'simpler_alternatives_considered',
          label: 'Considered simpler alternatives',
          status: alt ? 'passed' : 'failed',
          comparison: null,
          detail: alt ? 'a person said the simpler alternatives were considered' : 'a person said they were not considered yet',
        }
      : {
          item: 'simpler_alternatives_considered',
          label: 'Considered simpler alternatives',
          status: 'unknown',
          comparison: null,
          detail:
            'cannot be computed from data: a person must confirm (better scraper reliability, dependency precheck, manual script, alerting)',
        },
  ];

  const allTicked = checklist.every((c) => c.status === 'passed');
  const gapSignal = signals[0] as SignalAssessment;
  const unmeasured = signals.filter((s) => s.level === 'unknown');
  const strongest = Math.max(...signals.map((s) => RANK[s.level]));
  const unticked = checklist.filter((c) => c.status !== 'passed').map((c) => c.label);

  let verdict: Verdict;
  let why: string;
  if (gapSignal.level === 'unknown') {
    verdict = 'unknown';
    why = `unknown: the gap frequency could not be measured, and the seed decides on measured gaps`;
  } else if (allTicked) {
    verdict = 'implement';
    why = "implement: every item of the seed's checklist is ticked";
  } else if (strongest >= RANK.monitor) {
    verdict = 'monitor';
    why =
      strongest === RANK.implement
        ? `monitor: a signal is over the seed's implement line, but the checklist is not all ticked (${unticked.join('; ')}): don't implement yet`
        : 'monitor: a signal is borderline: keep measuring';
  } else {
    verdict = 'not_needed';
    why =
      unmeasured.length === 0
        ? 'not needed: every signal is under its monitor line'
        : `not needed: every measured signal is under its monitor line (not measured: ${unmeasured.map((s) => SIGNAL_THRESHOLDS[s.signal].label).join(', ')})`;
  }
  const reasons = [why, ...[...signals].sort((a, b) => RANK[b.level] - RANK[a.level]).map((s) => s.reason)];

  const h = input.policyHistory;
  return {
    verdict,
    signals,
    reasons,
    unknownBecause: verdict === 'unknown' ? unmeasured.map((s) => s.reason) : [],
    checklist,
    checklistVerdict: allTicked ? 'proceed' : 'not_yet',
    suggestion: suggestPolicy(h ?? { rowsPerDate: [] }),
  };
};

// ---------------------------------------------------------------------------
// Policy suggestion

export interface PolicyHistory {
  /** Rows per date on dates the processor filled (zeros are ignored: they are gaps, not typical days). */
  readonly rowsPerDate: Iterable<number>;
  /** Sizes (missing dates) of gaps seen, e.g. `gapSize` of past detections. */
  readonly gapSizes?: Iterable<number>;
  /** The longest look-back a processor's logic needs (a 30-day rolling average needs 30). */
  readonly longestDependencyDays?: number;
  /** Fields not suggested come from here (default `DEFAULT_POLICY`). */
  readonly base?: GapPolicy;
}

export interface PolicySuggestion {
  readonly policy: GapPolicy;
  /** The threshold preset whose `autoBackfillThreshold` the suggestion took. */
  readonly preset: PolicyPresetName;
  /** One line per suggested field, with the numbers. */
  readonly reasons: readonly string[];
}

/** Days added on top of the longest dependency, per the seed ("30-day rolling averages → 35+", "last 10 games → 15+"). */
export const LOOKBACK_MARGIN_DAYS = 5;

const median = (sorted: readonly number[]): number => {
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/**
 * The seed's configuration guide as a function: `minRecordsPerDate` ≈ 50% of
 * the median rows per date ("set to 50% of typical to catch severe gaps"); the
 * smallest threshold preset (conservative 2, balanced 3, aggressive 7) that
 * auto-heals the 90th-percentile observed gap; `lookbackDays` = longest
 * dependency + 5 when given (else the base's 30); the critical window kept at
 * the base's 10 days unless the look-back is shorter.
 */
export const suggestPolicy = (history: PolicyHistory): PolicySuggestion => {
  const base = history.base ?? DEFAULT_POLICY;
  const reasons: string[] = [];

  const rows = [...history.rowsPerDate].filter((n) => Number.isFinite(n) && n > 0).sort((a, b) => a - b);
  let minRecordsPerDate = base.minRecordsPerDate;
  if (rows.length > 0) {
    const typical = median(rows);
    minRecordsPerDate = Math.max(1, Math.floor(typical / 2));
    reasons.push(
      `minRecordsPerDate ${minRecordsPerDate}: 50% of the median ${fmt(typical)} rows per date over ${rows.length} filled dates`,
    );
  } else {
    reasons.push(`minRecordsPerDate ${minRecordsPerDate}: no filled dates observed, kept the base value`);
  }

  const gaps = [...(history.gapSizes ?? [])].filter((n) => Number.isFinite(n) && n > 0).sort((a, b) => a - b);
  let preset: PolicyPresetName = 'balanced';
  if (gaps.length > 0) {
    const p90 = gaps[Math.ceil(0.9 * gaps.length) - 1] as number;
    preset =
      p90 <= POLICY_PRESETS.conservative.autoBackfillThreshold
        ? 'conservative'
        : p90 <= POLICY_PRESETS.balanced.autoBackfillThreshold
          ? 'balanced'
          : 'aggressive';
    const t = POLICY_PRESETS[preset].autoBackfillThreshold;
    reasons.push(
      `autoBackfillThreshold ${t} (${preset}): 90% of ${gaps.length} observed gaps are <= ${fmt(p90)} dates` +
        (p90 > t ? `; gaps over ${t} dates will still escalate to a person` : ''),
    );
  } else {
    reasons.push(`autoBackfillThreshold ${POLICY_PRESETS.balanced.autoBackfillThreshold} (balanced): no gaps observed, the seed's default`);
  }

  let lookbackDays = base.lookbackDays;
  const dep = history.longestDependencyDays;
  if (dep !== undefined && Number.isInteger(dep) && dep >= 0) {
    lookbackDays = dep + LOOKBACK_MARGIN_DAYS;
    reasons.push(`lookbackDays ${lookbackDays}: longest dependency ${dep} days + ${LOOKBACK_MARGIN_DAYS} days margin`);
  } else {
    reasons.push(`lookbackDays ${lookbackDays}: no dependency length given, kept the base value`);
  }
  const criticalLookbackDays = Math.min(base.criticalLookbackDays, lookbackDays);
  if (criticalLookbackDays !== base.criticalLookbackDays) {
    reasons.push(`criticalLookbackDays ${criticalLookbackDays}: cut to the look-back window`);
  }

  const candidate = {
    ...base,
    lookbackDays,
    criticalLookbackDays,
    minRecordsPerDate,
    autoBackfillThreshold: POLICY_PRESETS[preset].autoBackfillThreshold,
  };
  // Every field above is derived within range; validating keeps that promise checked.
  const v = validatePolicy(candidate);
  return { policy: isOk(v) ? v.value : base, preset, reasons };
};
