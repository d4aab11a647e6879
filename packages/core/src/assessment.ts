import { DEFAULT_POLICY, POLICY_PRESETS, validatePolicy, type GapPolicy, type PolicyPresetName } from './policy.js';
import { isOk } from './result.js';

/**
 * The seed's "Is this needed? (Check first!)" section as a function: three
 * measured signals, each with the seed's cut-offs, and its decision checklist.
 * Nothing here reads a store: the caller measures (see `monitoring.ts`) and passes numbers.
 */

export type Verdict = 'not_needed' | 'monitor' | 'implement';

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
  /** Runs failed or held for a missing dependency, percent of all runs (seed Query 2; `dependencyFailureRate().overall`). */
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
}

export type SignalName = 'gapsPer30Days' | 'dependencyFailurePct' | 'manualBackfillMinutesPerWeek';

export interface SignalAssessment {
  readonly signal: SignalName;
  readonly value: number | null;
  /** `unknown` when the value could not be measured. */
  readonly level: Verdict | 'unknown';
  /** The rule that applied, with the number: `7 gaps in 30 days > 5: implement`. */
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
  /** The numbers behind the status, or why it could not be computed. */
  readonly detail: string;
}

export interface Assessment {
  /**
   * The strongest known signal wins: one signal over its "implement" line is
   * enough to say `implement` (each of the seed's queries says "implement" on
   * its own). With no signal measured at all: `monitor` (keep measuring).
   */
  readonly verdict: Verdict;
  readonly signals: readonly SignalAssessment[];
  /** One line per signal, strongest first. */
  readonly reasons: readonly string[];
  readonly checklist: readonly ChecklistItem[];
  /**
   * The seed's own rule for its checklist: "if ANY unchecked: don't implement
   * yet; if ALL checked: proceed". An `unknown` item counts as unchecked, so
   * this is `not_yet` until a person confirms the alternatives item.
   */
  readonly checklistVerdict: 'proceed' | 'not_yet';
}

const valueOf = (m: Measurement | undefined): { value: number | null; why: string } => {
  if (typeof m === 'number') {
    return Number.isFinite(m) && m >= 0 ? { value: m, why: '' } : { value: null, why: `not a usable number (${String(m)})` };
  }
  if (m === null || m === undefined) return { value: null, why: 'not measured' };
  return { value: null, why: m.reason };
};

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100));

/**
 * The seed's cut-offs, read with exact boundaries:
 * gaps/30 days: < 3 not needed ("0–2"), 3..5 monitor, > 5 implement;
 * dependency failures: < 5% not needed, 5%..10% monitor, > 10% implement;
 * manual backfill: < 30 min/week not needed, 30..60 monitor, > 60 implement.
 */
export const SIGNAL_THRESHOLDS: Readonly<
  Record<SignalName, { readonly monitorFrom: number; readonly implementAbove: number; readonly unit: string }>
> = Object.freeze({
  gapsPer30Days: Object.freeze({ monitorFrom: 3, implementAbove: 5, unit: 'gaps in 30 days' }),
  dependencyFailurePct: Object.freeze({ monitorFrom: 5, implementAbove: 10, unit: '% dependency failures' }),
  manualBackfillMinutesPerWeek: Object.freeze({ monitorFrom: 30, implementAbove: 60, unit: 'min/week of manual backfill' }),
});

const assessSignal = (signal: SignalName, m: Measurement): SignalAssessment => {
  const { value, why } = valueOf(m);
  const t = SIGNAL_THRESHOLDS[signal];
  const unit = signal === 'dependencyFailurePct' ? t.unit : ` ${t.unit}`;
  if (value === null) return { signal, value, level: 'unknown', reason: `${signal} unknown: ${why}` };
  const shown = `${fmt(value)}${unit}`;
  if (value > t.implementAbove) return { signal, value, level: 'implement', reason: `${shown} > ${t.implementAbove}: implement` };
  if (value >= t.monitorFrom) {
    return { signal, value, level: 'monitor', reason: `${shown} within ${t.monitorFrom}..${t.implementAbove}: borderline, monitor` };
  }
  return { signal, value, level: 'not_needed', reason: `${shown} < ${t.monitorFrom}: not needed` };
};

