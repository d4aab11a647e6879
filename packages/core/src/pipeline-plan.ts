import { compareDates, toEpochDay, type IsoDate } from './iso-date.js';
import { dayLookup } from './day-lookup.js';
import { upstreamDatesRead, withDownstream, type Dependency, type PipelineGraph } from './pipeline-graph.js';

/** What the data says about one processor's dates (any range the caller chose). */
export interface ProcessorDates {
  /** Expected dates whose target is below the minimum: they are backfilled. */
  readonly missing?: Iterable<IsoDate> | undefined;
  /** Expected dates whose target is filled: re-run when a date they read is rebuilt. */
  readonly built?: Iterable<IsoDate> | undefined;
  /** Filled dates known to have run while a date they read was missing: re-run as they are. */
  readonly ranOnIncomplete?: Iterable<IsoDate> | undefined;
}

/** Fill a missing date. */
export interface BackfillStep {
  readonly _tag: 'Backfill';
  readonly processor: string;
  readonly date: IsoDate;
}

/** Rebuild a filled date because what it read is (or was) incomplete. */
export interface RerunStep {
  readonly _tag: 'Rerun';
  readonly processor: string;
  readonly date: IsoDate;
  /** The first upstream rebuild (in dependency, then date order) it reads, or the evidence that it ran on an incomplete input. */
  readonly because: { readonly processor: string; readonly date: IsoDate } | 'ran_on_incomplete_input';
}

export type PlanStep = BackfillStep | RerunStep;

/**
 * The rebuilds the data calls for across the graph, each (processor, date) once, in
 * topological order of processors and date order within one.
 *
 * A processor's missing dates are backfilled. A filled date is re-run when it ran on an
 * incomplete input (`ranOnIncomplete`) or reads, within an edge's lookback, an upstream
 * date that this plan rebuilds — so a re-run flows on down the graph, since what was built
 * from a stale date is stale too. Each processor is planned once all it reads is planned,
 * which is what makes one pass enough and every step come after the steps it waits for.
 */
export const planPipeline = (graph: PipelineGraph, dates: ReadonlyMap<string, ProcessorDates>): PlanStep[] => {
  const rebuilt = new Map<string, ReadonlySet<IsoDate>>();
  const steps: PlanStep[] = [];
  for (const name of graph.order) {
    const own = dates.get(name);
    const missing = new Set(own?.missing ?? []);
    const built = new Set(own?.built ?? []);
    const reruns = new Map<IsoDate, RerunStep['because']>();
    for (const d of own?.ranOnIncomplete ?? []) if (!missing.has(d)) reruns.set(d, 'ran_on_incomplete_input');
    // From each built date back over the lookback, by epoch day: no date strings made per
    // (upstream date, downstream date) pair. The oldest rebuilt date it reads is the reason.
    // Indexed loops over parallel arrays: a plan runs once per process, mostly before the JIT
    // has optimised anything, where iterator destructuring is what costs.
    const ready: IsoDate[] = [];
    for (const d of built) if (!missing.has(d)) ready.push(d);
    const days = ready.map((d) => toEpochDay(d));
    for (const dep of graph.dependsOn.get(name) ?? []) {
      const up = rebuilt.get(dep.processor);
      if (up === undefined || up.size === 0) continue;
      const upDates = [...up];
      const byDay = dayLookup(
        upDates.map((x) => toEpochDay(x)),
        upDates,
      );
      for (let i = 0; i < ready.length; i++) {
        const d = ready[i] as IsoDate;
        if (reruns.has(d)) continue;
        const day = days[i] as number;
        for (let u = day - dep.lookbackDays; u <= day; u++) {
          const x = byDay.get(u);
          if (x !== undefined) {
            reruns.set(d, { processor: dep.processor, date: x });
            break;
          }
        }
      }
    }
    const mine: PlanStep[] = [
      ...[...missing].map((date): PlanStep => ({ _tag: 'Backfill', processor: name, date })),
      ...[...reruns].map(([date, because]): PlanStep => ({ _tag: 'Rerun', processor: name, date, because })),
    ].sort((a, b) => compareDates(a.date, b.date));
    steps.push(...mine);
    rebuilt.set(name, new Set(mine.map((s) => s.date)));
  }
  return steps;
};

