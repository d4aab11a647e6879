import { randomUUID } from 'node:crypto';
import {
  addDays,
  analyzeGaps,
  decide,
  diagnoseSchedule,
  DEFAULT_POLICY,
  isSmartBackfillError,
  validatePolicy,
  formatPolicyProblem,
  type AlertRecord,
  type Backfill,
  type BackfillRequest,
  type CheckReader,
  type Clock,
  type Escalate,
  type Proceed,
  type Decision,
  type GapAnalysis,
  type GapPolicy,
  type HeldRun,
  type IsoDate,
  type RunMetadata,
  type RunOutcome,
  type RunTrigger,
  type ScheduleDiagnosis,
  type SkipReason,
  type WindowData,
  type WindowQuery,
  type WindowReader,
  UPSTREAM_WAITS_KEY,
} from '@smart-backfill/core';
import { queueAutoBackfills, type AutoBackfillDeps } from './auto-backfills.js';
import { alertKeyFor, alertUpkeep, escalate, healAlerts, processLocalAlertLog, type AlertingDeps, type OlderDates } from './alerts.js';
import { summarizeFailures } from './failures.js';
import { engineError, errorMessage, settle, toError } from './errors.js';
import { brandOutcome, type CheckReport, type GuardDeps, type GuardedProcessor, type GuardOutcome } from './guard-types.js';
import { silentLogger, type Logger } from './logger.js';
import type { Processor, RunOptions } from './processor.js';
import { resumeHeldRuns } from './resume.js';
import {
  datesThatWait,
  describeWaits,
  holdForUpstream,
  pipelineGraph,
  previewUpstream,
  requestInputs,
  unreadyInputs,
  type UpstreamDeps,
  type UpstreamInput,
  type UpstreamWait,
} from './upstream.js';

export { alertKeyFor, healCommand } from './alerts.js';

/** `DEFAULT_POLICY` overlaid with `partial`; throws a `SmartBackfillError` naming every bad field. */
export const resolvePolicy = (partial: Partial<GapPolicy> | undefined): GapPolicy => {
  const defined = Object.fromEntries(Object.entries(partial ?? {}).filter(([, v]) => v !== undefined));
  const r = validatePolicy(defined, DEFAULT_POLICY);
  if (r._tag === 'Err') throw engineError('invalid_config', `invalid policy: ${r.error.map(formatPolicyProblem).join('; ')}`);
  return r.value;
};

const isWindowReader = (w: GuardDeps['window']): w is WindowReader => typeof (w as Partial<WindowReader>).readWindow === 'function';
const isCheckReader = (w: GuardDeps['window']): w is WindowReader & CheckReader =>
  isWindowReader(w) && typeof (w as Partial<CheckReader>).readCheck === 'function';

/** What a check read: the window, its requests, and (read together only by a `CheckReader`) alerts and held runs. */
interface CheckInputs {
  readonly data: WindowData;
  readonly requests: readonly BackfillRequest[];
  /** Open alerts, and with a `CheckReader` the resolved ones naming a window date; `undefined`: not read. */
  readonly alerts: readonly AlertRecord[] | undefined;
  /** With a `CheckReader`: held runs and the run date's own record; `undefined`: not read. */
  readonly heldRuns: readonly HeldRun[] | undefined;
}

interface Gathered {
  readonly analysis: GapAnalysis;
  readonly decision: Decision;
  /** Missing dates that wait for their inputs: in flight in `decision`, and what they read is requested upstream. */
  readonly waiting: ReadonlySet<IsoDate>;
  readonly summary: Summary;
  readonly warnings: readonly string[];
  readonly requests: readonly BackfillRequest[];
  readonly alerts: readonly AlertRecord[] | undefined;
  readonly heldRuns: readonly HeldRun[] | undefined;
}

type Summary = ReturnType<typeof summarizeFailures>;

const decisionLabel = (d: Decision): string => (d._tag === 'Backfill' ? 'Backfill' : `${d._tag}:${d.reason}`);

const gapMetadata = (a: GapAnalysis, d: Decision): RunMetadata => ({
  gap_size: a.gapSize,
  missing_dates: a.missingDates,
  critical_missing: a.criticalMissing,
  absent_dates: a.absentDates,
  incomplete_dates: a.incompleteDates.map((i) => i.date),
  window_start: a.windowStart,
  window_end: a.windowEnd,
  decision: decisionLabel(d),
});

