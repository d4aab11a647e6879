import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { addDays, toEpochDay, utcDateOf, type IsoDate } from '@smart-backfill/core';
import {
  buildReportModel,
  formatDuration,
  renderReportHtml,
  type DayState,
  type ProcessorReportInput,
  type ReportModel,
} from '@smart-backfill/report';
import { CliError, messageOf } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { configOption, dateOption, intOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime/runtime.js';
import { gatherAssessment } from './assess.js';
import { pipelineOf, upstreamGapsOf } from './pipeline-view.js';
import { withRuntime } from './shared.js';

const DAY_MS = 86_400_000;

export interface ReportOptions {
  /** Only these processors (default: every configured one). */
  readonly processors?: readonly string[] | undefined;
  /** Days shown, ending on `today` (default 180). */
  readonly days?: number | undefined;
  /** The last day shown (default: the clock's UTC date). */
  readonly today?: IsoDate | undefined;
  /** Days the assessment looks back (default 30, the seed's). */
  readonly assessDays?: number | undefined;
  readonly title?: string | undefined;
  /** The data's own words for some states (the NBA demo: "no games"); the report is neutral otherwise. */
  readonly stateLabels?: Partial<Record<DayState, string>> | undefined;
}

/** Read one processor's schedule, counts, requests, alerts, runs and held runs for the report. */
const gatherProcessor = async (
  rt: Runtime,
  name: string,
  start: IsoDate,
  today: IsoDate,
  assessDays: number,
): Promise<ProcessorReportInput> => {
  const p = rt.processorConfig(name);
  const since = toEpochDay(start) * DAY_MS;
  const [window, requests, alerts, runs, heldRuns, assessed] = await Promise.all([
    rt.windowFor(p).readWindow({ processorName: name, start, end: today }),
    rt.tracker.forWindow({ processorName: name, start, end: today }),
    rt.alertLog.list({ processorName: name }),
    rt.runLog.runs({ processorName: name, since }),
    rt.runLog.heldRuns({ processorName: name }),
    gatherAssessment(rt, name, { days: assessDays, today }),
  ]);
  const heldForInputs = await upstreamGapsOf(rt, p.dependsOn ?? [], heldRuns, runs, since);
  return {
    processorName: name,
    start,
    end: today,
    today,
    expectedDates: window.expectedDates,
    recordCounts: window.recordCounts,
    minRecordsPerDate: p.policy.minRecordsPerDate,
    requests,
    alerts,
    runs,
    heldRuns,
    ...(heldForInputs.size === 0 ? {} : { heldForInputs }),
    assessment: assessed.assessment,
    suggestion: assessed.suggestion,
    nextSteps: assessed.nextSteps,
  };
};

/** The report's model, read from an open runtime (the `report` command and the demo). */
export const buildReportFromRuntime = async (rt: Runtime, o: ReportOptions = {}): Promise<ReportModel> => {
  const today = o.today ?? utcDateOf(rt.clock.now());
  const days = o.days ?? 180;
  const start = addDays(today, -(days - 1));
  const chosen =
    o.processors !== undefined && o.processors.length > 0
      ? o.processors.map((n) => rt.processorConfig(n).name)
      : rt.config.processors.map((p) => p.name);
  // With a pipeline, processors come in dependency order; without one, as configured (or asked).
  const pipeline = pipelineOf(rt, chosen);
  const names = pipeline?.map((r) => r.processor) ?? chosen;
  const processors: ProcessorReportInput[] = [];
  for (const n of names) processors.push(await gatherProcessor(rt, n, start, today, o.assessDays ?? 30));
  return buildReportModel({ title: o.title, generatedAt: rt.clock.now(), processors, pipeline, stateLabels: o.stateLabels });
};

/** Write the HTML file (creating its folder); returns the absolute path. */
export const writeReport = (path: string, model: ReportModel): string => {
  const abs = resolve(path);
  try {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, renderReportHtml(model));
  } catch (e) {
    throw new CliError(`report: cannot write ${abs} (${messageOf(e)})`, ExitCode.error, { cause: e });
  }
  return abs;
};

interface ReportCommandOptions extends ConfigOption {
  readonly days: number;
  /** Where to write the HTML, relative to the working folder. */
  readonly out: string;
  /** Default: every processor. */
  readonly processors: readonly string[] | undefined;
  readonly today: IsoDate | undefined;
}

const reportOptions = (raw: RawOptions): ReportCommandOptions => ({
  ...configOption(raw),
  days: intOption('--days', raw['days'] ?? '180', 1, 3660),
  out: typeof raw['out'] === 'string' && raw['out'] !== '' ? raw['out'] : 'smart-backfill-report.html',
  processors: Array.isArray(raw['processor'])
    ? (raw['processor'] as string[])
    : typeof raw['processor'] === 'string'
      ? [raw['processor']]
      : undefined,
  today: raw['today'] !== undefined ? dateOption('--today', raw['today']) : undefined,
});

/** `report [--processor P] [--days 180] --out report.html`. */
export const reportCommand = async (out: Output, raw: RawOptions): Promise<number> => {
  const opts = reportOptions(raw);
  const { days, processors, today, out: target } = opts;
  return withRuntime(out, opts, async (rt) => {
    const model = await buildReportFromRuntime(rt, { processors, days, today });
    const path = writeReport(resolve(out.io.cwd, target), model);
    if (out.json) {
      const counts = Object.fromEntries(model.processors.map((p) => [p.calendar.processorName, p.calendar.counts]));
      out.printJson({ path, start: model.start, end: model.end, kpis: model.kpis, counts });
    } else {
      const k = model.kpis;
      out.line(`report written to ${path}`);
      out.line(
        out.c.dim(
          `  ${model.start} to ${model.end}: ${k.gaps} gap date(s), ${k.healedAutomatically} healed automatically, ${k.healedManually} by a person, ${k.open} open; ${model.processors.length} processor(s)`,
        ),
      );
      if (k.recoveredGaps > 0)
        out.line(
          out.c.dim(
            `  time to recovery: ${k.timesToRecoveryMs.map((ms) => formatDuration(ms)).join(', ')} (median ${formatDuration(k.medianTimeToRecoveryMs)} over ${k.recoveredGaps} healed gap${k.recoveredGaps === 1 ? '' : 's'})`,
          ),
        );
    }
    return 0;
  });
};
