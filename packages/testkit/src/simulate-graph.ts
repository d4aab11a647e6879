import {
  addDays,
  buildPipelineGraph,
  DEFAULT_POLICY,
  isActive,
  isoDate,
  toEpochDay,
  upstreamDatesRead,
  type GapPolicy,
  type IsoDate,
  type PipelineGraph,
  type PipelineNode,
} from '@smart-backfill/core';
import { createRelay, createSweeper, createWorker, withSmartBackfill, type GuardedProcessor, type Processor } from '@smart-backfill/engine';
import { createMemoryStore, type MemoryStore } from '@smart-backfill/memory';
import type { CrashableProcess } from './crashable.js';
import { withQueueFaults } from './faults.js';
import { ManualClock } from './manual-clock.js';
import { seededRandom } from './seeded-random.js';
import { observeRuns } from './guard-wrappers.js';
import { fileAndPublish, manualBackfillRequests } from './simulated-person.js';
import { createSimulatedWorkerPool } from './simulated-workers.js';
import { percentile } from './simulation-report.js';

/**
 * The default graph: four raw processors, four summaries over them (fan-in: `sum_0` reads two
 * raws; fan-out: `raw_1` and `raw_3` feed two each), four features reading summaries 0 to 7
 * days back, and one aggregate over all features: 13 processors, four levels.
 */
export const DEFAULT_SIMULATED_GRAPH: readonly PipelineNode[] = [
  { name: 'raw_0' },
  { name: 'raw_1' },
  { name: 'raw_2' },
  { name: 'raw_3' },
  {
    name: 'sum_0',
    dependsOn: [
      { processor: 'raw_0', lookbackDays: 0 },
      { processor: 'raw_1', lookbackDays: 0 },
    ],
  },
  { name: 'sum_1', dependsOn: [{ processor: 'raw_1', lookbackDays: 0 }] },
  {
    name: 'sum_2',
    dependsOn: [
      { processor: 'raw_2', lookbackDays: 0 },
      { processor: 'raw_3', lookbackDays: 2 },
    ],
  },
  { name: 'sum_3', dependsOn: [{ processor: 'raw_3', lookbackDays: 0 }] },
  {
    name: 'feat_0',
    dependsOn: [
      { processor: 'sum_0', lookbackDays: 7 },
      { processor: 'sum_1', lookbackDays: 0 },
    ],
  },
  {
    name: 'feat_1',
    dependsOn: [
      { processor: 'sum_1', lookbackDays: 3 },
      { processor: 'sum_2', lookbackDays: 0 },
    ],
  },
  { name: 'feat_2', dependsOn: [{ processor: 'sum_2', lookbackDays: 7 }] },
  {
    name: 'feat_3',
    dependsOn: [
      { processor: 'sum_3', lookbackDays: 0 },
      { processor: 'sum_0', lookbackDays: 2 },
    ],
  },
  {
    name: 'agg',
    dependsOn: [
      { processor: 'feat_0', lookbackDays: 0 },
      { processor: 'feat_1', lookbackDays: 0 },
      { processor: 'feat_2', lookbackDays: 0 },
      { processor: 'feat_3', lookbackDays: 5 },
    ],
  },
];

