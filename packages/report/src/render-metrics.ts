import type { DurationSummary } from '@smart-backfill/core';
import { formatDuration, formatNumber, formatPercent } from './format.js';
import type { MetricsReport, ProcessorMetrics } from './metrics.js';
import { windowDates } from './metrics.js';
import { renderPrometheus, type PromFamily, type PromSample } from './prometheus.js';

export type MetricsFormat = 'table' | 'json' | 'prometheus';

export const METRICS_FORMATS: readonly MetricsFormat[] = ['table', 'json', 'prometheus'];

/** Metric names start with this (Prometheus convention: one prefix per exporter). */
export const METRIC_PREFIX = 'smart_backfill_';

const pad = (s: string, n: number, right = false): string => (right ? s.padStart(n) : s.padEnd(n));

const table = (r: MetricsReport): string => {
  const { from, to } = windowDates(r);
  const head = ['processor', 'runs', 'gaps/day', 'queued', 'done', 'failed', 'success', 'avg bf', 'p95 bf', 'recovery', 'held', 'escal.'];
  const rows = r.processors.map((p) => [
    p.processorName,
    String(p.runs),
    formatNumber(p.gapDetectionsPerDay),
    String(p.backfills.queued + p.backfills.processing),
    String(p.backfills.completed),
    String(p.backfills.failed),
    formatPercent(p.successRate, 0),
    formatDuration(p.backfillDuration.avgMs),
    formatDuration(p.backfillDuration.p95Ms),
    formatDuration(p.timeToRecovery.medianMs),
    String(p.runsHeld),
    String(p.escalations),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => pad(c, widths[i] ?? 0, i > 0))
      .join('  ')
      .trimEnd();
  const out = [
    `smart-backfill metrics ${from} .. ${to} (${formatNumber(r.days)} days)`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
  ];
  if (rows.length === 0) out.push('(no processors, no runs and no requests in the window)');
  for (const row of rows) out.push(line(row));
  out.push(
    '',
    'queued: queued or processing now; success: completed / (completed + failed); avg/p95 bf: backfill duration;',
    'recovery: median time from the first run that found a gap to the held run succeeding.',
  );
  for (const p of r.processors) {
    if (p.detectionsByDay.length === 0 && p.gapEpisodes === 0) continue;
    out.push('', `${p.processorName}:`);
    out.push(
      `  gap detections      ${p.gapDetections} runs (${p.missingDatesDetected} missing dates); on ${p.detectionsByDay.length} day(s)` +
        (p.detectionsByDay.length > 0
          ? `: ${p.detectionsByDay
              .slice(0, 7)
              .map((d) => `${d.date} ×${d.gapDetections}`)
              .join(', ')}${p.detectionsByDay.length > 7 ? ', …' : ''}`
          : ''),
    );
    out.push(
      `  time to recovery    ${p.recovered} of ${p.gapEpisodes} gap(s) recovered; fill median ${formatDuration(p.timeToFill.medianMs)}, recovery median ${formatDuration(p.timeToRecovery.medianMs)}, p95 ${formatDuration(p.timeToRecovery.p95Ms)}`,
    );
    out.push(
      `  now                 ${p.heldNow} held run(s) waiting, ${p.openAlerts} open alert(s); dependency failures ${p.dependencyFailurePct === null ? '–' : `${formatNumber(p.dependencyFailurePct)}%`} of runs`,
    );
  }
  return `${out.join('\n')}\n`;
};

const seconds = (ms: number): number => ms / 1000;

const gauge = (name: string, help: string, pick: (p: ProcessorMetrics) => number | null, r: MetricsReport): PromFamily => ({
  name: `${METRIC_PREFIX}${name}`,
  help,
  type: 'gauge',
  samples: r.processors.flatMap((p) => {
    const v = pick(p);
    return v === null ? [] : [{ labels: { processor: p.processorName }, value: v }];
  }),
});

const summary = (name: string, help: string, pick: (p: ProcessorMetrics) => DurationSummary, r: MetricsReport): PromFamily => ({
  name: `${METRIC_PREFIX}${name}`,
  help,
  type: 'summary',
  samples: r.processors.flatMap((p): PromSample[] => {
    const s = pick(p);
    const labels = { processor: p.processorName };
    const out: PromSample[] = [];
    if (s.medianMs !== null) out.push({ labels: { ...labels, quantile: '0.5' }, value: seconds(s.medianMs) });
    if (s.p95Ms !== null) out.push({ labels: { ...labels, quantile: '0.95' }, value: seconds(s.p95Ms) });
    out.push({ suffix: '_sum', labels, value: seconds((s.avgMs ?? 0) * s.count) });
    out.push({ suffix: '_count', labels, value: s.count });
    return out;
  }),
});

const prometheus = (r: MetricsReport): string => {
  const win = `over the last ${formatNumber(r.days)} days`;
  return renderPrometheus([
    {
      name: `${METRIC_PREFIX}window_seconds`,
      help: 'Length of the window the other metrics cover.',
      type: 'gauge',
      samples: [{ labels: {}, value: seconds(r.until - r.since) }],
    },
    gauge('runs', `Processor runs started ${win}.`, (p) => p.runs, r),
    gauge('gap_detections', `Runs that found a gap and queued backfills ${win}.`, (p) => p.gapDetections, r),
    gauge('gap_detections_per_day', `Gap detections per day ${win}.`, (p) => p.gapDetectionsPerDay, r),
    gauge('missing_dates_detected', `Missing dates reported by gap detections ${win}.`, (p) => p.missingDatesDetected, r),
    {
      name: `${METRIC_PREFIX}backfill_requests`,
      help: `Backfill requests made ${win}, by current status.`,
      type: 'gauge',
      samples: r.processors.flatMap((p) =>
        (['queued', 'processing', 'completed', 'failed'] as const).map((status) => ({
          labels: { processor: p.processorName, status },
          value: p.backfills[status],
        })),
      ),
    },
    gauge(
      'backfill_success_ratio',
      `Completed / (completed + failed) backfills ${win}; absent when none finished.`,
      (p) => p.successRate,
      r,
    ),
    summary('backfill_duration_seconds', `Duration of finished backfills (last attempt) ${win}.`, (p) => p.backfillDuration, r),
    summary(
      'time_to_recovery_seconds',
      `From the first run that found a gap to the held run succeeding, gaps detected ${win}.`,
      (p) => p.timeToRecovery,
      r,
    ),
    gauge('gap_episodes', `Gaps first detected ${win}.`, (p) => p.gapEpisodes, r),
    gauge('gaps_recovered', `Gaps detected ${win} whose held run has succeeded.`, (p) => p.recovered, r),
    gauge('runs_held', `Scheduled runs held for a gap (backfill queued or waiting) ${win}.`, (p) => p.runsHeld, r),
    gauge('escalations', `Scheduled runs skipped because their gap was escalated to a person ${win}.`, (p) => p.escalations, r),
    gauge('alerts_opened', `Alerts opened ${win}.`, (p) => p.alertsOpened, r),
    gauge(
      'dependency_failure_ratio',
      `Scheduled runs failed or held for a missing dependency / scheduled runs ${win}; absent without scheduled runs.`,
      (p) => (p.dependencyFailurePct === null ? null : p.dependencyFailurePct / 100),
      r,
    ),
    gauge('held_runs_waiting', 'Held runs waiting for their gap to close now.', (p) => p.heldNow, r),
    gauge('open_alerts', 'Alerts open now.', (p) => p.openAlerts, r),
  ]);
};

/** The metrics as a table for people, JSON for machines, or Prometheus text exposition format. */
export const renderMetrics = (report: MetricsReport, format: MetricsFormat): string => {
  switch (format) {
    case 'table':
      return table(report);
    case 'json':
      return `${JSON.stringify({ ...windowDates(report), ...report }, null, 2)}\n`;
    case 'prometheus':
      return prometheus(report);
  }
};
