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
  type Decision,
  type GapAnalysis,
  type GapPolicy,
  type IsoDate,
  type RunMetadata,
  type RunOutcome,
  type RunTrigger,
  type ScheduleDiagnosis,
  type SkipReason,
  type WindowData,
  type WindowQuery,
  type WindowReader,
} from '@smart-backfill/core';
import { queueAutoBackfills, type AutoBackfillDeps } from './auto-backfills.js';
import { alertKeyFor, alertUpkeep, escalate, healAlerts, processLocalAlertLog, type AlertingDeps, type OlderDates } from './alerts.js';
import { summarizeFailures } from './failures.js';
import { engineError, errorMessage, toError } from './errors.js';
import { brandOutcome, type CheckReport, type GuardDeps, type GuardedProcessor, type GuardOutcome } from './guard-types.js';
import { silentLogger } from './logger.js';
import type { Processor, RunOptions } from './processor.js';
import { resumeHeldRuns } from './resume.js';
import { holdForUpstream, waitForHeldDates, type UpstreamDeps } from './upstream.js';

export { alertKeyFor, healCommand } from './alerts.js';

/** `DEFAULT_POLICY` overlaid with `partial`; throws a `SmartBackfillError` naming every bad field. */
export const resolvePolicy = (partial: Partial<GapPolicy> | undefined): GapPolicy => {
  const defined = Object.fromEntries(Object.entries(partial ?? {}).filter(([, v]) => v !== undefined));
  const r = validatePolicy(defined, DEFAULT_POLICY);
  if (r._tag === 'Err') throw engineError('invalid_config', `invalid policy: ${r.error.map(formatPolicyProblem).join('; ')}`);
  return r.value;
};

const isWindowReader = (w: GuardDeps['window']): w is WindowReader => typeof (w as Partial<WindowReader>).readWindow === 'function';

interface Gathered {
  readonly analysis: GapAnalysis;
  readonly decision: Decision;
  readonly summary: Summary;
  readonly warnings: readonly string[];
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
    const [expectedDates, recordCounts] = await Promise.all([deps.window.schedule.expectedDates(q), deps.window.target.recordCounts(q)]);
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

