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
  withDownstream as withDownstreamOf,
} from '@smart-backfill/core';
import { badInput } from '../cli-error.js';
import { formatDates } from '../format/dates.js';
import { configOption, dateOption, intOption, switchOption, textOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime/runtime.js';
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

/**
 * Queue manual requests the way the guard queues automatic ones: recorded in the
 * tracker first (the outbox; at most one active request per date), then published,
 * then marked published. A publish that fails is left to the relay.
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
  },
): Promise<ManualBackfillResult> => {
  const now = rt.clock.now();
  const inputs: NewBackfillRequest[] = plan.toQueue.map((d) => ({
    requestId: (opts.ids ?? randomUUID)(),
    processorName: plan.processorName,
    date: d,
    requestType: 'manual',
    priority: opts.priority,
    requestedAt: now,
    requestedBy: opts.requestedBy,
    triggerReason: 'manual_backfill',
    metadata: {
      source: 'cli',
      range: { from: plan.from, to: plan.to },
      ...(opts.withDownstream === true ? { with_downstream: true } : {}),
    },
  }));
  const { created, existing } = await rt.tracker.create(inputs);
  const { queueMessageForRequest } = await import('@smart-backfill/engine');
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
  return { ...plan, inFlight: [...plan.inFlight, ...existing.map((r) => r.date)], queued: created, unpublished };
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
    if (opts.dryRun) {
      if (out.json) out.printJson({ dryRun: true, ...plan });
      else {
        out.line(`${out.c.bold(name)}: ${plan.candidates.length} ${scope} in ${from} … ${to}`);
        out.line(`  would queue  ${plan.toQueue.length === 0 ? 'nothing' : formatDates(plan.toQueue)}`);
        if (plan.inFlight.length > 0) out.line(`  in flight    ${formatDates(plan.inFlight)}`);
        out.line(`  ${out.c.dim('dry run: nothing was queued')}`);
      }
      return 0;
    }
    if (plan.toQueue.length > confirmAbove && !opts.yes && out.io.ask !== undefined && out.io.stderr.isTTY === true) {
      const answer = await out.io.ask(
        `queue ${plan.toQueue.length} backfills of ${name} (${from} … ${to})? The worker runs them one date at a time. [y/N] `,
      );
      if (!/^y(es)?$/i.test(answer.trim())) {
        out.warn('not confirmed: nothing was queued (--yes skips the question; --dry-run lists the dates)');
        return 1;
      }
    }
    let bar: { update(n: number): void; stop(): void; start(total: number, n: number): void } | undefined;
    if (out.tty && out.io.stderr.isTTY === true && plan.toQueue.length > 1) {
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
      bar.start(plan.toQueue.length, 0);
    }
    const { withDownstream } = opts;
    const result = await queueManualBackfill(rt, plan, { priority, requestedBy, onProgress: (done) => bar?.update(done), withDownstream });
    // What reads it, directly or not: rebuilt by the worker after each date, once each, in dependency order.
    const downstream = withDownstream ? withDownstreamOf(rt.config.graph, [name]).filter((n) => n !== name) : [];
    bar?.stop();
    if (out.json) {
      out.printJson({
        ...plan,
        queued: result.queued.map((r) => ({ requestId: r.requestId, date: r.date, status: r.status })),
        inFlight: result.inFlight,
        unpublished: result.unpublished,
        ...(withDownstream ? { downstream } : {}),
      });
    } else {
      out.line(`${out.c.bold(name)}: ${plan.candidates.length} ${scope} in ${from} … ${to}`);
      out.line(`  queued     ${result.queued.length === 0 ? 'nothing new' : out.c.green(formatDates(result.queued.map((r) => r.date)))}`);
      if (result.inFlight.length > 0)
        out.line(`  in flight  ${formatDates(result.inFlight)} (already queued or processing; not queued twice)`);
      if (result.unpublished.length > 0)
        out.line(
          out.c.yellow(`  ${result.unpublished.length} request(s) recorded but not yet published; the worker's relay will publish them`),
        );
      if (withDownstream)
        out.line(
          `  downstream ${downstream.length === 0 ? 'nothing reads it' : `${downstream.join(' → ')}: the dates that read each one are rebuilt after it, once each`}`,
        );
      if (result.queued.length > 0) out.line(out.c.dim('  run "smart-backfill worker" (or let a running worker) fill them'));
    }
    return 0;
  });
};
