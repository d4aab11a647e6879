import {
  ACTIVE_STATUSES,
  addDays,
  utcDateOf,
  type AlertRecord,
  type BackfillRequest,
  type Dependency,
  type HeldRun,
  type IsoDate,
  type PipelineRow,
  type RunRecord,
  type UpstreamGap,
} from '@smart-backfill/core';
import { pipelineOf, upstreamGapsOf } from './pipeline-view.js';
import { calendarDays, renderCalendar, stateCounts, type CalendarInput, type DayState } from '../format/calendar.js';
import { formatDates } from '../format/dates.js';
import { configOption, dateOption, intOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime/runtime.js';
import { alertChannelProblems } from '../runtime/alerters.js';
import { withRuntime } from './shared.js';

export interface ProcessorStatus {
  readonly name: string;
  readonly openRequests: readonly BackfillRequest[];
  readonly recentRequests: readonly BackfillRequest[];
  /** Held runs still to run: `held`, and `resuming` (claimed by a resumer, perhaps one that died). */
  readonly heldRuns: readonly HeldRun[];
  /**
   * For each held run of a processor with inputs that waits for no date of its own: the upstream
   * gaps that hold it, as its run record stored them (`null`: no record names them).
   */
  readonly heldForInputs: ReadonlyMap<IsoDate, readonly UpstreamGap[] | null>;
  /** When this was read: a `resuming` run whose lease ended before it has lost its resumer. */
  readonly now: number;
  readonly openAlerts: readonly AlertRecord[];
  /** What the latest checked run (of the past week) warned about, e.g. a schedule without rows. */
  readonly warnings: readonly { readonly runDate: IsoDate; readonly message: string }[];
  readonly calendar: CalendarInput;
}

/** The warnings the guard stored on the latest run it checked (backfills are not checked). */
const lastWarnings = (runs: readonly RunRecord[]): ProcessorStatus['warnings'] => {
  const last = runs.filter((r) => !r.isBackfill).at(-1);
  const ws = last?.metadata['warnings'];
  if (last === undefined || !Array.isArray(ws)) return [];
  return ws.filter((w): w is string => typeof w === 'string').map((message) => ({ runDate: last.runDate, message }));
};

const DAY_MS = 86_400_000;

/** `order_lines 2025-11-04 (backfill queued)`: one upstream gap that holds a run. */
const describeGap = (g: UpstreamGap): string =>
  `${g.processor} ${formatDates(g.missing)} (${g.escalated.length > 0 ? 'escalated: a person must fill it' : g.queued.length > 0 ? 'backfill queued' : 'in flight'})`;

const describeHold = (gaps: readonly UpstreamGap[] | null): string =>
  gaps === null ? 'its inputs (no run record names which)' : gaps.map(describeGap).join('; ');

const reads = (d: Dependency): string =>
  `${d.processor} (${d.lookbackDays === 0 ? 'same day' : `${d.lookbackDays} day${d.lookbackDays === 1 ? '' : 's'} back`})`;

/** One line per processor, in dependency order: its level, what it reads, and what holds its runs. */
const printPipeline = (out: Output, rows: readonly PipelineRow[], all: readonly ProcessorStatus[]): void => {
  const byName = new Map(all.map((s) => [s.name, s]));
  const width = Math.max(...rows.map((r) => r.processor.length));
  out.line(out.c.bold('pipeline, in dependency order'));
  for (const r of rows) {
    const s = byName.get(r.processor);
    const held = s === undefined ? [] : [...s.heldForInputs.entries()];
    const holds = held.map(([date, gaps]) => `${date} for ${describeHold(gaps)}`);
    const line = `  level ${r.level}  ${r.processor.padEnd(width)}  ${r.dependsOn.length === 0 ? 'reads no other processor' : `reads ${r.dependsOn.map(reads).join(', ')}`}`;
    out.line(holds.length === 0 ? line : `${line}; held: ${holds.join(', ')}`);
  }
  out.line();
};

/** Everything `status` shows for one processor: five store reads and one window read. */
export const gatherStatus = async (rt: Runtime, name: string, today: IsoDate, weeks: number): Promise<ProcessorStatus> => {
  const p = rt.processorConfig(name);
  const now = rt.clock.now();
  const [openRequests, recent, held, resuming, openAlerts, runs] = await Promise.all([
    rt.tracker.list({ processorName: name, statuses: ACTIVE_STATUSES }),
    rt.tracker.list({ processorName: name, since: now - 7 * DAY_MS, limit: 50 }),
    rt.runLog.heldRuns({ processorName: name, status: 'held' }),
    rt.runLog.heldRuns({ processorName: name, status: 'resuming' }),
    rt.alertLog.list({ processorName: name, openOnly: true }),
    rt.runLog.runs({ processorName: name, since: now - 7 * DAY_MS }),
  ]);
  const heldRuns = [...held, ...resuming].sort((a, b) => (a.runDate < b.runDate ? -1 : a.runDate > b.runDate ? 1 : 0));
  const heldForInputs = await upstreamGapsOf(rt, p.dependsOn ?? [], heldRuns, runs, now - 7 * DAY_MS);
  const start = addDays(today, -7 * weeks - 7);
  const [window, requests] = await Promise.all([
    rt.windowFor(p).readWindow({ processorName: name, start, end: today }),
    rt.tracker.forWindow({ processorName: name, start, end: today }),
  ]);
  return {
    name,
    openRequests,
    recentRequests: recent.filter((r) => r.status === 'completed' || r.status === 'failed').slice(0, 10),
    heldRuns,
    heldForInputs,
    now,
    openAlerts,
    warnings: lastWarnings(runs),
    calendar: {
      today,
      weeks,
      expectedDates: window.expectedDates,
      recordCounts: window.recordCounts,
      minRecordsPerDate: p.policy.minRecordsPerDate,
      requests,
      escalatedDates: openAlerts.flatMap((a) => a.missingDates),
    },
  };
};

const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16));

