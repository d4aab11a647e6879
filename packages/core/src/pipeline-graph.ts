import { addDays, dateRange, type IsoDate } from './iso-date.js';
import { err, ok, type Result } from './result.js';

/**
 * One input of a processor: the upstream processor whose output it reads, and how far
 * back. A run for date D reads the upstream's dates `D − lookbackDays .. D`, both
 * inclusive: `0` is the same day only, `10` is the ten days before and the day itself.
 */
export interface Dependency {
  readonly processor: string;
  readonly lookbackDays: number;
}

/** A processor as the graph sees it: its name and what it reads. */
export interface PipelineNode {
  readonly name: string;
  readonly dependsOn?: readonly Dependency[] | undefined;
}

/** An edge seen from the upstream: `processor` reads this node's output, `lookbackDays` back. */
export interface Dependent {
  readonly processor: string;
  readonly lookbackDays: number;
}

/**
 * A validated dependency graph. `order` is a topological order (every processor after all
 * it reads); ties keep the order the processors were declared in, so the same config
 * always gives the same order.
 */
export interface PipelineGraph {
  readonly order: readonly string[];
  readonly dependsOn: ReadonlyMap<string, readonly Dependency[]>;
  readonly dependents: ReadonlyMap<string, readonly Dependent[]>;
}

/** What can be wrong with a declared graph; each case carries a one-line `message`. */
export type GraphProblem =
  | { readonly _tag: 'DuplicateProcessor'; readonly processor: string; readonly message: string }
  | { readonly _tag: 'UnknownDependency'; readonly processor: string; readonly dependency: string; readonly message: string }
  | { readonly _tag: 'SelfDependency'; readonly processor: string; readonly message: string }
  | { readonly _tag: 'DuplicateDependency'; readonly processor: string; readonly dependency: string; readonly message: string }
  | {
      readonly _tag: 'BadLookback';
      readonly processor: string;
      readonly dependency: string;
      readonly value: unknown;
      readonly message: string;
    }
  /** `path` starts and ends on the same processor, each reading the next: `[a, b, c, a]`. */
  | { readonly _tag: 'Cycle'; readonly path: readonly string[]; readonly message: string };

/** The longest lookback an edge may declare (ten years): larger is a typo, and would make plans unbounded. */
export const MAX_DEPENDENCY_LOOKBACK_DAYS = 3660;

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'undefined' : String(v));

/**
 * Validate the processors' declared inputs and order them. Returns every problem at once
 * (unknown names, self-edges, repeated edges, bad lookbacks, and one cycle, by its path)
 * or the graph. Edges already reported (unknown, self) are left out of the cycle search,
 * so each mistake is named once.
 */
