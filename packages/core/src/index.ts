/**
 * @smart-backfill/core — pure, dependency-free gap analysis. No I/O, no clock:
 * time comes in as arguments (`asOf`, epoch milliseconds) or through the `Clock` port.
 */
export { type Result, type Ok, type Err, ok, err, isOk, isErr } from './result.js';
export {
  type IsoDate,
  type EpochDay,
  type InvalidDate,
  parseIsoDate,
  parseEpochDay,
  isIsoDate,
  isoDate,
  toEpochDay,
  fromEpochDay,
  civilToEpochDay,
  addDays,
  diffDays,
  compareDates,
  dateRange,
  utcDateOf,
} from './iso-date.js';
export { type InvalidDateSpec, type ResolvedDate, isValidTimeZone, resolveDateSpec, todayIn } from './relative-date.js';
export {
  type GapPolicy,
  type PolicyProblem,
  type PolicyPresetName,
  DEFAULT_POLICY,
  POLICY_PRESETS,
  validatePolicy,
  formatPolicyProblem,
} from './policy.js';
export {
  type RecordCounts,
  type AnalyzeGapsInput,
  type AnalyzeRangeInput,
  type IncompleteDate,
  type GapRun,
  type GapAnalysis,
  analyzeGaps,
  analyzeRange,
  toRuns,
} from './gap-analysis.js';
export { type Proceed, type Backfill, type Escalate, type Decision, type DecideContext, decide } from './decision.js';
export {
  type RequestStatus,
  type RequestType,
  type RequestPriority,
  type NewBackfillRequest,
  type BackfillRequest,
  type RequestEvent,
  type TransitionError,
  ACTIVE_STATUSES,
  isActive,
  newRequest,
  transition,
  summarizeRequests,
} from './request-lifecycle.js';
export { type AlertOpening, openedAlert, updatedAlert, sentAlert, sendFailedAlert, resolvedAlert } from './alert-record.js';
export {
  type TimeWindow,
  type DurationSummary,
  type GapDetectionRow,
  type BackfillStatsRow,
  type GapRecovery,
  type DependencyFailureStats,
  type DependencyFailureReport,
  GAP_SKIP_REASONS,
  isDependencyError,
  summarizeDurations,
  gapDetectionsByDay,
  backfillStats,
  timeToRecovery,
  dependencyFailureRate,
  distinctGapDates,
  isDetectedGapRequest,
  gapDatesOfRun,
  detectedGapDates,
} from './monitoring.js';
export { type HealedGap, healedGaps, medianOf } from './healed-gaps.js';
export {
  type Verdict,
  type SignalLevel,
  type Comparison,
  type Unit,
  type Unmeasured,
  type Measurement,
  type AssessmentInput,
  type SignalName,
  type SignalAssessment,
  type ChecklistStatus,
  type ChecklistItem,
  type Assessment,
  type PolicyHistory,
  type PolicySuggestion,
  SIGNAL_THRESHOLDS,
  LOOKBACK_MARGIN_DAYS,
  assess,
  quantity,
  suggestPolicy,
} from './assessment.js';
export { type ResumeEvidence, type ResumeReadiness, type WaitReason, resumeReadiness, resumeEvidenceSince } from './resume-readiness.js';
export type * from './ports/index.js';
export { alertInCheck, heldRunInCheck } from './check-scope.js';
export { type ScheduleDiagnosis, diagnoseSchedule } from './schedule-diagnosis.js';
export {
  type SmartBackfillErrorCode,
  type SmartBackfillErrorOptions,
  SMART_BACKFILL_ERROR_CODES,
  SmartBackfillError,
  isSmartBackfillError,
  invalidInput,
} from './smart-backfill-error.js';
export { dateProblem, nonEmptyProblem, instantProblem, countProblem, durationProblem, releaseStatusProblem } from './input-problems.js';

// Pipelines: processors that read each other's output (issue 16).
export {
  type Dependency,
  type PipelineNode,
  type Dependent,
  type PipelineGraph,
  type GraphProblem,
  MAX_DEPENDENCY_LOOKBACK_DAYS,
  buildPipelineGraph,
  upstreamDatesRead,
  downstreamDatesReading,
  withDownstream,
} from './pipeline-graph.js';
export {
  type ProcessorDates,
  type BackfillStep,
  type RerunStep,
  type PlanStep,
  type DownstreamDates,
  type DownstreamPlan,
  type WaitingStep,
  planPipeline,
  planDownstream,
  downstreamReach,
  upstreamReach,
  builtOnIncompleteInput,
} from './pipeline-plan.js';
export { lastBuildsOf } from './last-builds.js';
export { type InputState, datesWaitingForInputs } from './input-wait.js';
export { type PipelineRow, type UpstreamGap, UPSTREAM_WAITS_KEY, pipelineRows, heldRunUpstreamGaps } from './pipeline-view.js';