export interface GraphSimulationOptions {
  readonly seed: number;
  /** Default `DEFAULT_SIMULATED_GRAPH`. Processors with no `dependsOn` are raw: only they fail on their own. */
  readonly graph?: readonly PipelineNode[] | undefined;
  /** Days with faults (default 365); `drainDays` (default 7) more follow without. */
  readonly days?: number | undefined;
  readonly drainDays?: number | undefined;
  /** Chance per raw processor per day that its day is lost (the run fails), late (a partial write) or the start of an outage. Default 0.05. */
  readonly rawFailureRate?: number | undefined;
  /**
   * Chance per raw processor per day that its source restates a whole day afterwards: the next
   * day at noon a person backfills it with its downstream (`with_downstream`), and every date
   * that read it, all the way down, must be rebuilt once, in order. Default 0.01.
   */
  readonly restatementRate?: number | undefined;
  /** Chance per delivery that the worker process dies at a random point while handling it. Default 0.1. */
  readonly workerCrashRate?: number | undefined;
  /** Chance an ack is lost (the message comes back). Default 0.1. */
  readonly redeliveryRate?: number | undefined;
  /** Chance a publish is reported failed (the relay publishes it again). Default 0.05. */
  readonly publishFailureRate?: number | undefined;
  /** Default 2. */
  readonly workers?: number | undefined;
  readonly startDate?: string | undefined;
  /** Called once at the end with the store and clock, to dig into a seed's history. */
  readonly inspect?: ((world: { readonly store: MemoryStore; readonly clock: ManualClock }) => void | Promise<void>) | undefined;
}

export interface GraphSimulationReport {
  readonly seed: number;
  readonly processors: number;
  readonly levels: number;
  readonly days: number;
  readonly injected: {
    readonly rawDaysLost: number;
    readonly rawDaysLate: number;
    readonly outages: number;
    readonly outageDays: number;
    readonly restatements: number;
    readonly workerCrashes: number;
    readonly crashesByPoint: Readonly<Record<string, number>>;
    readonly lostAcks: number;
    readonly publishFailures: number;
  };
  /** Body runs of a processor with inputs while a date it read was missing, partial or itself stale. Must be 0. */
  readonly runsOnIncompleteInputs: number;
  /** Builds of a downstream date that produced what it already held, from whole inputs, not explained by a crash. Must be 0. */
  readonly rebuiltMoreThanOnce: number;
  /** The same, when the earlier build's request (or resume claim) was cut short by a crash and done again: at-least-once waste. */
  readonly reexecutedAfterCrash: number;
  /** Downstream dates built again because what they read changed. */
  readonly downstreamRebuilds: number;
  /** (processor, date) pairs not whole at the end. Must be 0. */
  readonly gapsLeft: number;
  /** Raw failures (a date lost, late, an outage, or restated), and of them the ones the whole graph recovered from. */
  readonly upstreamGaps: number;
  readonly upstreamGapsHealed: number;
  /** From the failed raw run (the last one of an outage; the person's backfill of a restated date) to every date that reads it, down the graph, whole again (simulated minutes). */
  readonly timeToWholeMinutes: { readonly median: number | null; readonly p95: number | null; readonly max: number | null };
  readonly runsHeld: number;
  readonly requests: { readonly created: number; readonly manual: number; readonly upstreamHealed: number };
  readonly examples: readonly string[];
}

const MIN = 60_000;
const DAY = 86_400_000;
const TICK = 5 * MIN;

const levelsOf = (graph: PipelineGraph): Map<string, number> => {
  const level = new Map<string, number>();
  for (const n of graph.order) level.set(n, Math.max(-1, ...(graph.dependsOn.get(n) ?? []).map((d) => level.get(d.processor) ?? 0)) + 1);
  return level;
};

interface Build {
  readonly sig: string;
  readonly whole: boolean;
  readonly process: CrashableProcess | null;
  /** The request it ran for, or `resume`. */
  readonly cause: string;
}

/**
 * A pipeline graph for a year on the memory store, through the engine's own guard (with its
 * inputs), worker (with the graph: `healDownstream`, `resumeHeldForInputs`), relay and sweeper,
 * on a manual clock. Raw processors lose days (the run fails), get them late (a partial
 * write) or go dark for a few days; worker processes die mid-backfill, mid-rebuild and
 * mid-resume (leases lapse, messages come back); acks are lost and publishes fail. A ground
 * truth beside the store says what each date was built from, so the report can count runs
 * made on incomplete inputs and dates built twice from the same inputs. Same seed, same report.
 */
