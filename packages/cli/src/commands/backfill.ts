import { randomUUID } from 'node:crypto';
import {
  analyzeRange,
  dateRange,
  diffDays,
  isActive,
  type BackfillRequest,
  type IsoDate,
  type NewBackfillRequest,
  type RequestPriority,
} from '@smart-backfill/core';
import { badInput } from '../cli-error.js';
import { formatDates } from '../format/dates.js';
import { configOption, dateOption, intOption, switchOption, textOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime/runtime.js';
import { planDownstreamOf, type DownstreamProcessorPlan, type DownstreamReason } from './backfill-downstream.js';
import { withRuntime } from './shared.js';

/** The engine's cap on one message's range, applied to one manual command too. */
export const MAX_BACKFILL_DAYS = 366;

export interface ManualBackfillPlan {
  readonly processorName: string;
  readonly from: IsoDate;
  readonly to: IsoDate;
  /** Dates considered: missing or incomplete ones (scheduled, or all with `--all-dates`); every one with `--force`. */
  readonly candidates: readonly IsoDate[];
  /** Candidates without an active request: what would be queued. */
  readonly toQueue: readonly IsoDate[];
  /** Candidates that already have a queued or processing request. */
  readonly inFlight: readonly IsoDate[];
}

export interface ManualBackfillResult extends ManualBackfillPlan {
  readonly queued: readonly BackfillRequest[];
  /** `--with-downstream`: the requests recorded for what reads it, in the order queued. */
  readonly downstreamQueued: readonly BackfillRequest[];
  /** `--with-downstream`: dates found active when recorded (a race since the plan); not queued twice. */
  readonly downstreamInFlight: readonly { readonly processorName: string; readonly date: IsoDate }[];
  /** Recorded but not confirmed by the queue: the relay (run by `worker`) republishes them. */
  readonly unpublished: readonly string[];
}

/** What `backfill` would queue: reads the schedule and counts once, and the requests in the range. */
export const planManualBackfill = async (
  rt: Runtime,
  name: string,
  from: IsoDate,
  to: IsoDate,
  opts: { force?: boolean; allDates?: boolean; /** The default; kept so callers that say so still compile. */ onlyMissing?: boolean },
): Promise<ManualBackfillPlan> => {
  const p = rt.processorConfig(name);
  // Missing-only unless forced: a repeated command must not rebuild dates that are already whole.
  const onlyMissing = opts.force !== true;
  let candidates: IsoDate[];
  if (opts.allDates === true && !onlyMissing) candidates = dateRange(from, to);
  else {
    const window = await rt.windowFor(p).readWindow({ processorName: name, start: from, end: to });
    if (onlyMissing) {
      const expected = opts.allDates === true ? dateRange(from, to) : window.expectedDates;
      const a = analyzeRange({
        start: from,
        end: to,
        expectedDates: expected,
        recordCounts: window.recordCounts,
        policy: { minRecordsPerDate: p.policy.minRecordsPerDate },
      });
      candidates = [...a.missingDates];
    } else candidates = [...new Set(window.expectedDates)].filter((d) => d >= from && d <= to).sort();
  }
  const active = new Set(
    (await rt.tracker.forWindow({ processorName: name, start: from, end: to })).filter((r) => isActive(r.status)).map((r) => r.date),
  );
  return {
    processorName: name,
    from,
    to,
    candidates,
    toQueue: candidates.filter((d) => !active.has(d)),
    inFlight: candidates.filter((d) => active.has(d)),
  };
};

/** A downstream date queued with a manual backfill (`--with-downstream`). */
export interface DownstreamRequest {
  readonly processorName: string;
  readonly date: IsoDate;
  readonly reason: DownstreamReason;
}

/**
 * Queue manual requests the way the guard queues automatic ones: recorded in the
 * tracker first (the outbox; at most one active request per date), then published,
 * then marked published. A publish that fails is left to the relay.
 *
 * `downstream` dates are recorded and published after the plan's own, in the order given
 * (dependency, then date order): the queue hands them out in that order, so the worker builds
 * each one after what it reads. A rebuild says why (`upstream_healed`: its run's trigger is `cascade`).
 */
export const queueManualBackfill = async (
  rt: Runtime,
  plan: ManualBackfillPlan,
  opts: {
    priority: RequestPriority;
    requestedBy: string;
    onProgress?: (done: number, total: number) => void;
    ids?: () => string;
    /** Each completion also rebuilds what reads the date (dependsOn), once each, in dependency order. */
    withDownstream?: boolean;
    downstream?: readonly DownstreamRequest[];
  },
): Promise<ManualBackfillResult> => {
  const now = rt.clock.now();
  const { UPSTREAM_HEALED, queueMessageForRequest } = await import('@smart-backfill/engine');
  const metadata = {
    source: 'cli',
    range: { from: plan.from, to: plan.to },
    ...(opts.withDownstream === true ? { with_downstream: true } : {}),
  };
  const request = (processorName: string, date: IsoDate, triggerReason: string, extra = {}): NewBackfillRequest => ({
    requestId: (opts.ids ?? randomUUID)(),
    processorName,
    date,
    requestType: 'manual',
    priority: opts.priority,
    requestedAt: now,
    requestedBy: opts.requestedBy,
    triggerReason,
    metadata: { ...metadata, ...extra },
  });
  const inputs: NewBackfillRequest[] = [
    ...plan.toQueue.map((d) => request(plan.processorName, d, 'manual_backfill')),
    ...(opts.downstream ?? []).map((d) =>
      request(d.processorName, d.date, d.reason === 'rebuild' ? UPSTREAM_HEALED : 'manual_backfill', { upstream: plan.processorName }),
    ),
  ];
  const { created, existing } = await rt.tracker.create(inputs);
  const unpublished: string[] = [];
  const CHUNK = 50;
  let done = 0;
  opts.onProgress?.(0, created.length);
  for (let i = 0; i < created.length; i += CHUNK) {
    const chunk = created.slice(i, i + CHUNK);
    let outcomes: Awaited<ReturnType<Runtime['queue']['publish']>> = [];
    try {
      outcomes = await rt.queue.publish(chunk.map(queueMessageForRequest));
    } catch {
      outcomes = [];
    }
    for (const [j, r] of chunk.entries()) {
      const o = outcomes[j];
      if (o?._tag === 'Published') {
        const m = await rt.tracker.apply(r.requestId, { _tag: 'MarkPublished', at: rt.clock.now() });
        if (m._tag === 'Err') unpublished.push(r.requestId);
      } else unpublished.push(r.requestId);
    }
    done += chunk.length;
    opts.onProgress?.(done, created.length);
  }
  const own = (r: { processorName: string }): boolean => r.processorName === plan.processorName;
  return {
    ...plan,
    inFlight: [...plan.inFlight, ...existing.filter(own).map((r) => r.date)],
    queued: created.filter(own),
    downstreamQueued: created.filter((r) => !own(r)),
    downstreamInFlight: existing.filter((r) => !own(r)).map((r) => ({ processorName: r.processorName, date: r.date })),
    unpublished,
  };
};

/** Above this many dates to queue, a terminal asks before queueing (`--yes` or `--confirm-above` change it). */
export const DEFAULT_CONFIRM_ABOVE = 31;

interface BackfillCommandOptions extends ConfigOption {
  readonly from: IsoDate;
  readonly to: IsoDate;
  readonly priority: RequestPriority;
  /** Default: `$USER`. */
  readonly by: string | undefined;
  /** Also rebuild dates whose data is complete (only missing dates is the default). */
  readonly force: boolean;
  readonly allDates: boolean;
  readonly withDownstream: boolean;
  readonly dryRun: boolean;
  readonly yes: boolean;
  readonly confirmAbove: number;
}

const backfillOptions = (raw: RawOptions): BackfillCommandOptions => {
  const from = dateOption('--from', raw['from']);
  const to = dateOption('--to', raw['to']);
  if (to < from) throw badInput(`--to (${to}) is before --from (${from})`);
  const days = diffDays(to, from) + 1;
  if (days > MAX_BACKFILL_DAYS) throw badInput(`--from/--to span ${days} days; at most ${MAX_BACKFILL_DAYS} at once (split the range)`);
  const force = switchOption(raw, 'force');
  if (force && switchOption(raw, 'onlyMissing'))
    throw badInput('--force and --only-missing contradict each other (only missing dates is the default)');
  return {
    ...configOption(raw),
    from,
    to,
    // commander's `choices` refused anything else.
    priority: (textOption(raw, 'priority') ?? 'high') as RequestPriority,
    by: textOption(raw, 'by'),
    force,
    allDates: switchOption(raw, 'allDates'),
    withDownstream: switchOption(raw, 'withDownstream'),
    dryRun: switchOption(raw, 'dryRun'),
    yes: switchOption(raw, 'yes'),
    confirmAbove:
      raw['confirmAbove'] !== undefined ? intOption('--confirm-above', raw['confirmAbove'], 0, MAX_BACKFILL_DAYS) : DEFAULT_CONFIRM_ABOVE,
  };
};

/**
 * `backfill PROCESSOR --from D1 --to D2 [--dry-run] [--force] [--yes]`: only missing or
 * incomplete dates unless `--force`. On a terminal, more than `--confirm-above` dates
 * are queued only after a "y"; without a terminal (cron, scripts) nobody can answer,
 * so it goes ahead, as a scheduled heal command must.
 */
export const backfillCommand = async (out: Output, raw: RawOptions, args: readonly string[]): Promise<number> => {
  const name = args[0] as string;
  const opts = backfillOptions(raw);
  const { from, to, priority, force, confirmAbove } = opts;
  const requestedBy = opts.by ?? out.io.env['USER'] ?? out.io.env['USERNAME'] ?? 'cli';
  return withRuntime(out, opts, async (rt) => {
    const plan = await planManualBackfill(rt, name, from, to, { force, allDates: opts.allDates });
    const scope = !force ? 'missing or incomplete dates' : opts.allDates ? 'dates' : 'scheduled dates';
    const { withDownstream } = opts;
    // What reads it, directly or not: the dates that read the range, built after what they read.
    const downstream = withDownstream ? await planDownstreamOf(rt, name, from, to, plan.candidates) : [];
    const downstreamQueue = downstream.flatMap((q) =>
      q.dates.filter((d) => !q.inFlight.includes(d.date)).map((d) => ({ processorName: q.processorName, date: d.date, reason: d.reason })),
    );
    const total = plan.toQueue.length + downstreamQueue.length;
    if (opts.dryRun) {
      if (out.json) out.printJson({ dryRun: true, ...plan, ...(withDownstream ? { downstream } : {}) });
      else {
        out.line(`${out.c.bold(name)}: ${plan.candidates.length} ${scope} in ${from} … ${to}`);
        out.line(`  would queue  ${plan.toQueue.length === 0 ? 'nothing' : formatDates(plan.toQueue)}`);
        if (plan.inFlight.length > 0) out.line(`  in flight    ${formatDates(plan.inFlight)}`);
        if (withDownstream) printDownstream(out, downstream, 'would queue');
        out.line(`  ${out.c.dim('dry run: nothing was queued')}`);
      }
      return 0;
    }
    if (total > confirmAbove && !opts.yes && out.io.ask !== undefined && out.io.stderr.isTTY === true) {
      const what = withDownstream ? `${total} backfills of ${name} and what reads it` : `${total} backfills of ${name}`;
      const answer = await out.io.ask(`queue ${what} (${from} … ${to})? The worker runs them one date at a time. [y/N] `);
      if (!/^y(es)?$/i.test(answer.trim())) {
        out.warn('not confirmed: nothing was queued (--yes skips the question; --dry-run lists the dates)');
        return 1;
      }
    }
    let bar: { update(n: number): void; stop(): void; start(total: number, n: number): void } | undefined;
    if (out.tty && out.io.stderr.isTTY === true && total > 1) {
      const { default: progress } = await import('cli-progress');
      bar = new progress.SingleBar(
        {
          stream: out.io.stderr as NodeJS.WritableStream,
          format: `queueing ${name} {bar} {value}/{total}`,
          hideCursor: true,
          clearOnComplete: true,
        },
        progress.Presets.shades_classic,
      );
      bar.start(total, 0);
    }
    const result = await queueManualBackfill(rt, plan, {
      priority,
      requestedBy,
      onProgress: (done) => bar?.update(done),
      withDownstream,
      downstream: downstreamQueue,
    });
    bar?.stop();
    // A date found active when recorded (a race since the plan) is reported in flight, not queued.
    const raced = new Set(result.downstreamInFlight.map((r) => `${r.processorName} ${r.date}`));
    const done = downstream.map((q) => ({
      ...q,
      toQueue: q.toQueue.filter((d) => !raced.has(`${q.processorName} ${d}`)),
      inFlight: [...q.inFlight, ...q.toQueue.filter((d) => raced.has(`${q.processorName} ${d}`))].sort(),
      queued: result.downstreamQueued
        .filter((r) => r.processorName === q.processorName)
        .map((r) => ({
          requestId: r.requestId,
          date: r.date,
          status: r.status,
          reason: q.dates.find((d) => d.date === r.date)?.reason ?? 'backfill',
        })),
    }));
    if (out.json) {
      out.printJson({
        ...plan,
        queued: result.queued.map((r) => ({ requestId: r.requestId, date: r.date, status: r.status })),
        inFlight: result.inFlight,
        unpublished: result.unpublished,
        ...(withDownstream ? { downstream: done } : {}),
      });
    } else {
      out.line(`${out.c.bold(name)}: ${plan.candidates.length} ${scope} in ${from} … ${to}`);
      out.line(`  queued     ${result.queued.length === 0 ? 'nothing new' : out.c.green(formatDates(result.queued.map((r) => r.date)))}`);
      if (result.inFlight.length > 0)
        out.line(`  in flight  ${formatDates(result.inFlight)} (already queued or processing; not queued twice)`);
      if (withDownstream) printDownstream(out, done, 'queued');
      if (result.unpublished.length > 0)
        out.line(
          out.c.yellow(`  ${result.unpublished.length} request(s) recorded but not yet published; the worker's relay will publish them`),
        );
      if (result.queued.length + result.downstreamQueued.length > 0)
        out.line(out.c.dim('  run "smart-backfill worker" (or let a running worker) fill them'));
    }
    return 0;
  });
};

/** One block per processor that reads it, in dependency order: what is queued, and why. */
const printDownstream = (out: Output, plans: readonly DownstreamProcessorPlan[], verb: 'queued' | 'would queue'): void => {
  if (plans.length === 0) {
    out.line('  downstream nothing reads it');
    return;
  }
  for (const q of plans) {
    const queued = new Set(q.toQueue);
    const of = (reason: DownstreamReason): IsoDate[] => q.dates.filter((d) => d.reason === reason && queued.has(d.date)).map((d) => d.date);
    const [backfills, rebuilds] = [of('backfill'), of('rebuild')];
    out.line(`  downstream ${out.c.bold(q.processorName)} ${q.from} … ${q.to}`);
    if (backfills.length + rebuilds.length === 0) out.line(`    ${verb} nothing`);
    if (backfills.length > 0) out.line(`    ${verb} ${formatDates(backfills)} (backfill: never built or incomplete)`);
    if (rebuilds.length > 0) out.line(`    ${verb} ${formatDates(rebuilds)} (rebuild: built from an input this rebuilds)`);
    if (q.inFlight.length > 0) out.line(`    in flight ${formatDates(q.inFlight)} (already queued or processing; not queued twice)`);
    if (q.held.length > 0) out.line(`    held ${formatDates(q.held)} (resume when their inputs heal)`);
    for (const w of q.waiting)
      out.line(out.c.yellow(`    waits ${w.date}: reads ${w.inputs.join(', ')}, missing and not in this backfill`));
  }
};
