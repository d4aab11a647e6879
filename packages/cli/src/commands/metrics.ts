import { toEpochDay, utcDateOf, type AlertRecord, type HeldRun, type IsoDate } from '@smart-backfill/core';
import { computeMetrics, METRICS_FORMATS, renderMetrics, type MetricsFormat, type MetricsReport } from '@smart-backfill/report';
import { badInput } from '../cli-error.js';
import { configOption, dateOption, switchOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime/runtime.js';
import { withRuntime } from './shared.js';

const DAY_MS = 86_400_000;

/**
 * Read what the metrics need from any store — runs and requests since `since`,
 * alerts and held runs — and compute them per processor.
 */
export const gatherMetrics = async (
  rt: Runtime,
  window: { since: number; until: number },
  processorName?: string,
): Promise<MetricsReport> => {
  const names = processorName !== undefined ? [processorName] : rt.config.processors.map((p) => p.name);
  const [runs, requests, alerts, held] = await Promise.all([
    rt.runLog.runs({ processorName, since: window.since }),
    rt.tracker.list({ processorName, since: window.since }),
    Promise.all(names.map((n) => rt.alertLog.list({ processorName: n }))),
    Promise.all(names.map((n) => rt.runLog.heldRuns({ processorName: n }))),
  ]);
  return computeMetrics({
    window,
    runs,
    requests,
    alerts: alerts.flat() as AlertRecord[],
    heldRuns: held.flat() as HeldRun[],
    processors: names,
  });
};

interface MetricsCommandOptions extends ConfigOption {
  /** `--json` wins over `--format`. */
  readonly format: MetricsFormat;
  /** Default: 30 days before the end of the window. */
  readonly since: IsoDate | undefined;
  /** Default: the window ends now. */
  readonly until: IsoDate | undefined;
}

const metricsOptions = (raw: RawOptions): MetricsCommandOptions => {
  const fmt = switchOption(raw, 'json') ? 'json' : (raw['format'] ?? 'table');
  if (!(METRICS_FORMATS as readonly unknown[]).includes(fmt))
    throw badInput(`--format: expected one of ${METRICS_FORMATS.join(', ')}, got ${JSON.stringify(fmt)}`);
  return {
    ...configOption(raw),
    format: fmt as MetricsFormat,
    until: raw['until'] !== undefined ? dateOption('--until', raw['until']) : undefined,
    since: raw['since'] !== undefined ? dateOption('--since', raw['since']) : undefined,
  };
};

/** `metrics [PROCESSOR] [--since D] [--until D] [--format table|json|prometheus]`. */
export const metricsCommand = async (out: Output, raw: RawOptions, args: readonly string[]): Promise<number> => {
  const opts = metricsOptions(raw);
  return withRuntime(out, opts, async (rt) => {
    // --until D counts D whole; by default the window ends now.
    const now = opts.until !== undefined ? (toEpochDay(opts.until) + 1) * DAY_MS : rt.clock.now();
    const since = opts.since !== undefined ? toEpochDay(opts.since) * DAY_MS : now - 30 * DAY_MS;
    if (since >= now) throw badInput(`--since: ${utcDateOf(since)} is not before the end of the window (${utcDateOf(now - 1)})`);
    const name = args[0] !== undefined ? rt.processorConfig(args[0]).name : undefined;
    const report = await gatherMetrics(rt, { since, until: now }, name);
    out.io.stdout.write(renderMetrics(report, opts.format));
    return 0;
  });
};