/**
 * The dates of a processor that were built on an incomplete input: the last successful build
 * of D started before some upstream date D reads (within the edge's lookback) was last built.
 * The upstream date was then missing or about to change, so what D holds is stale — the rule
 * `make` applies to files, applied to dates. A date with no recorded build is left out: there
 * is nothing to compare.
 *
 * @param lastBuiltAt per run date, the start (epoch ms) of its latest successful run
 * @param upstreamBuiltAt per upstream processor, per date, the end of its latest successful run
 */
export const builtOnIncompleteInput = (
  dependsOn: readonly Dependency[],
  lastBuiltAt: ReadonlyMap<IsoDate, number>,
  upstreamBuiltAt: ReadonlyMap<string, ReadonlyMap<IsoDate, number>>,
): IsoDate[] => {
  // Looked up by epoch day from each built date back over the lookback: plain number keys, no
  // date strings made per (upstream date, downstream date) pair (a year of 100 processors is ~10⁶
  // pairs), in indexed loops over parallel arrays (see `planPipeline`).
  const n = lastBuiltAt.size;
  const dates: IsoDate[] = new Array<IsoDate>(n);
  const days = new Float64Array(n);
  const builtAt = new Float64Array(n);
  const stale = new Uint8Array(n);
  let i = 0;
  for (const [d, at] of lastBuiltAt) {
    dates[i] = d;
    days[i] = toEpochDay(d);
    builtAt[i] = at;
    i++;
  }
  for (const dep of dependsOn) {
    const upstream = upstreamBuiltAt.get(dep.processor);
    if (upstream === undefined || upstream.size === 0) continue;
    const upDays = new Float64Array(upstream.size);
    const upAt = new Float64Array(upstream.size);
    let k = 0;
    for (const [u, at] of upstream) {
      upDays[k] = toEpochDay(u);
      upAt[k] = at;
      k++;
    }
    const byDay = dayLookup(upDays, upAt);
    for (let j = 0; j < n; j++) {
      if (stale[j] === 1) continue;
      const day = days[j] as number;
      const built = builtAt[j] as number;
      for (let u = day - dep.lookbackDays; u <= day; u++) {
        const at = byDay.get(u);
        if (at !== undefined && built < at) {
          stale[j] = 1;
          break;
        }
      }
    }
  }
  const out: IsoDate[] = [];
  for (let j = 0; j < n; j++) if (stale[j] === 1) out.push(dates[j] as IsoDate);
  return out.sort(compareDates);
};

/**
 * Each processor that reads `root`, directly or not, with the longest lookback summed along a
 * path to it: a date `d` of `root` reaches that processor's dates `d .. d + reach`. So a range
 * of `root` reaches its dates `from .. to + reach`, the window a downstream plan looks at.
 */
export const downstreamReach = (graph: PipelineGraph, root: string): Map<string, number> => {
  const reach = new Map<string, number>([[root, 0]]);
  for (const name of graph.order)
    for (const dep of graph.dependsOn.get(name) ?? []) {
      const up = reach.get(dep.processor);
      if (up !== undefined) reach.set(name, Math.max(reach.get(name) ?? 0, up + dep.lookbackDays));
    }
  reach.delete(root);
  return reach;
};

/**
 * The mirror of {@link downstreamReach}: each processor `name` reads from, directly or not, with
 * the longest lookback summed along a path to it: a date `a` of that ancestor reaches `name`'s
 * dates `a .. a + reach`.
 */
export const upstreamReach = (graph: PipelineGraph, name: string): Map<string, number> => {
  const reach = new Map<string, number>([[name, 0]]);
  // Readers before what they read: every path to a node is summed before it passes the sum on.
  for (let i = graph.order.length - 1; i >= 0; i--) {
    const node = graph.order[i] as string;
    const down = reach.get(node);
    if (down === undefined) continue;
    for (const dep of graph.dependsOn.get(node) ?? [])
      reach.set(dep.processor, Math.max(reach.get(dep.processor) ?? 0, down + dep.lookbackDays));
  }
  reach.delete(name);
  return reach;
};

