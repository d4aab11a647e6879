/**
 * @smart-backfill/report — see what smart-backfill does: the gap calendar
 * (a self-contained HTML page), monitoring metrics (table, JSON, Prometheus)
 * and the next steps after an assessment. Pure: callers read the store and pass plain records.
 */
export { type DayState, type DayFacts, type DayStyle, type HealedBy, DAY_STATES, DAY_STYLES, classifyDay } from './day-state.js';
export {
  type CountsByDate,
  type CalendarModelInput,
  type CellRequest,
  type CellAlert,
  type DayCell,
  type CalendarModel,
  buildCalendarModel,
  latestRequestByDate,
  emptyStateCounts,
  weekdayOf,
} from './calendar-model.js';
export {
  type ProcessorReportInput,
  type ReportInput,
  type ReportKpis,
  type RequestRow,
  type ProcessorReport,
  type ReportModel,
  buildReportModel,
} from './report-model.js';
export { renderReportHtml, cellDescription } from './render-html.js';
export { escapeHtml } from './html-escape.js';
export {
  type MetricsInput,
  type RecoverySummary,
  type ProcessorMetrics,
  type MetricsReport,
  computeMetrics,
  windowDates,
} from './metrics.js';
export { type MetricsFormat, METRICS_FORMATS, METRIC_PREFIX, renderMetrics } from './render-metrics.js';
export { type PromType, type PromSample, type PromFamily, renderPrometheus, escapeLabelValue, escapeHelp } from './prometheus.js';
export { type NextStepsOptions, nextSteps, policyJson } from './next-steps.js';
export { formatDuration, formatTimestamp, formatPercent, formatNumber } from './format.js';