/**
 * Wrap a processor with the smart-backfill check (the seed's `SmartBackfillMixin`,
 * as composition). The result has the same interface; `run` returns a
 * {@link GuardOutcome} and never throws for a failing check or processor — the
 * outcome says `Failed`. Every run appends one `RunRecord`.
 *
 * @throws SmartBackfillError (`invalid_config`) when `deps.policy` is invalid.
 */
export const withSmartBackfill = (processor: Processor, deps: GuardDeps): GuardedProcessor => {
  const policy = resolvePolicy(deps.policy);
  const inputs = deps.upstream ?? [];
  const dependsOn = inputs.map((i) => ({ processor: i.processor, lookbackDays: i.lookbackDays }));
  // Its own inputs checked by the graph rule the CLI and a worker use (itself, twice, a bad lookback).
  const inputNames = new Set(inputs.map((i) => i.processor).filter((n) => n !== processor.name));
  pipelineGraph([{ name: processor.name, dependsOn }, ...[...inputNames].map((n) => ({ name: n }))]);
  const log = deps.logger ?? silentLogger;
  const ids = deps.ids ?? randomUUID;
  const name = processor.name;
  const clock = deps.clock;
  const alerting: AlertingDeps | undefined =
    deps.alerter !== undefined || deps.alertLog !== undefined
      ? {
          processorName: name,
          alertLog: deps.alertLog ?? processLocalAlertLog(),
          alerter: deps.alerter,
          clock,
          logger: log,
          reminderIntervalMs: deps.reminderIntervalMs,
          deadlineMs: deps.alertDeadlineMs,
        }
      : undefined;
  // An input's escalation opens (once) on the input, through the same log and channels.
  const alertingOf = (processorName: string): AlertingDeps | undefined =>
    alerting === undefined ? undefined : { ...alerting, processorName };
  const autoDeps: AutoBackfillDeps = { tracker: deps.tracker, queue: deps.queue, clock, logger: log, ids, requestedBy: deps.requestedBy };
  const upstreamDeps: UpstreamDeps = { ...autoDeps, runLog: deps.runLog, alertingFor: alertingOf };
  // Channels that cannot deliver (an unset secret) are named in every run record.
  const alertProblems = deps.alerter?.problems ?? [];

  const readWindow = async (q: WindowQuery): Promise<WindowData> => {
    if (isWindowReader(deps.window)) return deps.window.readWindow(q);
    const { schedule, target } = deps.window;
    const [expectedDates, recordCounts] = await Promise.all([
      settle(() => schedule.expectedDates(q)),
      settle(() => target.recordCounts(q)),
    ]);
    return { expectedDates, recordCounts };
  };

  /**
   * Why a window came back without expected dates. Only asked then, so a normal check
   * reads nothing extra; a source that cannot say leaves a plain warning.
   */
  const diagnoseEmpty = async (q: WindowQuery): Promise<ScheduleDiagnosis> => {
    let description;
    try {
      description = isWindowReader(deps.window) ? await deps.window.describeWindow?.(q) : await deps.window.schedule.describeWindow?.(q);
    } catch (e) {
      log.warn('could not describe the schedule window', { processor: name, start: q.start, end: q.end, error: errorMessage(e) });
    }
    return diagnoseSchedule({ query: q, expectedCount: 0, description });
  };

  /**
   * A store's `CheckReader` answers the whole check in one call. Without one (or when its one
   * read fails: a missing alerts table must not fail the window), the window and the
   * requests are read through their ports, in parallel; alerts are then read by `run`.
   */
  const readInputs = async (q: WindowQuery, date: IsoDate): Promise<CheckInputs> => {
    if (isCheckReader(deps.window)) {
      try {
        const c = await deps.window.readCheck({ ...q, runDate: date });
        return { data: c, requests: c.requests, alerts: c.alerts, heldRuns: c.heldRuns };
      } catch (e) {
        log.warn('could not read the check in one call; reading its parts one by one', { processor: name, error: errorMessage(e) });
      }
    }
    const [data, requests] = await Promise.all([readWindow(q), settle(() => deps.tracker.forWindow(q))]);
    return { data, requests, alerts: undefined, heldRuns: undefined };
  };

  /** The check's reads (one call with a `CheckReader`); then pure analysis. */
  const gather = async (date: IsoDate): Promise<Gathered> => {
    const q: WindowQuery = { processorName: name, start: addDays(date, -policy.lookbackDays), end: addDays(date, -1) };
    let read: CheckInputs;
    try {
      read = await readInputs(q, date);
    } catch (e) {
      throw engineError('read_failed', `could not check ${name} for ${date} (window ${q.start}..${q.end}): ${errorMessage(e)}`, {
        cause: e,
      });
    }
    const { data, requests } = read;
    const analysis = analyzeGaps({ asOf: date, expectedDates: data.expectedDates, recordCounts: data.recordCounts, policy });
    const warnings: string[] = [];
    if (analysis.expectedCount === 0) {
      // An empty schedule switches the guard off; say why, and refuse when it is a status typo.
      const diagnosis = await diagnoseEmpty(q);
      if (diagnosis._tag === 'NoneAccepted')
        throw engineError('schedule_mismatch', `${name}: ${diagnosis.message} (statuses are compared exactly, case included)`);
      if (diagnosis._tag === 'Empty') {
        log.warn(diagnosis.warning, { processor: name, date });
        warnings.push(diagnosis.warning);
      }
    }
    // Completed requests are not counted here: a backfill completes only once its date was
    // re-counted and found filled, so a date that is missing again is a new gap.
    const summary = summarizeFailures(requests, policy.maxAttempts);
    const context = { activeRequests: [...summary.active.keys()], failedAttempts: summary.failedAttempts };
    let decision = decide(analysis, policy, context);
    // Own dates missing because an input is missing are the input's gap: never escalated nor backfilled here.
    // (Read only when it changes something: an escalation, or dates it would queue.)
    let waiting: ReadonlySet<IsoDate> = new Set();
    const queues = decision._tag === 'Escalate' || (decision._tag === 'Backfill' && decision.toQueue.length > 0);
    if (queues && inputs.length > 0) {
      try {
        waiting = await datesThatWait(deps.runLog, name, analysis.missingDates, inputs);
      } catch (e) {
        throw engineError('read_failed', `could not check the inputs of ${name}'s missing dates: ${errorMessage(e)}`, { cause: e });
      }
      if (waiting.size > 0) decision = decide(analysis, policy, { ...context, waitingForInputs: waiting });
    }
    return { analysis, decision, waiting, summary, warnings, requests, alerts: read.alerts, heldRuns: read.heldRuns };
  };

  /**
   * An open alert keeps every date it named, so some may have slid out of the
   * lookback window. Read those (only then) so the alert is healed against all
   * its dates, not just the ones this window shows.
   */
  /** Expected dates in `[start, end]` below the minimum: the rule alerts are healed by, here and in the worker. */
  const missingIn = async (start: IsoDate, end: IsoDate): Promise<ReadonlySet<IsoDate>> => {
    const data = await readWindow({ processorName: name, start, end });
    return new Set(data.expectedDates.filter((d) => (data.recordCounts.get(d) ?? 0) < policy.minRecordsPerDate));
  };

  const readOlderDates = async (open: readonly AlertRecord[], analysis: GapAnalysis): Promise<OlderDates | undefined> => {
    const older = open.flatMap((a) => a.missingDates.filter((d) => d < analysis.windowStart)).sort();
    const start = older[0];
    if (start === undefined) return undefined;
    const end = addDays(analysis.windowStart, -1);
    return { start, end, missing: await missingIn(start, end) };
  };

  const check = async (date: IsoDate): Promise<CheckReport> => {
    const { analysis, decision, summary, warnings } = await gather(date);
    const missing = new Set(analysis.missingDates);
    const wouldHold = decision._tag !== 'Proceed' && decision.holdRun;
    // A run that would go ahead looks upstream first (read only here): say what would hold it.
    const upstream = wouldHold || inputs.length === 0 ? [] : await previewUpstream(upstreamDeps, inputs, name, date);
    return {
      processorName: name,
      date,
      analysis,
      decision,
      wouldQueue: decision._tag === 'Backfill' ? decision.toQueue : [],
      inFlight: decision._tag === 'Backfill' ? decision.inFlight : [...summary.active.keys()].filter((d) => missing.has(d)).sort(),
      wouldHold: wouldHold || upstream.length > 0,
      upstream,
      failedAttempts: summary.failedAttempts,
      lastError: summary.lastError,
      policy,
      warnings,
    };
  };

  /**
   * Re-count one date after its backfill succeeded: "succeeded" is not "filled". A
   * scheduled date still below `minRecordsPerDate` is an error naming the numbers.
   */
  const verifyFilled = async (date: IsoDate): Promise<Error | RunMetadata> => {
    let data: WindowData;
    try {
      data = await readWindow({ processorName: name, start: date, end: date });
    } catch (e) {
      return engineError('read_failed', `the processor succeeded but ${date} could not be re-counted: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    const rows = data.recordCounts.get(date) ?? 0;
    if (data.expectedDates.includes(date) && rows < policy.minRecordsPerDate)
      return engineError(
        'not_filled',
        `the processor succeeded but ${date} has ${rows} row${rows === 1 ? '' : 's'}; need ≥ ${policy.minRecordsPerDate}`,
      );
    return { verified_rows: rows };
  };

  // The check's alerts are the alert log's only when both read one store (the guard's own log
  // without `deps.alertLog` is process-local).
  const alertsFromCheck = isCheckReader(deps.window) && deps.alertLog !== undefined;

  /** The processor's open alerts; a failure to read them is a warning, never a failed check. */
  const readOpenAlerts = async (): Promise<readonly AlertRecord[]> => {
    if (alerting === undefined) return [];
    try {
      return await alerting.alertLog.list({ processorName: name, openOnly: true });
    } catch (e) {
      log.warn('could not read open alerts', { processor: name, error: errorMessage(e) });
      return [];
    }
  };

  const wiring: Guard = {
    name,
    processor,
    deps,
    policy,
    inputs,
    clock,
    log,
    ids,
    alerting,
    alertsFromCheck,
    autoDeps,
    upstreamDeps,
    alertProblems,
    gather,
    readOpenAlerts,
    readOlderDates,
    verifyFilled,
    self: () => guarded,
  };

  const alerts = alerting === undefined ? undefined : alertUpkeep(alerting, missingIn);
  const guarded: GuardedProcessor = {
    name,
    run: async (o) => brandOutcome(await runGuarded(wiring, o)),
    check,
    verifyFilled,
    inputsNotReady: (date) => unreadyInputs(deps.runLog, inputs, date),
    inner: processor,
    policy,
    dependsOn,
    alerts,
  };
  return guarded;
};

/** The guard's wiring, fixed when it is built: what the steps of every run use. */
interface Guard {
  readonly name: string;
  readonly processor: Processor;
  readonly deps: GuardDeps;
  readonly policy: GapPolicy;
  /** The processors it reads from, and how far back (`deps.upstream`). */
  readonly inputs: readonly UpstreamInput[];
  readonly clock: Clock;
  readonly log: Logger;
  readonly ids: () => string;
  readonly alerting: AlertingDeps | undefined;
  /** The check's alerts stand for the alert log's (both read one store). */
  readonly alertsFromCheck: boolean;
  readonly autoDeps: AutoBackfillDeps;
  readonly upstreamDeps: UpstreamDeps;
  /** Channels that cannot deliver (an unset secret), named in every run record. */
  readonly alertProblems: readonly string[];
  gather(date: IsoDate): Promise<Gathered>;
  readOpenAlerts(): Promise<readonly AlertRecord[]>;
  readOlderDates(open: readonly AlertRecord[], analysis: GapAnalysis): Promise<OlderDates | undefined>;
  verifyFilled(date: IsoDate): Promise<Error | RunMetadata>;
  /** The guarded processor, for the re-check that resumes the run just held. */
  self(): GuardedProcessor;
}

/** One run of the guard: its identity, shared by its steps. */
interface Run {
  readonly g: Guard;
  readonly opts: RunOptions;
  readonly runId: string;
  readonly startedAt: number;
  readonly isBackfill: boolean;
  readonly trigger: RunTrigger;
  readonly date: IsoDate;
}

/** What the check read and decided, and the run metadata every record of this run carries. */
interface Checked extends Gathered {
  /** The processor's open alerts. */
  readonly openAlerts: readonly AlertRecord[];
  /** With a `CheckReader` over the alert log's store: the alerts it returned (resolved ones naming a window date too). */
  readonly checkAlerts: readonly AlertRecord[] | undefined;
  readonly meta: RunMetadata;
}

/**
 * One run, top to bottom — the life of one check (docs/architecture.md): a backfill runs
 * at once; otherwise read the check, heal the alerts it shows whole, and act on the
 * decision: proceed, hold and queue, or escalate.
 */
const runGuarded = async (g: Guard, opts: RunOptions): Promise<GuardOutcome> => {
  const r = startRun(g, opts);
  if (r.isBackfill) return runBackfill(r);
  const read = await readCheck(r);
  if (!read.ok) return read.outcome;
  const c = read.checked;
  await healWholeAlerts(r, c);
  const decision = c.decision;
  switch (decision._tag) {
    case 'Proceed':
      return proceed(r, c, decision);
    case 'Backfill':
      return holdAndQueue(r, c, decision);
    case 'Escalate':
      return escalateGap(r, c, decision);
  }
};

const startRun = (g: Guard, opts: RunOptions): Run => {
  const isBackfill = opts.isBackfill === true;
  return {
    g,
    opts,
    runId: g.ids(),
    startedAt: g.clock.now(),
    isBackfill,
    trigger: opts.trigger ?? (isBackfill ? 'backfill' : 'scheduled'),
    date: opts.date,
  };
};

/** Append this run's record. Losing one monitoring row must not turn a good run into a failure. */
const record = async (
  r: Run,
  outcome: RunOutcome,
  skipReason: SkipReason | null,
  error: string | null,
  metadata: RunMetadata,
): Promise<void> => {
  const { g, opts } = r;
  const finishedAt = g.clock.now();
  try {
    await g.deps.runLog.append({
      runId: r.runId,
      processorName: g.name,
      runDate: r.date,
      trigger: r.trigger,
      isBackfill: r.isBackfill,
      outcome,
      skipReason,
      errorMessage: error,
      startedAt: r.startedAt,
      finishedAt,
      durationMs: finishedAt - r.startedAt,
      metadata: {
        ...metadata,
        ...(opts.requestId === undefined ? {} : { request_id: opts.requestId }),
        ...(g.alertProblems.length === 0 ? {} : { alert_channel_problems: g.alertProblems }),
      },
    });
  } catch (e) {
    g.log.error('could not append run record', { processor: g.name, date: r.date, runId: r.runId, error: errorMessage(e) });
  }
};

type Inner = { ok: true; result: unknown } | { ok: false; outcome: GuardOutcome };

/**
 * Run the wrapped processor; a throw is a `Failed` outcome, recorded. `verify`, when
 * given, runs after a success and turns it into a failure when it returns an error.
 */
const runInner = async (r: Run, metadata: RunMetadata, verify?: () => Promise<Error | RunMetadata>): Promise<Inner> => {
  const { g } = r;
  const failed = async (error: Error): Promise<Inner> => {
    g.log.warn('processor failed', { processor: g.name, date: r.date, runId: r.runId, error: error.message });
    await record(r, 'failed', null, error.message, metadata);
    return { ok: false, outcome: { _tag: 'Failed', error, stage: 'run', runId: r.runId } };
  };
  let result: unknown;
  try {
    result = await g.processor.run({ ...r.opts, trigger: r.trigger });
  } catch (e) {
    return failed(toError(e));
  }
  const checked = verify === undefined ? {} : await verify();
  if (checked instanceof Error) return failed(checked);
  await record(r, 'succeeded', null, null, { ...metadata, ...checked });
  return { ok: true, result };
};

/**
 * The seed's bypass: a backfill must not wait for itself. Its date is re-counted after. It is
 * not built from an incomplete input either: it fails (the worker retries it with backoff)
 * naming the input dates it waits for.
 */
const runBackfill = async (r: Run): Promise<GuardOutcome> => {
  const { g, date, runId } = r;
  if (g.inputs.length > 0) {
    let unready: string[];
    try {
      unready = await unreadyInputs(g.deps.runLog, g.inputs, date);
    } catch (e) {
      const error = engineError('read_failed', `could not check the inputs of ${g.name} for ${date}: ${errorMessage(e)}`, { cause: e });
      await record(r, 'failed', null, error.message, { decision: 'CheckFailed' });
      return { _tag: 'Failed', error, stage: 'check', runId };
    }
    if (unready.length > 0) {
      const error = engineError(
        'read_failed',
        `${g.name} ${date} reads input dates that are missing or held (${unready.join(', ')}); not built from an incomplete input`,
      );
      g.log.warn('backfill waits for its inputs', { processor: g.name, date, runId, inputs: unready });
      await record(r, 'failed', null, error.message, { decision: 'WaitingForUpstream', inputs_not_ready: unready });
      return { _tag: 'Failed', error, stage: 'check', runId };
    }
  }
  const out = await runInner(r, { decision: 'Proceed:is_backfill' }, () => r.g.verifyFilled(r.date));
  return out.ok ? { _tag: 'Ran', reason: 'is_backfill', result: out.result, runId: r.runId } : out.outcome;
};

/**
 * Read the check (one call with a `CheckReader`) and the open alerts, then decide. A check
 * that cannot be read is a recorded failure: the guard never guesses.
 */
const readCheck = async (
  r: Run,
): Promise<{ readonly ok: true; readonly checked: Checked } | { readonly ok: false; readonly outcome: GuardOutcome }> => {
  const { g } = r;
  try {
    // A `CheckReader` returns the alerts with the check; otherwise they are read alongside it.
    const listing = g.alertsFromCheck ? Promise.resolve(undefined) : g.readOpenAlerts();
    const [gathered, listed] = await Promise.all([g.gather(r.date), listing]);
    const checkAlerts = g.alertsFromCheck ? gathered.alerts : undefined;
    const openAlerts = (checkAlerts ?? listed ?? (await g.readOpenAlerts())).filter((a) => a.resolvedAt === null);
    const { analysis, decision, warnings } = gathered;
    const meta: RunMetadata = warnings.length > 0 ? { ...gapMetadata(analysis, decision), warnings } : gapMetadata(analysis, decision);
    return { ok: true, checked: { ...gathered, openAlerts, checkAlerts, meta } };
  } catch (e) {
    const error = toError(e);
    const mismatch = isSmartBackfillError(e) && e.detail === 'schedule_mismatch';
    g.log.error(mismatch ? 'schedule matches none of its rows; not running' : 'check failed; not running (no guessing)', {
      processor: g.name,
      date: r.date,
      runId: r.runId,
      error: error.message,
    });
    await record(r, 'failed', null, error.message, { decision: mismatch ? 'ScheduleMismatch' : 'CheckFailed' });
    return { ok: false, outcome: { _tag: 'Failed', error, stage: 'check', runId: r.runId } };
  }
};

/** Resolve the open alerts whose dates are all whole again (one `healed` notice each); a failure is a warning. */
const healWholeAlerts = async (r: Run, c: Checked): Promise<void> => {
  const { g } = r;
  if (g.alerting === undefined || c.openAlerts.length === 0) return;
  try {
    await healAlerts(g.alerting, c.openAlerts, c.analysis, await g.readOlderDates(c.openAlerts, c.analysis));
  } catch (e) {
    g.log.warn('could not resolve healed alerts', { processor: g.name, error: errorMessage(e) });
  }
};

/** Its own window is whole: check the dates it reads from its inputs, then run the processor. */
const proceed = async (r: Run, c: Checked, decision: Proceed): Promise<GuardOutcome> => {
  const { analysis, meta, warnings } = c;
  const held = await upstreamHold(r, c, meta);
  if (held !== undefined) return held;
  const out = await runInner(r, meta);
  if (!out.ok) return out.outcome;
  return warnings.length > 0
    ? { _tag: 'Ran', reason: decision.reason, result: out.result, analysis, warnings, runId: r.runId }
    : { _tag: 'Ran', reason: decision.reason, result: out.result, analysis, runId: r.runId };
};

/**
 * Hold the run, queue the missing dates (recorded before published: the outbox), record the
 * skip, and hand the run just held to resume when nothing new was queued.
 */
const holdAndQueue = async (r: Run, c: Checked, d: Backfill): Promise<GuardOutcome> => {
  const { g, date, runId } = r;
  const { analysis } = c;
  // Own dates whose inputs are missing or held are waited for (in flight), never backfilled from
  // incomplete inputs; what they read is requested on the inputs now, and its completion heals them.
  const asked = await askInputs(r, c);
  if (!asked.ok) return asked.outcome;
  const meta = asked.meta;
  // Hold before queueing: a backfill that finishes at once then finds the held run to resume.
  const held = d.holdRun
    ? await holdRun(r, c, d.toQueue.length > 0 ? 'backfill_queued' : 'waiting_for_backfill', analysis.missingDates)
    : undefined;
  let created: readonly BackfillRequest[] = [];
  let lost: readonly IsoDate[] = [];
  try {
    // Outbox: recorded before published. Dates another guard won meanwhile come back in `lost`.
    ({ created, lost } = await queueAutoBackfills(g.autoDeps, g.name, d.toQueue, {
      runDate: date,
      runId,
      critical: new Set(analysis.criticalMissing),
      // What the check read of these dates, for a store that builds on it instead of reading.
      seen: c.requests,
    }));
  } catch (e) {
    const error = toError(e);
    g.log.error(error.message, { processor: g.name, date, runId });
    // Nothing will complete for this hold to end on; the next scheduled run checks again.
    if (d.holdRun) await g.deps.runLog.release(g.name, date, 'cancelled', g.clock.now()).catch(() => false);
    await record(r, 'failed', null, error.message, { ...meta, queued: [], in_flight: d.inFlight });
    return { _tag: 'Failed', error, stage: 'check', runId };
  }
  const inFlight = [...d.inFlight, ...lost].sort();
  const queuedDates = created.map((x) => x.date);
  const bfMeta: RunMetadata = { ...meta, queued: queuedDates, in_flight: inFlight, request_ids: created.map((x) => x.requestId) };
  if (!d.holdRun) {
    const upHeld = await upstreamHold(r, c, bfMeta, { queued: created, inFlight });
    if (upHeld !== undefined) return upHeld;
    const out = await runInner(r, bfMeta);
    return out.ok
      ? { _tag: 'BackfillQueuedNotHeld', analysis, decision: d, queued: created, inFlight, result: out.result, runId }
      : out.outcome;
  }
  const skip: SkipReason = created.length > 0 ? 'backfill_queued' : 'waiting_for_backfill';
  await record(r, 'skipped', skip, null, bfMeta);
  if (created.length === 0 && r.trigger !== 'resume' && held !== undefined) await handToResume(r, held);
  return { _tag: 'Held', analysis, decision: d, queued: created, inFlight, runId };
};

/**
 * Request on the inputs what the own dates that wait for them read (`gather`'s `waiting`, not
 * those an own backfill is already coming for), and name what they wait for in the run's metadata.
 */
const askInputs = async (
  r: Run,
  c: Checked,
): Promise<{ readonly ok: true; readonly meta: RunMetadata } | { readonly ok: false; readonly outcome: GuardOutcome }> => {
  const { g, date, runId } = r;
  const dates = [...c.waiting].filter((x) => !c.summary.active.has(x));
  if (dates.length === 0) return { ok: true, meta: c.meta };
  let waits: UpstreamWait[];
  try {
    waits = await requestInputs(g.upstreamDeps, g.inputs, g.name, dates, runId);
  } catch (e) {
    const error = engineError('read_failed', `could not check the inputs of ${g.name}'s missing dates: ${errorMessage(e)}`, { cause: e });
    g.log.error('input check failed; not running (no guessing)', { processor: g.name, date, runId, error: error.message });
    await record(r, 'failed', null, error.message, { ...c.meta, decision: 'CheckFailed' });
    return { ok: false, outcome: { _tag: 'Failed', error, stage: 'check', runId } };
  }
  return { ok: true, meta: waits.length === 0 ? c.meta : { ...c.meta, [UPSTREAM_WAITS_KEY]: waits, waits: describeWaits(waits) } };
};

/** Open (or update) the gap's alert and tell a person once; hold the run unless the policy runs it anyway. */
const escalateGap = async (r: Run, c: Checked, decision: Escalate): Promise<GuardOutcome> => {
  const { g, date, runId } = r;
  const { analysis, summary } = c;
  const asked = await askInputs(r, c);
  if (!asked.ok) return asked.outcome;
  const meta = asked.meta;
  const failing =
    decision.reason === 'backfill_keeps_failing'
      ? decision.dates.map((d) => summary.lastError.get(d)).find((x) => x !== undefined)
      : undefined;
  let alertKey = '';
  let alerted = false;
  let told = false;
  let deliveryError: string | null = 'no alert channel is configured';
  if (g.alerting !== undefined) {
    try {
      ({ alertKey, alerted, told, deliveryError } = await escalate(
        g.alerting,
        c.openAlerts,
        analysis,
        decision,
        failing ?? null,
        c.checkAlerts,
      ));
    } catch (e) {
      // Not recorded, so nobody will be told by a retry either: say so plainly (exit 5, never
      // "a person was told"), and name the alert it would have opened, never an empty key.
      alertKey = alertKeyFor(g.name, decision.dates[0] ?? date);
      deliveryError = `could not record the escalation of ${decision.dates.join(', ')}: ${errorMessage(e)}`;
      g.log.error('could not record the escalation', { processor: g.name, date, error: errorMessage(e) });
    }
  } else {
    g.log.error('gap needs a person (no alerter configured)', {
      processor: g.name,
      date,
      reason: decision.reason,
      dates: decision.dates,
    });
  }
  const escMeta = {
    ...meta,
    escalated_dates: decision.dates,
    escalation_reason: decision.reason,
    alert_key: alertKey,
    alerted,
    alert_told: told,
    alert_delivery_error: deliveryError,
  };
  const esc = { _tag: 'Escalated', analysis, decision, alerted, told, deliveryError, alertKey, runId } as const;
  if (!decision.holdRun) {
    // Going ahead over an old gap still needs whole inputs; held for them, it stays escalated.
    const upHeld = await upstreamHold(r, c, escMeta);
    if (upHeld !== undefined) return upHeld._tag === 'Held' ? { ...esc, upstream: upHeld.upstream } : upHeld;
    const out = await runInner(r, escMeta);
    return out.ok ? { ...esc, result: out.result } : out.outcome;
  }
  await holdRun(r, c, 'gap_escalated', analysis.missingDates);
  await record(r, 'skipped', 'gap_escalated', null, escMeta);
  return esc;
};

/** Every path that runs the processor for a scheduled date looks upstream first. */
const upstreamHold = async (
  r: Run,
  c: Checked,
  metadata: RunMetadata,
  own?: { readonly queued: readonly BackfillRequest[]; readonly inFlight: readonly IsoDate[] },
): Promise<GuardOutcome | undefined> => {
  const { g } = r;
  if (g.inputs.length === 0) return undefined;
  return holdForUpstream(g.upstreamDeps, g.inputs, {
    name: g.name,
    date: r.date,
    runId: r.runId,
    analysis: c.analysis,
    meta: metadata,
    // Held as of the check's start: an input healed during the check still wakes it (`resumeHeldForInputs`
    // compares with `heldAt`), and status finds the record naming its gaps among the runs since `heldAt`.
    hold: async (reason: SkipReason, waitingFor: readonly IsoDate[]): Promise<void> => {
      await holdRun(r, c, reason, waitingFor, r.startedAt);
    },
    record: (outcome: RunOutcome, skipReason: SkipReason | null, error: string | null, m: RunMetadata) =>
      record(r, outcome, skipReason, error, m),
    ...own,
  });
};

/** Hold the run: the held run as recorded, or `undefined` when it could not be recorded. */
const holdRun = async (
  r: Run,
  c: Checked,
  reason: SkipReason,
  waitingFor: readonly IsoDate[],
  heldAt = r.g.clock.now(),
): Promise<HeldRun | undefined> => {
  const { g, date } = r;
  // What the check read of this run, for a store that builds on it instead of reading it again.
  const current = c.heldRuns === undefined ? undefined : (c.heldRuns.find((h) => h.runDate === date) ?? null);
  try {
    return await g.deps.runLog.hold({ processorName: g.name, runDate: date, heldAt, reason, waitingFor }, { current });
  } catch (e) {
    g.log.error('could not record the held run; it will not resume by itself', { processor: g.name, date, error: errorMessage(e) });
    return undefined;
  }
};

/**
 * What the run waits for may have completed between the check and the hold; then no worker
 * would come back for it, so look once here. The run is the one just held: handed over, not read back.
 */
const handToResume = async (r: Run, held: HeldRun): Promise<void> => {
  const { g, date } = r;
  await resumeHeldRuns(
    {
      tracker: g.deps.tracker,
      runLog: g.deps.runLog,
      clock: g.clock,
      guardFor: (n) => (n === g.name ? g.self() : undefined),
      logger: g.log,
    },
    g.name,
    { onlyRunDate: date, held: [held] },
  ).catch((e: unknown) => g.log.warn('resume re-check failed', { processor: g.name, date, error: errorMessage(e) }));
};