/** A `resuming` run whose claim ended: its resumer died or stalled; the next resume pass takes it over. */
const claimLapsed = (h: HeldRun, now: number): boolean => h.status === 'resuming' && h.leaseUntil !== null && h.leaseUntil <= now;

/** Human lines for one processor's status. */
export const printStatus = (out: Output, s: ProcessorStatus): void => {
  const { c } = out;
  out.line(c.bold(`${s.name}`));
  if (s.openAlerts.length > 0) {
    for (const a of s.openAlerts) {
      out.line(c.red(`  alert open since ${when(a.openedAt)}: ${a.reason.replace(/_/g, ' ')}, ${formatDates(a.missingDates)}`));
      if (a.lastSentAt === null)
        out.line(c.red(`    NOT DELIVERED: ${a.lastSendError ?? 'no notice has got through yet'}; the worker retries`));
      out.line(
        `    heal: smart-backfill backfill ${s.name} --from ${a.missingDates[0] ?? ''} --to ${a.missingDates[a.missingDates.length - 1] ?? ''}`,
      );
    }
  }
  for (const w of s.warnings) out.line(c.yellow(`  warning (run ${w.runDate}): ${w.message}`));
  if (s.heldRuns.length > 0) {
    for (const h of s.heldRuns) {
      const gaps = s.heldForInputs.get(h.runDate);
      if (h.status !== 'resuming')
        out.line(
          c.yellow(
            `  held run ${h.runDate} (${h.reason.replace(/_/g, ' ')}), waiting for ${gaps === undefined ? formatDates(h.waitingFor) : describeHold(gaps)}`,
          ),
        );
      else if (claimLapsed(h, s.now))
        out.line(
          c.red(
            `  held run ${h.runDate}: resume by ${h.claimedBy ?? '?'} lapsed at ${when(h.leaseUntil)} (its resumer died or stalled); the worker's next resume pass re-runs it`,
          ),
        );
      else
        out.line(
          c.yellow(
            `  held run ${h.runDate} being resumed by ${h.claimedBy ?? '?'} since ${when(h.claimedAt)} (claim until ${when(h.leaseUntil)})`,
          ),
        );
    }
  }
  if (s.openRequests.length > 0) {
    out.line(`  open requests`);
    for (const r of s.openRequests)
      out.line(
        `    ${r.date}  ${r.status.padEnd(10)} ${r.requestType.padEnd(6)} attempt ${r.attempt}  requested ${when(r.requestedAt)} by ${r.requestedBy}`,
      );
  }
  if (s.recentRequests.length > 0) {
    out.line(`  recent requests`);
    for (const r of s.recentRequests) {
      const color = r.status === 'completed' ? c.green : c.red;
      out.line(
        `    ${r.date}  ${color(r.status.padEnd(10))} ${r.requestType.padEnd(6)} attempt ${r.attempt}  ${when(r.completedAt)}${r.errorMessage !== null ? `  ${r.errorMessage}` : ''}`,
      );
    }
  }
  if (s.openAlerts.length + s.heldRuns.length + s.openRequests.length + s.recentRequests.length === 0) out.line(c.green('  nothing open'));
  out.line(`  last ${s.calendar.weeks} weeks to ${s.calendar.today}`);
  for (const l of renderCalendar(s.calendar, { tty: out.tty, c })) out.line(`  ${l}`);
};

