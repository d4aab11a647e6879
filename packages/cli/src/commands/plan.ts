import {
  analyzeRange,
  builtOnIncompleteInput,
  diffDays,
  planPipeline,
  toEpochDay,
  withDownstream,
  type IsoDate,
  type PipelineGraph,
  type PlanStep,
  type ProcessorDates,
} from '@smart-backfill/core';
import { badInput } from '../cli-error.js';
import { formatDates } from '../format/dates.js';
import { configOption, dateOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime/runtime.js';
import { findProcessor } from '../runtime/runtime.js';
import { withRuntime } from './shared.js';

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
 * Read what the plan needs for `names` over `[from, to]`: each one's schedule and counts
 * (missing and filled dates), and the run log of them and of what they read (when each
 * date was last built). Reads only; the rule is core's `planPipeline`.
 */
export const planFromStore = async (
  rt: Runtime,
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
  await Promise.all(
    withInputs.map(async (name) => {
      const started = new Map<IsoDate, number>();
      const finished = new Map<IsoDate, number>();
      for (const r of await rt.runLog.runs({ processorName: name, since })) {
        if (r.outcome !== 'succeeded') continue;
        started.set(r.runDate, Math.max(started.get(r.runDate) ?? -Infinity, r.startedAt));
        finished.set(r.runDate, Math.max(finished.get(r.runDate) ?? -Infinity, r.finishedAt));
      }
      lastBuiltAt.set(name, started);
      builtAt.set(name, finished);
    }),
  );
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
  return withRuntime(
    out,
    opts,
    async (rt) => {
      const graph = rt.config.graph;
      const only = args[0];
      const names = only === undefined ? graph.order : withDownstream(graph, [findProcessor(rt.config, only).name]);
      const plan = await planFromStore(rt, graph, names, from, to);
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
    },
    { readOnly: true },
  );
};