export const simulateGraph = async (options: GraphSimulationOptions): Promise<GraphSimulationReport> => {
  const seed = options.seed;
  const built = buildPipelineGraph(options.graph ?? DEFAULT_SIMULATED_GRAPH);
  if (built._tag === 'Err')
    throw new RangeError(`[smart-backfill] [testkit] simulateGraph: ${built.error.map((p) => p.message).join('; ')}`);
  const graph = built.value;
  const names = graph.order;
  const level = levelsOf(graph);
  const isRaw = (n: string): boolean => (graph.dependsOn.get(n) ?? []).length === 0;
  const days = options.days ?? 365;
  const drainDays = options.drainDays ?? 7;
  const rawFailureRate = options.rawFailureRate ?? 0.05;
  const policy: GapPolicy = DEFAULT_POLICY;
  const fullRows = policy.minRecordsPerDate * 2;
  const start = isoDate(options.startDate ?? '2025-01-01');
  const totalDays = days + drainDays;
  const lastDate = addDays(start, totalDays - 1);

  const rng = seededRandom(seed);
  const rIncident = rng.fork('incidents');
  const rBackfill = rng.fork('backfills');
  const rCrash = rng.fork('crashes');
  const clock = new ManualClock(toEpochDay(start) * DAY);
  const store = createMemoryStore({ clock });

  const injected = {
    rawDaysLost: 0,
    rawDaysLate: 0,
    outages: 0,
    outageDays: 0,
    restatements: 0,
    workerCrashes: 0,
    crashesByPoint: {} as Record<string, number>,
    lostAcks: 0,
    publishFailures: 0,
  };
  const examples: string[] = [];
  const note = (s: string): void => {
    if (examples.length < 20) examples.push(s);
  };
  const key = (n: string, d: IsoDate): string => `${n}|${d}`;

  // ---- ground truth: a version per (processor, date), bumped when what it holds changes ----
  const version = new Map<string, number>();
  const builds = new Map<string, Build>();
  const bump = (k: string): void => void version.set(k, (version.get(k) ?? 0) + 1);
  const inputSig = (n: string, d: IsoDate): string =>
    (graph.dependsOn.get(n) ?? [])
      .flatMap((dep) => upstreamDatesRead(dep, d).map((u) => version.get(key(dep.processor, u)) ?? 0))
      .join(',');
  const whole = (n: string, d: IsoDate): boolean => {
    if (store.target.count(n, d) < policy.minRecordsPerDate) return false;
    if (isRaw(n)) return true;
    const b = builds.get(key(n, d));
    return b !== undefined && b.whole && b.sig === inputSig(n, d);
  };
  const historyStart = addDays(start, -(policy.lookbackDays + 30));
  for (const n of names) {
    const all: IsoDate[] = [];
    for (let d = historyStart; d <= addDays(lastDate, 1); d = addDays(d, 1)) all.push(d);
    store.setSchedule(n, all);
  }
  for (const n of names) {
    for (let d = historyStart; d < start; d = addDays(d, 1)) {
      store.setCount(n, d, fullRows);
      bump(key(n, d));
      if (!isRaw(n)) builds.set(key(n, d), { sig: inputSig(n, d), whole: true, process: null, cause: 'history' });
    }
  }

  let runsOnIncompleteInputs = 0;
  let rebuiltMoreThanOnce = 0;
  let reexecutedAfterCrash = 0;
  let downstreamRebuilds = 0;

  // ---- the processors ----
  const armed = new Map<string, 'lost' | 'late'>();
  /** Restated raw dates whose new rows the person's backfill has not written yet. */
  const restating = new Set<string>();
  const inner = (name: string, process: CrashableProcess | null): Processor => ({
    name,
    async run(opts) {
      const d = opts.date;
      const k = key(name, d);
      if (opts.isBackfill === true) {
        // Aborted when the worker loses its lease or its process dies: then nothing is written.
        await clock.sleep(rBackfill.int(1, 20) * MIN, opts.signal);
      }
      if (isRaw(name)) {
        const fate = opts.trigger === 'scheduled' ? armed.get(k) : undefined;
        if (fate === 'lost') throw new Error(`simulated: ${name} ${d} was lost at the source`);
        const rows = fate === 'late' ? Math.floor(policy.minRecordsPerDate / 3) : fullRows;
        if (store.target.count(name, d) !== rows || (opts.isBackfill === true && restating.delete(k))) bump(k);
        store.setCount(name, d, rows);
        return { rows };
      }
      // A worker re-running a held run (a heal flowing down) dies before or after writing: its resume claim lapses.
      const resumeCrash =
        process !== null && opts.trigger === 'resume' && rCrash.chance(options.workerCrashRate ?? 0.1)
          ? rCrash.chance(0.5)
            ? 'before-resume-write'
            : 'after-resume-write'
          : null;
      if (resumeCrash === 'before-resume-write') process?.crash(resumeCrash);
      const incomplete = (graph.dependsOn.get(name) ?? []).flatMap((dep) =>
        upstreamDatesRead(dep, d)
          .filter((u) => !whole(dep.processor, u))
          .map((u) => `${dep.processor} ${u}`),
      );
      if (incomplete.length > 0) {
        runsOnIncompleteInputs++;
        note(`${name} ${d} ran (${opts.trigger ?? 'scheduled'}) on incomplete ${incomplete.join(', ')}`);
      }
      const sig = inputSig(name, d);
      const cause = opts.requestId ?? (opts.trigger === 'resume' ? 'resume' : `${opts.trigger ?? 'scheduled'}`);
      const prev = builds.get(k);
      if (prev !== undefined && prev.whole && prev.sig === sig && store.target.count(name, d) >= policy.minRecordsPerDate) {
        if (prev.cause === cause && prev.process?.dead === true) reexecutedAfterCrash++;
        else {
          rebuiltMoreThanOnce++;
          note(`${name} ${d} built again (${opts.trigger ?? 'scheduled'}, ${cause}) from the inputs it already had (${prev.cause})`);
        }
      } else if (prev !== undefined) downstreamRebuilds++;
      if (prev === undefined || prev.sig !== sig || !prev.whole) bump(k);
      builds.set(k, { sig, whole: incomplete.length === 0, process, cause });
      store.setCount(name, d, fullRows);
      if (resumeCrash === 'after-resume-write') process?.crash(resumeCrash);
      return { rows: fullRows };
    },
  });

  const queue = withQueueFaults(store.queue, {
    random: rng.fork('queue'),
    publishFailureRate: options.publishFailureRate ?? 0.05,
    ambiguousPublishRate: 0,
    lostAckRate: options.redeliveryRate ?? 0.1,
    maxDeliveries: 3,
    onFault: (f) => {
      if (f.kind === 'ack_lost') injected.lostAcks++;
      else injected.publishFailures++;
    },
  });

  let idSeq = 0;
  const ids = (): string => `id-${seed}-${++idSeq}`;
  let runsHeld = 0;
  /** One process's guards: each reads its inputs with the upstream's own policy. */
  const guardsFor = (process: CrashableProcess | null): Map<string, GuardedProcessor> => {
    const tracker = process === null ? store.tracker : process.tracker(store.tracker);
    const runLog = process === null ? store.runLog : process.runLog(store.runLog);
    const q = process === null ? queue : process.queue(queue);
    const guards = new Map<string, GuardedProcessor>();
    for (const name of names) {
      const g = withSmartBackfill(inner(name, process), {
        window: store.window,
        tracker,
        queue: q,
        runLog,
        clock,
        policy,
        alerter: store.alerter,
        alertLog: store.alertLog,
        ids,
        upstream: (graph.dependsOn.get(name) ?? []).map((dep) => ({ ...dep, window: store.window, policy })),
      });
      const counted = observeRuns(g, (o) => {
        if (o._tag === 'Held') runsHeld++;
      });
      guards.set(name, process === null ? counted : process.processor(counted));
    }
    return guards;
  };
  const daily = guardsFor(null);

  const workers = createSimulatedWorkerPool({
    size: options.workers ?? 2,
    clock,
    random: rCrash,
    crashRate: options.workerCrashRate ?? 0.1,
    tally: injected,
    createWorker: (proc, workerId) =>
      createWorker({
        queue: proc.queue(queue),
        tracker: proc.tracker(store.tracker),
        runLog: proc.runLog(store.runLog),
        registry: guardsFor(proc),
        pipeline: graph,
        clock,
        policy,
        leaseMs: 10 * MIN,
        backoff: { baseMs: 30_000, maxMs: 30 * MIN },
        workerId,
      }),
  });
  const relay = createRelay({ tracker: store.tracker, queue, clock });
  const sweeper = createSweeper({ tracker: store.tracker, queue, clock });

  // ---- upstream gaps: from the failed raw run until every date that reads it, all the way down, is whole ----
  interface Episode {
    readonly raw: string;
    readonly dates: readonly IsoDate[];
    readonly at: number;
    endedAt: number | null;
  }
  const episodes: Episode[] = [];
  /** The last date each processor's daily run came for (run, failed, held or skipped by an outage). */
  const reached = new Map<string, IsoDate>();
  const affected = (raw: string, dates: readonly IsoDate[]): [string, IsoDate][] => {
    const out = new Map<string, [string, IsoDate]>();
    const walk = (n: string, d: IsoDate): void => {
      if (d > (reached.get(n) ?? addDays(start, -1)) || out.has(key(n, d))) return;
      out.set(key(n, d), [n, d]);
      for (const dep of graph.dependents.get(n) ?? []) for (let i = 0; i <= dep.lookbackDays; i++) walk(dep.processor, addDays(d, i));
    };
    for (const d of dates) walk(raw, d);
    return [...out.values()];
  };
  const closeEpisodes = (): void => {
    for (const e of episodes) {
      if (e.dates.some((d) => restating.has(key(e.raw, d)))) continue;
      const last = e.dates[e.dates.length - 1] as IsoDate;
      if (e.endedAt !== null || (reached.get(e.raw) ?? start) < last) continue;
      if (affected(e.raw, e.dates).every(([n, d]) => whole(n, d))) e.endedAt = clock.now();
    }
  };

  // ---- a person answers escalations after four hours, with the downstream included ----
  const acted = new Map<string, number>();
  let manualSeq = 0;
  const manualBackfill = async (processorName: string, dates: readonly IsoDate[]): Promise<void> => {
    const fresh = await manualBackfillRequests(store, {
      processorName,
      dates,
      requestedAt: clock.now(),
      requestId: () => `manual-${seed}-${++manualSeq}`,
      metadata: { with_downstream: true },
    });
    if (fresh.length > 0) await fileAndPublish(store, queue, clock, fresh);
  };
  const restatements: { readonly at: number; readonly raw: string; readonly date: IsoDate }[] = [];
  const personActs = async (): Promise<void> => {
    const now = clock.now();
    for (const r of restatements.filter((x) => x.at <= now)) {
      restatements.splice(restatements.indexOf(r), 1);
      restating.add(key(r.raw, r.date));
      episodes.push({ raw: r.raw, dates: [r.date], at: now, endedAt: null });
      await manualBackfill(r.raw, [r.date]);
    }
    for (const a of await store.alertLog.list({ openOnly: true })) {
      if (a.openedAt + 4 * 60 * MIN > now || (acted.get(a.alertKey) ?? -Infinity) + DAY > now) continue;
      acted.set(a.alertKey, now);
      const dates = a.missingDates.filter((d) => store.target.count(a.processorName, d) < policy.minRecordsPerDate);
      if (dates.length > 0) await manualBackfill(a.processorName, dates);
    }
  };

  const tick = async (): Promise<void> => {
    await relay.runOnce().catch(() => undefined);
    await sweeper.runOnce().catch(() => undefined);
    await workers.runIdle();
    await personActs();
    closeEpisodes();
  };
  const busy = (): boolean =>
    workers.running() ||
    store.requests().some((r) => isActive(r.status)) ||
    episodes.some((e) => e.endedAt === null) ||
    restatements.length > 0 ||
    store.queueState().ready + store.queueState().delayed + store.queueState().leased > 0;

  // ---- the days: raw processors at 06:00, then each level an hour later ----
  const outageUntil = new Map<string, number>();
  const maxLevel = Math.max(...level.values());
  for (let k = 0; k < totalDays; k++) {
    const date = addDays(start, k);
    const dayStart = toEpochDay(date) * DAY + 6 * 60 * MIN;
    for (let l = 0; l <= maxLevel; l++) {
      const at = dayStart + l * 60 * MIN;
      while (clock.now() + TICK <= at && busy()) {
        await workers.advance(TICK);
        await tick();
      }
      if (clock.now() < at) clock.set(at);
      const toRun: string[] = [];
      for (const n of names.filter((x) => level.get(x) === l)) {
        if (l === 0) {
          if ((outageUntil.get(n) ?? -1) > k) continue;
          if (k < days && rIncident.chance(rawFailureRate)) {
            const r = rIncident.next();
            if (r < 0.2) {
              // Within the auto-backfill threshold, and over before the drain days.
              const len = Math.min(rIncident.int(2, policy.autoBackfillThreshold), days - k);
              outageUntil.set(n, k + len);
              injected.outages++;
              injected.outageDays += len;
              episodes.push({
                raw: n,
                dates: Array.from({ length: len }, (_, i) => addDays(date, i)),
                at: clock.now() + (len - 1) * DAY,
                endedAt: null,
              });
              continue;
            }
            armed.set(key(n, date), r < 0.6 ? 'lost' : 'late');
            if (r < 0.6) injected.rawDaysLost++;
            else injected.rawDaysLate++;
            episodes.push({ raw: n, dates: [date], at: clock.now(), endedAt: null });
          } else if (k < days && rIncident.chance(options.restatementRate ?? 0.01)) {
            injected.restatements++;
            restatements.push({ at: dayStart + 6 * 60 * MIN + DAY, raw: n, date });
          }
        }
        toRun.push(n);
      }
      for (const n of names) if (level.get(n) === l) reached.set(n, date);
      await Promise.all(toRun.map((n) => (daily.get(n) as GuardedProcessor).run({ date, trigger: 'scheduled' })));
    }
    armed.clear();
    closeEpisodes();
  }
  // Until the last heal has run, a day at a time at most.
  for (let i = 0; i < 7 * 24 * 12 && busy(); i++) {
    await workers.advance(TICK);
    await tick();
  }

  await options.inspect?.({ store, clock });
  let gapsLeft = 0;
  for (const n of names) {
    for (let d = start; d <= lastDate; d = addDays(d, 1)) {
      if (whole(n, d)) continue;
      gapsLeft++;
      note(`gap left: ${n} ${d}`);
    }
  }
  const healed = episodes.filter((e) => e.endedAt !== null);
  const times = healed.map((e) => ((e.endedAt as number) - e.at) / MIN);
  const all = store.requests();
  return {
    seed,
    processors: names.length,
    levels: maxLevel + 1,
    days,
    injected,
    runsOnIncompleteInputs,
    rebuiltMoreThanOnce,
    reexecutedAfterCrash,
    downstreamRebuilds,
    gapsLeft,
    upstreamGaps: episodes.length,
    upstreamGapsHealed: healed.length,
    timeToWholeMinutes: { median: percentile(times, 0.5), p95: percentile(times, 0.95), max: percentile(times, 1) },
    runsHeld,
    requests: {
      created: all.length,
      manual: all.filter((r) => r.requestType === 'manual').length,
      upstreamHealed: all.filter((r) => r.triggerReason === 'upstream_healed').length,
    },
    examples,
  };
};