export const statusJson = (s: ProcessorStatus, row?: PipelineRow): Record<string, unknown> => {
  const cal = calendarDays(s.calendar);
  return {
    name: s.name,
    ...(row === undefined ? {} : { level: row.level, dependsOn: row.dependsOn }),
    openRequests: s.openRequests,
    recentRequests: s.recentRequests,
    heldRuns: s.heldRuns.map((h) => {
      const gaps = s.heldForInputs.get(h.runDate);
      return { ...h, claimLapsed: claimLapsed(h, s.now), ...(gaps === undefined ? {} : { waitingForUpstream: gaps }) };
    }),
    openAlerts: s.openAlerts,
    warnings: s.warnings,
    calendar: { start: cal.start, today: s.calendar.today, days: cal.days, counts: stateCounts(cal.days) as Record<DayState, number> },
  };
};

interface StatusCommandOptions extends ConfigOption {
  readonly weeks: number;
  /** Default: today (UTC), read from the runtime's clock. */
  readonly today: IsoDate | undefined;
}

const statusOptions = (raw: RawOptions): StatusCommandOptions => ({
  ...configOption(raw),
  weeks: intOption('--weeks', raw['weeks'] ?? '4', 1, 52),
  today: raw['today'] !== undefined ? dateOption('--today', raw['today']) : undefined,
});

/** `status [PROCESSOR]`. */
export const statusCommand = async (out: Output, raw: RawOptions, args: readonly string[]): Promise<number> => {
  const opts = statusOptions(raw);
  const { weeks } = opts;
  return withRuntime(out, opts, async (rt) => {
    const today = opts.today ?? utcDateOf(rt.clock.now());
    const configured = args[0] !== undefined ? [rt.processorConfig(args[0]).name] : rt.config.processors.map((p) => p.name);
    const pipeline = pipelineOf(rt, configured);
    const rows = new Map((pipeline ?? []).map((r) => [r.processor, r]));
    const names = pipeline?.map((r) => r.processor) ?? configured;
    const all = [];
    for (const n of names) all.push(await gatherStatus(rt, n, today, weeks));
    const depth = rt.queueDepth !== undefined ? await rt.queueDepth() : undefined;
    const report = rt.queueReport !== undefined ? await rt.queueReport() : undefined;
    const alertProblems = await alertChannelProblems(rt.config.alerts, out);
    if (out.json)
      out.printJson({
        today,
        queue: depth ?? report ?? null,
        alertChannelProblems: alertProblems,
        ...(pipeline === undefined ? {} : { pipeline }),
        processors: all.map((s) => statusJson(s, rows.get(s.name))),
      });
    else {
      for (const p of alertProblems) out.line(out.c.red(`alert channel cannot deliver: ${p}`));
      if (pipeline !== undefined) printPipeline(out, pipeline, all);
      for (const s of all) {
        printStatus(out, s);
        out.line();
      }
      if (depth !== undefined) out.line(out.c.dim(`queue: ${depth.ready} ready, ${depth.leased} leased, ${depth.dead} dead`));
      if (report !== undefined) {
        const t = report.fromTracker;
        out.line(
          out.c.dim(
            `queue (Pub/Sub ${report.subscription}, from the tracker): ${t.published} published and waiting, ${t.processing} held by a worker, ${t.unpublished} in the outbox` +
              (t.oldestWaitingSince === null ? '' : `; oldest waiting since ${t.oldestWaitingSince}`),
          ),
        );
        const dl = report.deadLetters;
        if (dl.error !== undefined) out.line(out.c.yellow(`dead letters: could not read ${dl.subscription ?? ''}: ${dl.error}`));
        else if (dl.messages !== null && dl.messages.length > 0) {
          out.line(out.c.red(`dead letters on ${dl.subscription ?? ''}: ${dl.messages.length}${dl.messages.length >= 100 ? '+' : ''}`));
          for (const m of dl.messages.slice(0, 10)) out.line(`  ${m.at ?? '?'}  ${m.processorName ?? '-'} ${m.date ?? '-'}  ${m.reason}`);
        }
        out.line(out.c.dim('queue backlog and oldest unacked age as Pub/Sub counts them: Cloud Monitoring (not readable here)'));
      }
    }
    return 0;
  });
};
