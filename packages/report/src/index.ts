/**
 * @smart-backfill/report — see what smart-backfill does: the gap calendar
 * (a self-contained HTML page), monitoring metrics (table, JSON, Prometheus)
 * and the next steps after an assessment. Pure: callers read the store and pass plain records.
 */
export { type DayState, type DayFacts, /** @public */ type DayStyle, /** @public */ type HealedBy, classifyDay } from './day-state.js';
export {
  /** @public */ type CountsByDate,
  /** @public */ type CalendarModelInput,
  /** @public */ type CellRequest,
  /** @public */ type CellAlert,
  /** @public */ type DayCell,
  /** @public */ type CalendarModel,
  buildCalendarModel,
  latestRequestByDate,
} from './calendar-model.js';
export {
  type ProcessorReportInput,
  /** @public */ type ReportInput,
  /** @public */ type ReportKpis,
  /** @public */ type RequestRow,
  /** @public */ type ProcessorReport,
  /** @public */ type HeldRunRow,
  /** @public */ type PipelineReportRow,
  type ReportModel,
  buildReportModel,
} from './report-model.js';
export { renderReportHtml } from './render-html.js';
export { escapeHtml } from './html-escape.js';
export {
  /** @public */ type MetricsInput,
  /** @public */ type RecoverySummary,
  /** @public */ type ProcessorMetrics,
  type MetricsReport,
  computeMetrics,
} from './metrics.js';
export { type MetricsFormat, METRICS_FORMATS, renderMetrics } from './render-metrics.js';

export { /** @public */ type NextStepsOptions, nextSteps, policyJson } from './next-steps.js';
export { formatDuration } from './format.js';