export const buildPipelineGraph = (nodes: readonly PipelineNode[]): Result<readonly GraphProblem[], PipelineGraph> => {
  const problems: GraphProblem[] = [];
  const index = new Map<string, number>();
  for (const n of nodes) {
    if (index.has(n.name))
      problems.push({ _tag: 'DuplicateProcessor', processor: n.name, message: `processor "${n.name}" is declared twice` });
    else index.set(n.name, index.size);
  }
  const dependsOn = new Map<string, Dependency[]>();
  const dependents = new Map<string, Dependent[]>();
  for (const name of index.keys()) {
    dependsOn.set(name, []);
    dependents.set(name, []);
  }
  const seen = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n.name)) continue;
    seen.add(n.name);
    const mine = new Set<string>();
    for (const d of n.dependsOn ?? []) {
      const where = `${n.name}.dependsOn "${d.processor}"`;
      if (d.processor === n.name) {
        problems.push({ _tag: 'SelfDependency', processor: n.name, message: `${where}: a processor cannot depend on itself` });
        continue;
      }
      if (!index.has(d.processor)) {
        const known = [...index.keys()].filter((k) => k !== n.name);
        problems.push({
          _tag: 'UnknownDependency',
          processor: n.name,
          dependency: d.processor,
          message: `${where}: no processor of that name (known: ${known.length === 0 ? 'none' : known.join(', ')})`,
        });
        continue;
      }
      if (mine.has(d.processor)) {
        problems.push({
          _tag: 'DuplicateDependency',
          processor: n.name,
          dependency: d.processor,
          message: `${where} is listed twice; list it once with the longest lookback`,
        });
        continue;
      }
      mine.add(d.processor);
      const lb: unknown = d.lookbackDays;
      if (typeof lb !== 'number' || !Number.isInteger(lb) || lb < 0 || lb > MAX_DEPENDENCY_LOOKBACK_DAYS) {
        problems.push({
          _tag: 'BadLookback',
          processor: n.name,
          dependency: d.processor,
          value: lb,
          message: `${where}: lookbackDays must be a whole number from 0 to ${MAX_DEPENDENCY_LOOKBACK_DAYS}, got ${show(lb)}`,
        });
      }
      // Kept even with a bad lookback, so a cycle through it is still found.
      dependsOn.get(n.name)!.push({ processor: d.processor, lookbackDays: d.lookbackDays });
      dependents.get(d.processor)!.push({ processor: n.name, lookbackDays: d.lookbackDays });
    }
  }
  const ordered = topologicalOrder([...index.keys()], dependsOn, dependents);
  if (ordered._tag === 'Err') {
    const path = ordered.error;
    problems.push({ _tag: 'Cycle', path, message: `dependsOn has a cycle: ${path.join(' → ')}` });
  }
  if (problems.length > 0 || ordered._tag === 'Err') return err(problems);
  return ok({ order: ordered.value, dependsOn, dependents });
};

/**
 * Kahn's algorithm, taking ready processors in declaration order. When some are left, every
 * one of them still reads another that is left, so following those edges from any of them
 * must come back to a processor already passed: that loop is the cycle returned.
 */
const topologicalOrder = (
  names: readonly string[],
  dependsOn: ReadonlyMap<string, readonly Dependency[]>,
  dependents: ReadonlyMap<string, readonly Dependent[]>,
): Result<string[], string[]> => {
  const rank = new Map(names.map((n, i) => [n, i]));
  const waiting = new Map(names.map((n) => [n, dependsOn.get(n)!.length]));
  const ready = names.filter((n) => waiting.get(n) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    // A small sorted frontier: graphs are tens to hundreds of processors.
    ready.sort((a, b) => rank.get(a)! - rank.get(b)!);
    const n = ready.shift()!;
    order.push(n);
    for (const d of dependents.get(n)!) {
      const left = waiting.get(d.processor)! - 1;
      waiting.set(d.processor, left);
      if (left === 0) ready.push(d.processor);
    }
  }
  if (order.length === names.length) return ok(order);
  const placed = new Set(order);
  const start = names.find((n) => !placed.has(n))!;
  const walk: string[] = [];
  const at = new Map<string, number>();
  let cur = start;
  while (!at.has(cur)) {
    at.set(cur, walk.length);
    walk.push(cur);
    cur = dependsOn.get(cur)!.find((d) => !placed.has(d.processor))!.processor;
  }
  return err([...walk.slice(at.get(cur)), cur]);
};

/** The upstream dates a run for `date` reads through `dep`, oldest first. */
export const upstreamDatesRead = (dep: Pick<Dependency, 'lookbackDays'>, date: IsoDate): IsoDate[] =>
  dateRange(addDays(date, -dep.lookbackDays), date);

/** The downstream run dates that read `upstreamDate` through an edge of this lookback, oldest first. */
export const downstreamDatesReading = (dep: Pick<Dependency, 'lookbackDays'>, upstreamDate: IsoDate): IsoDate[] =>
  dateRange(upstreamDate, addDays(upstreamDate, dep.lookbackDays));

/** `names` and everything that reads them, directly or not, in topological order. */
export const withDownstream = (graph: PipelineGraph, names: Iterable<string>): string[] => {
  const keep = new Set(names);
  for (const n of graph.order) if (graph.dependsOn.get(n)?.some((d) => keep.has(d.processor))) keep.add(n);
  return graph.order.filter((n) => keep.has(n));
};
