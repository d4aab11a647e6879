import {
  addDays,
  analyzeRange,
  builtOnIncompleteInput,
  compareDates,
  downstreamReach,
  isActive,
  planDownstream,
  todayIn,
  type DownstreamDates,
  type IsoDate,
  type RerunStep,
} from '@smart-backfill/core';
import type { Runtime } from '../runtime/runtime.js';

/** Why a downstream date is queued: it was never built (or is incomplete), or it was built from an input this backfill changes. */
export type DownstreamReason = 'backfill' | 'rebuild';

export interface DownstreamDate {
  readonly date: IsoDate;
  readonly reason: DownstreamReason;
  /** For a rebuild: the first input date it reads that is rebuilt, or the evidence that it ran on an incomplete input. */
  readonly because?: RerunStep['because'];
}

/** One processor that reads the backfilled one, directly or not. */
export interface DownstreamProcessorPlan {
  readonly processorName: string;
  /** Its dates that read a date of the range (each edge's `lookbackDays`), up to today. */
  readonly from: IsoDate;
  readonly to: IsoDate;
  /** In date order: what would be queued (or is in flight). */
  readonly dates: readonly DownstreamDate[];
  /** Dates of `dates` without an active request: what would be queued. */
  readonly toQueue: readonly IsoDate[];
  /** Dates of `dates` that already have a queued or processing request. */
  readonly inFlight: readonly IsoDate[];
  /** Runs held for their inputs: they resume when the inputs heal, so they are not queued as well. */
  readonly held: readonly IsoDate[];
  /** Dates left out: an input date they read is missing and not built by this backfill. */
  readonly waiting: readonly { readonly date: IsoDate; readonly inputs: readonly string[] }[];
}

const isHeld = (status: string): boolean => status === 'held' || status === 'resuming';

/**
 * What `backfill NAME --with-downstream` queues besides NAME's own `dates` (its queued and
 * in-flight dates over `from .. to`): for each processor that reads NAME, in dependency order,
 * the dates its schedule expects that read a date of the range — missing ones backfilled,
 * filled ones rebuilt when an input date they read is rebuilt (or they ran on an incomplete
 * input). The rule is core's `planDownstream`; this reads the store for it (schedules, counts,
 * requests, held runs, and the run log of the planned processors and their inputs).
 */
export const planDownstreamOf = async (
  rt: Runtime,
  name: string,
  from: IsoDate,
  to: IsoDate,
  dates: readonly IsoDate[],
): Promise<DownstreamProcessorPlan[]> => {
  const graph = rt.config.graph;
  const reach = downstreamReach(graph, name);
  if (reach.size === 0) return [];
  const today = todayIn(rt.clock.now(), rt.config.timeZone ?? 'UTC');
  // Up to today at most: a date still to come cannot be built; the range itself is the user's call.
  const endOf = (r: number): IsoDate => {
    const end = addDays(to, r);
    return end <= today ? end : today > to ? today : to;
  };
  const planned = graph.order.filter((n) => reach.has(n));
  const ends = new Map(planned.map((n) => [n, endOf(reach.get(n) ?? 0)]));
  // Each planned processor and each input of one, read once over the widest span any reader needs.
  const spans = new Map<string, { start: IsoDate; end: IsoDate }>();
  const widen = (p: string, start: IsoDate, end: IsoDate): void => {
    const s = spans.get(p);
    spans.set(p, s === undefined ? { start, end } : { start: start < s.start ? start : s.start, end: end > s.end ? end : s.end });
  };
  for (const q of planned) {
    const end = ends.get(q) ?? to;
    widen(q, from, end);
    for (const dep of graph.dependsOn.get(q) ?? []) widen(dep.processor, addDays(from, -dep.lookbackDays), end);
  }
  const read = new Map<
    string,
    {
      missing: Set<IsoDate>;
      filled: IsoDate[];
      active: Set<IsoDate>;
      held: Set<IsoDate>;
      started: Map<IsoDate, number>;
      finished: Map<IsoDate, number>;
    }
  >();
  await Promise.all(
    [...spans].map(async ([p, { start, end }]) => {
      const cfg = rt.processorConfig(p);
      const [window, requests, heldRuns, runs] = await Promise.all([
        rt.windowFor(cfg).readWindow({ processorName: p, start, end }),
        rt.tracker.forWindow({ processorName: p, start, end }),
        rt.runLog.heldRuns({ processorName: p }),
        rt.runLog.runs({ processorName: p, runDateFrom: start, runDateTo: end }),
      ]);
      const a = analyzeRange({ start, end, ...window, policy: { minRecordsPerDate: cfg.policy.minRecordsPerDate } });
      const missing = new Set(a.missingDates);
      const filled = [...new Set(window.expectedDates)].filter((d) => d >= start && d <= end && !missing.has(d));
      const started = new Map<IsoDate, number>();
      const finished = new Map<IsoDate, number>();
      for (const r of runs) {
        if (r.outcome !== 'succeeded') continue;
        started.set(r.runDate, Math.max(started.get(r.runDate) ?? -Infinity, r.startedAt));
        finished.set(r.runDate, Math.max(finished.get(r.runDate) ?? -Infinity, r.finishedAt));
      }
      read.set(p, {
        missing,
        filled,
        active: new Set(requests.filter((r) => isActive(r.status)).map((r) => r.date)),
        // Only runs held for their inputs resume by themselves when those heal.
        held: new Set(heldRuns.filter((h) => isHeld(h.status) && h.waitingFor.length === 0).map((h) => h.runDate)),
        started,
        finished,
      });
    }),
  );
  const builtAt = new Map([...read].map(([p, r]) => [p, r.finished]));
  const inputs = new Map<string, DownstreamDates>();
  for (const [p, r] of read) {
    const own = planned.includes(p);
    const span = { start: from, end: ends.get(p) ?? to };
    const inSpan = (d: IsoDate): boolean => d >= span.start && d <= span.end && !r.held.has(d);
    inputs.set(p, {
      unavailable: new Set([...r.missing, ...r.held]),
      inFlight: new Set([...r.active, ...r.held]),
      ...(own
        ? {
            missing: [...r.missing].filter(inSpan),
            built: r.filled.filter(inSpan),
            ranOnIncomplete: builtOnIncompleteInput(graph.dependsOn.get(p) ?? [], r.started, builtAt).filter(inSpan),
          }
        : {}),
    });
  }
  const plan = planDownstream(graph, name, dates, inputs);
  return planned.map((p) => {
    const r = read.get(p);
    const span = { start: from, end: ends.get(p) ?? to };
    const steps: DownstreamDate[] = plan.steps
      .filter((s) => s.processor === p)
      .map((s) => (s._tag === 'Backfill' ? { date: s.date, reason: 'backfill' } : { date: s.date, reason: 'rebuild', because: s.because }));
    const active = r?.active ?? new Set<IsoDate>();
    return {
      processorName: p,
      from: span.start,
      to: span.end,
      dates: steps,
      toQueue: steps.filter((s) => !active.has(s.date)).map((s) => s.date),
      inFlight: steps.filter((s) => active.has(s.date)).map((s) => s.date),
      held: [...(r?.held ?? [])].filter((d) => d >= span.start && d <= span.end).sort(compareDates),
      waiting: plan.waiting.filter((w) => w.processor === p).map((w) => ({ date: w.date, inputs: w.inputs })),
    };
  });
};