const RANK: Record<SignalAssessment['level'], number> = { implement: 3, monitor: 2, not_needed: 1, unknown: 0 };

const item = (
  id: ChecklistItem['item'],
  label: string,
  value: number | null,
  unknownWhy: string,
  pass: (v: number) => boolean,
  describe: (v: number) => string,
): ChecklistItem =>
  value === null
    ? { item: id, label, status: 'unknown', detail: `cannot tell: ${unknownWhy}` }
    : { item: id, label, status: pass(value) ? 'passed' : 'failed', detail: describe(value) };

/** Should this team turn on smart-backfill? The seed's check, with every number shown. */
export const assess = (input: AssessmentInput): Assessment => {
  const signals = [
    assessSignal('gapsPer30Days', input.gapsPer30Days),
    assessSignal('dependencyFailurePct', input.dependencyFailurePct),
    assessSignal('manualBackfillMinutesPerWeek', input.manualBackfillMinutesPerWeek),
  ];
  const strongest = signals.reduce((a, b) => (RANK[b.level] > RANK[a.level] ? b : a));
  const verdict: Verdict = strongest.level === 'unknown' ? 'monitor' : strongest.level;
  const reasons = [...signals].sort((a, b) => RANK[b.level] - RANK[a.level]).map((s) => s.reason);
  if (strongest.level === 'unknown') reasons.unshift('no signal could be measured: keep monitoring');

  const gaps = valueOf(input.gapsPer30Days);
  const dep = valueOf(input.dependencyFailurePct);
  const manual = valueOf(input.manualBackfillMinutesPerWeek);
  const saved = input.minutesSavedPerWeek === undefined ? manual : valueOf(input.minutesSavedPerWeek);
  const alt = input.simplerAlternativesConsidered;

  const checklist: ChecklistItem[] = [
    item(
      'gap_frequency_over_3_per_week',
      'Monitoring shows gap frequency > 3/week',
      gaps.value,
      gaps.why,
      (v) => (v * 7) / 30 > 3,
      (v) => `${fmt((v * 7) / 30)} gaps/week (${fmt(v)} in 30 days × 7/30) ${(v * 7) / 30 > 3 ? '>' : '<='} 3`,
    ),
    item(
      'manual_backfill_over_30_min_per_week',
      'Manual backfill time > 30 min/week',
      manual.value,
      manual.why,
      (v) => v > 30,
      (v) => `${fmt(v)} min/week ${v > 30 ? '>' : '<='} 30`,
    ),
    item(
      'dependency_failures_over_5_pct',
      'Dependency failures > 5% of runs',
      dep.value,
      dep.why,
      (v) => v > 5,
      (v) => `${fmt(v)}% ${v > 5 ? '>' : '<='} 5%`,
    ),
    item(
      'roi_over_1_hour_saved_per_week',
      'ROI calculation shows value (> 1 hour saved/week)',
      saved.value,
      saved.why,
      (v) => v > 60,
      (v) =>
        `${fmt(v)} min/week saved ${v > 60 ? '>' : '<='} 60` +
        (input.minutesSavedPerWeek === undefined ? ' (taken as the manual backfill time it replaces)' : ''),
    ),
    alt === true || alt === false
      ? {
          item: 'simpler_alternatives_considered',
          label: 'Considered simpler alternatives',
          status: alt ? 'passed' : 'failed',
          detail: alt ? 'a person said the simpler alternatives were considered' : 'a person said they were not considered yet',
        }
      : {
          item: 'simpler_alternatives_considered',
          label: 'Considered simpler alternatives',
          status: 'unknown',
          detail:
            'cannot be computed from data: a person must confirm (better scraper reliability, dependency precheck, manual script, alerting)',
        },
  ];

  return {
    verdict,
    signals,
    reasons,
    checklist,
    checklistVerdict: checklist.every((c) => c.status === 'passed') ? 'proceed' : 'not_yet',
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
