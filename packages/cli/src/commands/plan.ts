import {
  analyzeRange,
  builtOnIncompleteInput,
  diffDays,
  lastBuildsOf,
  planPipeline,
  toEpochDay,
  withDownstream,
  type IsoDate,
  type LastBuild,
  type PipelineGraph,
  type PlanStep,
  type ProcessorDates,
  type RunLog,
  type WindowReader,
} from '@smart-backfill/core';
import { badInput } from '../cli-error.js';
import { formatDates } from '../format/dates.js';
import { configOption, dateOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import type { ResolvedConfig, ResolvedProcessor } from '../config/config-types.js';
import { findProcessor } from '../runtime/runtime.js';
import { withReadOnlyStore } from './shared.js';

/** The longest range one plan reads, as for a manual backfill. */
export const MAX_PLAN_DAYS = 366;

const MS_PER_DAY = 86_400_000;

export interface PipelinePlan {
  readonly from: IsoDate;
  readonly to: IsoDate;
  /** The processors planned, in dependency order. */
  readonly processors: readonly string[];
  readonly steps: readonly PlanStep[];
}

/**
 * The last successful build of each date of `names`: the store's one read when it offers it
 * (a year of a hundred processors is tens of thousands of run records, each with its metadata,
 * otherwise), else every run of each processor since `since`, folded the same way.
 */
const lastBuilds = async (runLog: RunLog, names: readonly string[], since: number): Promise<readonly LastBuild[]> => {
  if (runLog.lastBuilds !== undefined) return runLog.lastBuilds({ processorNames: names, since });
  const runs = await Promise.all(names.map((name) => runLog.runs({ processorName: name, since })));
  return lastBuildsOf(runs.flat());
};

/** What the plan reads: the config's tables and the run log. */
export interface PlanReads {
  readonly config: ResolvedConfig;
  readonly runLog: RunLog;
  windowFor(processor: ResolvedProcessor): WindowReader;
}

/**
 * Read what the plan needs for `names` over `[from, to]`: each one's schedule and counts
 * (missing and filled dates), and the run log of them and of what they read (when each
 * date was last built). Reads only; the rule is core's `planPipeline`.
 */
export const planFromStore = async (
  rt: PlanReads,
  graph: PipelineGraph,
  names: readonly string[],
  from: IsoDate,
  to: IsoDate,
): Promise<PipelinePlan> => {
  const wanted = new Set(names);
  const withInputs = graph.order.filter((n) => wanted.has(n) || graph.dependents.get(n)?.some((d) => wanted.has(d.processor)));
  // A date's runs start on or after the date in practice; a day's margin covers early starts.
  const since = toEpochDay(from) * MS_PER_DAY - MS_PER_DAY;
  const lastBuiltAt = new Map<string, Map<IsoDate, number>>();
  const builtAt = new Map<string, Map<IsoDate, number>>();
  for (const name of withInputs) {
    lastBuiltAt.set(name, new Map());
    builtAt.set(name, new Map());
  }
  for (const b of await lastBuilds(rt.runLog, withInputs, since)) {
    lastBuiltAt.get(b.processorName)?.set(b.runDate, b.startedAt);
    builtAt.get(b.processorName)?.set(b.runDate, b.finishedAt);
  }
  const dates = new Map<string, ProcessorDates>();
  await Promise.all(
    names.map(async (name) => {
      const p = findProcessor(rt.config, name);
      const window = await rt.windowFor(p).readWindow({ processorName: name, start: from, end: to });
      const a = analyzeRange({ start: from, end: to, ...window, policy: { minRecordsPerDate: p.policy.minRecordsPerDate } });
      const missing = new Set(a.missingDates);
      const built = [...new Set(window.expectedDates)].filter((d) => d >= from && d <= to && !missing.has(d));
      const inRange = new Set(built);
      const stale = builtOnIncompleteInput(graph.dependsOn.get(name) ?? [], lastBuiltAt.get(name) ?? new Map(), builtAt).filter((d) =>
        inRange.has(d),
      );
      dates.set(name, { missing, built, ranOnIncomplete: stale });
    }),
  );
  return { from, to, processors: graph.order.filter((n) => wanted.has(n)), steps: planPipeline(graph, dates) };
};

/** Consecutive steps of one kind and processor, as one printed line. */
const groups = (steps: readonly PlanStep[]): { tag: PlanStep['_tag']; processor: string; dates: IsoDate[]; reads: Set<string> }[] => {
  const out: { tag: PlanStep['_tag']; processor: string; dates: IsoDate[]; reads: Set<string> }[] = [];
  for (const s of steps) {
    let last = out[out.length - 1];
    if (last === undefined || last.tag !== s._tag || last.processor !== s.processor) {
      last = { tag: s._tag, processor: s.processor, dates: [], reads: new Set() };
      out.push(last);
    }
    last.dates.push(s.date);
    if (s._tag === 'Rerun')
      last.reads.add(s.because === 'ran_on_incomplete_input' ? 'built before its inputs' : `reads ${s.because.processor}`);
  }
  return out;
};

interface PlanCommandOptions extends ConfigOption {
  readonly from: IsoDate;
  readonly to: IsoDate;
}

const planOptions = (raw: RawOptions): PlanCommandOptions => ({
  ...configOption(raw),
  from: dateOption('--from', raw['from']),
  to: dateOption('--to', raw['to']),
});

/**
 * `plan [PROCESSOR] [--from D1 --to D2]`: the backfills and re-runs the data calls for across
 * the dependency graph (PROCESSOR and what reads it, or every processor), in the order they
 * must happen. Opens the store read-only: nothing is queued, recorded or created.
 */
export const planCommand = async (out: Output, raw: RawOptions, args: readonly string[]): Promise<number> => {
  const opts = planOptions(raw);
  const { from, to } = opts;
  if (to < from) throw badInput(`--to (${to}) is before --from (${from})`);
  const days = diffDays(to, from) + 1;
  if (days > MAX_PLAN_DAYS) throw badInput(`--from/--to span ${days} days; at most ${MAX_PLAN_DAYS} at once (split the range)`);
  return withReadOnlyStore(out, opts, async (config, store) => {
    const rt: PlanReads = { config, runLog: store.runLog, windowFor: (p) => store.windowFor(p) };
    const graph = rt.config.graph;
    const only = args[0];
    const names = only === undefined ? graph.order : withDownstream(graph, [findProcessor(rt.config, only).name]);
    // One snapshot (on SQLite): every window and the run log read as of one moment, each shared schedule once.
    const read = store.readSnapshot?.bind(store) ?? ((fn) => fn());
    const plan = await read(() => planFromStore(rt, graph, names, from, to));
    if (out.json) {
      out.printJson(plan);
      return 0;
    }
    const backfills = plan.steps.filter((s) => s._tag === 'Backfill').length;
    const reruns = plan.steps.length - backfills;
    out.line(
      `${out.c.bold('plan')} ${from} … ${to}: ${backfills} backfill${backfills === 1 ? '' : 's'}, ${reruns} re-run${reruns === 1 ? '' : 's'} across ${plan.processors.join(' → ')}`,
    );
    groups(plan.steps).forEach((g, i) => {
      const kind = g.tag === 'Backfill' ? 'backfill' : 're-run  ';
      const why = g.tag === 'Rerun' ? out.c.dim(` (${[...g.reads].join('; ')})`) : '';
      out.line(`  ${i + 1}. ${kind} ${g.processor}  ${formatDates(g.dates)}${why}`);
    });
    if (plan.steps.length === 0) out.line('  nothing to do: every date in the range is whole and built after what it reads');
    out.line(`  ${out.c.dim('plan only: nothing was queued or recorded')}`);
    return 0;
  });
};