/** What the data says about one processor a downstream plan reads or plans. */
export interface DownstreamDates extends ProcessorDates {
  /**
   * Its dates that cannot be read now (missing, or its run held): a date that reads one waits,
   * unless this plan builds it first. Give them for every input of a planned processor.
   */
  readonly unavailable?: Iterable<IsoDate> | undefined;
  /** Dates with an active request: built before what reads them (the tracker keeps one per date), so none waits for them. */
  readonly inFlight?: Iterable<IsoDate> | undefined;
}

/** A date of the plan not queued: an input date it reads can be read neither now nor after the plan. */
export interface WaitingStep {
  readonly processor: string;
  readonly date: IsoDate;
  /** The input dates it waits for, `processor date`, in declared order. */
  readonly inputs: readonly string[];
}

export interface DownstreamPlan {
  /** In dependency order, then date order; a processor's steps all come after those of what it reads. */
  readonly steps: readonly PlanStep[];
  readonly waiting: readonly WaitingStep[];
}

/**
 * What `root`'s `rootDates` being built calls for in everything that reads it (`root` itself
 * is the caller's): each processor's missing dates are backfilled, and a filled date is re-run
 * when it ran on an incomplete input or reads, within an edge's lookback, a date this plan
 * builds — as in `planPipeline`, whose windows are the caller's to choose (`downstreamReach`).
 *
 * A step is kept only when every input date it reads can be read once the steps before it
 * are done (core's wait rule, `datesWaitingForInputs`: never built from an incomplete input);
 * otherwise it is `waiting`, and what reads it is not re-run for it. Steps with an active request
 * stay in the plan (the caller reports them in flight) and count as built.
 */
export const planDownstream = (
  graph: PipelineGraph,
  root: string,
  rootDates: Iterable<IsoDate>,
  dates: ReadonlyMap<string, DownstreamDates>,
): DownstreamPlan => {
  const builds = new Map<string, ReadonlySet<IsoDate>>([[root, new Set(rootDates)]]);
  const steps: PlanStep[] = [];
  const waiting: WaitingStep[] = [];
  /** What will be built of `p` (planned, or in flight) before its readers run. */
  const willBuild = (p: string): ReadonlySet<IsoDate> => {
    const planned = builds.get(p) ?? new Set<IsoDate>();
    const busy = dates.get(p)?.inFlight;
    return busy === undefined ? planned : new Set([...planned, ...busy]);
  };
  for (const name of withDownstream(graph, [root])) {
    if (name === root) continue;
    const deps = graph.dependsOn.get(name) ?? [];
    const inputs = deps.map((dep) => {
      const ready = willBuild(dep.processor);
      const blocked = new Set([...(dates.get(dep.processor)?.unavailable ?? [])].filter((u) => !ready.has(u)));
      return { dep, ready, blocked };
    });
    const planned = planPipeline(
      { order: [...deps.map((d) => d.processor), name], dependsOn: new Map([[name, deps]]), dependents: new Map() },
      new Map([
        ...deps.map((d): [string, ProcessorDates] => [d.processor, { missing: willBuild(d.processor) }]),
        [name, dates.get(name) ?? {}],
      ]),
    ).filter((s) => s.processor === name);
    const kept: IsoDate[] = [];
    for (const s of planned) {
      const unready = inputs.flatMap(({ dep, blocked }) =>
        upstreamDatesRead(dep, s.date)
          .filter((u) => blocked.has(u))
          .map((u) => `${dep.processor} ${u}`),
      );
      if (unready.length > 0) waiting.push({ processor: name, date: s.date, inputs: unready });
      else {
        steps.push(s);
        kept.push(s.date);
      }
    }
    builds.set(name, new Set(kept));
  }
  return { steps, waiting };
};