  /** One window read and one tracker read, in parallel; then pure analysis. */
  const gather = async (date: IsoDate): Promise<Gathered> => {
    const q: WindowQuery = { processorName: name, start: addDays(date, -policy.lookbackDays), end: addDays(date, -1) };
    let data: WindowData;
    let requests: readonly BackfillRequest[];
    try {
      [data, requests] = await Promise.all([readWindow(q), deps.tracker.forWindow(q)]);
    } catch (e) {
      throw engineError('read_failed', `could not check ${name} for ${date} (window ${q.start}..${q.end}): ${errorMessage(e)}`, {
        cause: e,
      });
    }
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
    const decision = decide(analysis, policy, { activeRequests: summary.active.keys(), failedAttempts: summary.failedAttempts });
    return { analysis, decision, summary, warnings };
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
    return {
      processorName: name,
      date,
      analysis,
      decision,
      wouldQueue: decision._tag === 'Backfill' ? decision.toQueue : [],
      inFlight: decision._tag === 'Backfill' ? decision.inFlight : [...summary.active.keys()].filter((d) => missing.has(d)).sort(),
      wouldHold: decision._tag !== 'Proceed' && decision.holdRun,
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

  const run = async (opts: RunOptions): Promise<GuardOutcome> => {
    const runId = ids();
    const startedAt = clock.now();
    const isBackfill = opts.isBackfill === true;
    const trigger: RunTrigger = opts.trigger ?? (isBackfill ? 'backfill' : 'scheduled');
    const date = opts.date;

    const record = async (
      outcome: RunOutcome,
      skipReason: SkipReason | null,
      error: string | null,
      metadata: RunMetadata,
    ): Promise<void> => {
      const finishedAt = clock.now();
      try {
        await deps.runLog.append({
          runId,
          processorName: name,
          runDate: date,
          trigger,
          isBackfill,
          outcome,
          skipReason,
          errorMessage: error,
          startedAt,
          finishedAt,
          durationMs: finishedAt - startedAt,
          metadata: {
            ...metadata,
            ...(opts.requestId === undefined ? {} : { request_id: opts.requestId }),
            ...(alertProblems.length === 0 ? {} : { alert_channel_problems: alertProblems }),
          },
        });
      } catch (e) {
        // The outcome stands; losing one monitoring row must not turn a good run into a failure.
        log.error('could not append run record', { processor: name, date, runId, error: errorMessage(e) });
      }
    };

    /**
     * Run the wrapped processor; a throw is a `Failed` outcome, recorded. `verify`, when
     * given, runs after a success and turns it into a failure when it returns an error.
     */
    const runInner = async (
      metadata: RunMetadata,
      verify?: () => Promise<Error | RunMetadata>,
    ): Promise<{ ok: true; result: unknown } | { ok: false; outcome: GuardOutcome }> => {
      const failed = async (error: Error): Promise<{ ok: false; outcome: GuardOutcome }> => {
        log.warn('processor failed', { processor: name, date, runId, error: error.message });
        await record('failed', null, error.message, metadata);
        return { ok: false, outcome: { _tag: 'Failed', error, stage: 'run', runId } };
      };
      let result: unknown;
      try {
        result = await processor.run({ ...opts, trigger });
      } catch (e) {
        return failed(toError(e));
      }
      const checked = verify === undefined ? {} : await verify();
      if (checked instanceof Error) return failed(checked);
      await record('succeeded', null, null, { ...metadata, ...checked });
      return { ok: true, result };
    };

    if (isBackfill) {
      // The seed's bypass: a backfill must not wait for itself. Its date is re-counted after.
      const r = await runInner({ decision: 'Proceed:is_backfill' }, () => verifyFilled(date));
      return r.ok ? { _tag: 'Ran', reason: 'is_backfill', result: r.result, runId } : r.outcome;
    }

    let g: Gathered;
    let openAlerts: readonly AlertRecord[] = [];
    try {
      const alertsRead = alerting === undefined ? Promise.resolve([]) : alerting.alertLog.list({ processorName: name, openOnly: true });
      [g, openAlerts] = await Promise.all([
        gather(date),
        alertsRead.catch((e: unknown) => {
          log.warn('could not read open alerts', { processor: name, error: errorMessage(e) });
          return [] as readonly AlertRecord[];
        }),
      ]);
    } catch (e) {
      const error = toError(e);
      const mismatch = isSmartBackfillError(e) && e.detail === 'schedule_mismatch';
      log.error(mismatch ? 'schedule matches none of its rows; not running' : 'check failed; not running (no guessing)', {
        processor: name,
        date,
        runId,
        error: error.message,
      });
      await record('failed', null, error.message, { decision: mismatch ? 'ScheduleMismatch' : 'CheckFailed' });
      return { _tag: 'Failed', error, stage: 'check', runId };
    }
    const { analysis, decision, summary, warnings } = g;
    const meta: RunMetadata = warnings.length > 0 ? { ...gapMetadata(analysis, decision), warnings } : gapMetadata(analysis, decision);

    if (alerting !== undefined && openAlerts.length > 0) {
      try {
        await healAlerts(alerting, openAlerts, analysis, await readOlderDates(openAlerts, analysis));
      } catch (e) {
        log.warn('could not resolve healed alerts', { processor: name, error: errorMessage(e) });
      }
    }

    switch (decision._tag) {
      case 'Proceed': {
        // Its own window is whole; now the dates it reads from the processors it depends on.
        if (deps.upstream !== undefined && deps.upstream.length > 0) {
          // Held as of the check's start: an input healed during the check still wakes it (`resumeHeldForInputs`
          // compares with `heldAt`), and status finds the record naming its gaps among the runs since `heldAt`.
          const hold = (reason: SkipReason, waitingFor: readonly IsoDate[]): Promise<void> => holdRun(reason, waitingFor, startedAt);
          const ctx = { name, date, runId, analysis, meta, hold, record };
          const held = await holdForUpstream(upstreamDeps, deps.upstream, ctx);
          if (held !== undefined) return held;
        }
        const r = await runInner(meta);
        if (!r.ok) return r.outcome;
        return warnings.length > 0
          ? { _tag: 'Ran', reason: decision.reason, result: r.result, analysis, warnings, runId }
          : { _tag: 'Ran', reason: decision.reason, result: r.result, analysis, runId };
      }
      case 'Backfill':
        return backfill(decision);
      case 'Escalate': {
        const failing =
          decision.reason === 'backfill_keeps_failing'
            ? decision.dates.map((d) => summary.lastError.get(d)).find((x) => x !== undefined)
            : undefined;
        let alertKey = '';
        let alerted = false;
        let told = false;
        let deliveryError: string | null = 'no alert channel is configured';
        if (alerting !== undefined) {
          try {
            ({ alertKey, alerted, told, deliveryError } = await escalate(alerting, openAlerts, analysis, decision, failing ?? null));
          } catch (e) {
            // Not recorded, so nobody will be told by a retry either: say so plainly (exit 5, never
            // "a person was told"), and name the alert it would have opened, never an empty key.
            alertKey = alertKeyFor(name, decision.dates[0] ?? date);
            deliveryError = `could not record the escalation of ${decision.dates.join(', ')}: ${errorMessage(e)}`;
            log.error('could not record the escalation', { processor: name, date, error: errorMessage(e) });
          }
        } else {
          log.error('gap needs a person (no alerter configured)', {
            processor: name,
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
          const r = await runInner(escMeta);
          return r.ok ? { ...esc, result: r.result } : r.outcome;
        }
        await holdRun('gap_escalated', analysis.missingDates);
        await record('skipped', 'gap_escalated', null, escMeta);
        return esc;
      }
    }

    async function holdRun(reason: SkipReason, waitingFor: readonly IsoDate[], heldAt = clock.now()): Promise<void> {
      try {
        await deps.runLog.hold({ processorName: name, runDate: date, heldAt, reason, waitingFor });
      } catch (e) {
        log.error('could not record the held run; it will not resume by itself', { processor: name, date, error: errorMessage(e) });
      }
    }

    async function backfill(decided: Backfill): Promise<GuardOutcome> {
      // Own dates held for their inputs are waited for, never backfilled from incomplete inputs.
      const d = deps.upstream !== undefined && deps.upstream.length > 0 ? await waitForHeldDates(deps.runLog, name, decided) : decided;
      // Hold before queueing: a backfill that finishes at once then finds the held run to resume.
      if (d.holdRun) await holdRun(d.toQueue.length > 0 ? 'backfill_queued' : 'waiting_for_backfill', analysis.missingDates);
      let created: readonly BackfillRequest[] = [];
      let lost: readonly IsoDate[] = [];
      try {
        // Outbox: recorded before published. Dates another guard won meanwhile come back in `lost`.
        ({ created, lost } = await queueAutoBackfills(autoDeps, name, d.toQueue, {
          runDate: date,
          runId,
          critical: new Set(analysis.criticalMissing),
        }));
      } catch (e) {
        const error = toError(e);
        log.error(error.message, { processor: name, date, runId });
        // Nothing will complete for this hold to end on; the next scheduled run checks again.
        if (d.holdRun) await deps.runLog.release(name, date, 'cancelled', clock.now()).catch(() => false);
        await record('failed', null, error.message, { ...meta, queued: [], in_flight: d.inFlight });
        return { _tag: 'Failed', error, stage: 'check', runId };
      }
      const inFlight = [...d.inFlight, ...lost].sort();
      const queuedDates = created.map((r) => r.date);
      const bfMeta: RunMetadata = { ...meta, queued: queuedDates, in_flight: inFlight, request_ids: created.map((r) => r.requestId) };
      if (!d.holdRun) {
        const r = await runInner(bfMeta);
        return r.ok
          ? { _tag: 'BackfillQueuedNotHeld', analysis, decision: d, queued: created, inFlight, result: r.result, runId }
          : r.outcome;
      }
      const skip: SkipReason = created.length > 0 ? 'backfill_queued' : 'waiting_for_backfill';
      await record('skipped', skip, null, bfMeta);
      if (created.length === 0 && trigger !== 'resume') {
        // What we wait for may have completed between our read and our hold; then no worker
        // would come back for this run, so look once ourselves.
        await resumeHeldRuns(
          { tracker: deps.tracker, runLog: deps.runLog, clock, guardFor: (n) => (n === name ? guarded : undefined), logger: log },
          name,
          {
            onlyRunDate: date,
          },
        ).catch((e: unknown) => log.warn('resume re-check failed', { processor: name, date, error: errorMessage(e) }));
      }
      return { _tag: 'Held', analysis, decision: d, queued: created, inFlight, runId };
    }
  };

  const alerts = alerting === undefined ? undefined : alertUpkeep(alerting, missingIn);
  const guarded: GuardedProcessor = {
    name,
    run: async (o) => brandOutcome(await run(o)),
    check,
    verifyFilled,
    inner: processor,
    policy,
    alerts,
  };
  return guarded;
};
