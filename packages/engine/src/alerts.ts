import {
  openedAlert,
  resolvedAlert,
  sendFailedAlert,
  sentAlert,
  updatedAlert,
  type Alerter,
  type AlertLog,
  type AlertNotice,
  type AlertRecord,
  type Clock,
  type Escalate,
  type GapAnalysis,
  type IsoDate,
} from '@smart-backfill/core';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/** Stable per (processor, first missing date of the gap): a gap that keeps growing keeps one alert. */
export const alertKeyFor = (processorName: string, firstMissing: IsoDate): string => `${processorName}:${firstMissing}`;

/** The command a person runs to heal a gap. */
export const healCommand = (processorName: string, dates: readonly IsoDate[]): string => {
  const first = dates[0] ?? '';
  const last = dates[dates.length - 1] ?? first;
  return `smart-backfill backfill ${processorName} --from ${first} --to ${last}`;
};

/**
 * Used when the guard gets an alerter but no alert log: dedupes within this
 * process only (a restart alerts again). Durable stores provide a real `AlertLog`.
 */
export const processLocalAlertLog = (): AlertLog => {
  const byKey = new Map<string, AlertRecord>();
  return {
    async upsertOpen(a) {
      const cur = byKey.get(a.alertKey);
      const created = cur === undefined || cur.resolvedAt !== null;
      const record = created ? openedAlert(a) : updatedAlert(cur, a);
      byKey.set(a.alertKey, record);
      return { created, record };
    },
    async markSent(key, at) {
      const cur = byKey.get(key);
      if (cur !== undefined) byKey.set(key, sentAlert(cur, at));
    },
    async markSendFailed(key, at, error) {
      const cur = byKey.get(key);
      if (cur !== undefined) byKey.set(key, sendFailedAlert(cur, at, error));
    },
    async resolve(key, at) {
      const cur = byKey.get(key);
      if (cur === undefined || cur.resolvedAt !== null) return undefined;
      const done = resolvedAlert(cur, at);
      byKey.set(key, done);
      return done;
    },
    async list(q) {
      return [...byKey.values()]
        .filter(
          (r) => (q.processorName === undefined || r.processorName === q.processorName) && (q.openOnly !== true || r.resolvedAt === null),
        )
        .sort((a, b) => b.openedAt - a.openedAt);
    },
  };
};

export interface AlertingDeps {
  readonly processorName: string;
  readonly alertLog: AlertLog;
  readonly alerter: Alerter | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly reminderIntervalMs: number | undefined;
  /** The longest a send is waited for (ms). Default {@link DEFAULT_ALERT_DEADLINE_MS}. */
  readonly deadlineMs?: number | undefined;
}

/** A run waits this long at most for a notice to be delivered; then it goes on and the worker retries. */
export const DEFAULT_ALERT_DEADLINE_MS = 5_000;

/**
 * When an undelivered notice may be tried again: a minute after the alert
 * opened or the last failure (not at once, so racing guards do not both send),
 * doubling with each failure up to 30 minutes. The one rule for the guard and
 * the worker's retry pass.
 */
export const deliveryRetryDelayMs = (failures: number): number => Math.min(1_800_000, 60_000 * 2 ** Math.max(0, failures - 1));

/**
 * The notice an alert still owes a person, if its last one reached nobody: an
 * open alert never delivered (`escalated`), an open alert whose last delivery
 * failed after an earlier one got through (`reminder`), or a resolved alert
 * whose `healed` notice failed. The one rule for every notice the worker retries.
 */
export const undeliveredNotice = (a: AlertRecord): AlertNotice['kind'] | undefined => {
  const failedAt = a.lastSendFailedAt ?? null;
  const lastFailed = failedAt !== null && failedAt > (a.lastSentAt ?? -Infinity);
  if (a.resolvedAt === null) return a.lastSentAt === null ? 'escalated' : lastFailed ? 'reminder' : undefined;
  return lastFailed && failedAt >= a.resolvedAt ? 'healed' : undefined;
};

/** Whether an undelivered notice is due for another try at `now`. */
export const deliveryDue = (a: AlertRecord, now: number): boolean =>
  now - (a.lastSendFailedAt ?? a.openedAt) >= deliveryRetryDelayMs(a.sendFailures ?? 1);

type Sent = { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * Hand a notice to the alerter, waiting at most the deadline: past it the send
 * is aborted (its signal) and counted as failed. The outcome goes to the alert
 * log either way: delivered, or failed with the reason (so it is shown and retried).
 */
const send = async (deps: AlertingDeps, notice: AlertNotice, current?: AlertRecord): Promise<Sent> => {
  const alerter = deps.alerter;
  if (alerter === undefined) return { ok: false, error: 'no alert channel is configured' };
  const limit = deps.deadlineMs ?? DEFAULT_ALERT_DEADLINE_MS;
  const abort = new AbortController();
  const sending = Promise.resolve().then(() => alerter.send(notice, { signal: abort.signal }));
  sending.catch(() => undefined); // a failure after the deadline is already counted
  // Wall time, not the injected clock: delivery is real I/O, and a test clock's `sleep` may return at once.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no channel confirmed delivery within ${limit} ms; stopped waiting`)), limit);
  });
  let failure: string | undefined;
  try {
    await Promise.race([sending, deadline]);
  } catch (e) {
    failure = errorMessage(e);
    abort.abort(new Error(failure));
  } finally {
    clearTimeout(timer);
  }
  if (failure !== undefined) {
    // A broken channel must never block the run; the alert stays undelivered and is retried.
    deps.logger.error('alert could not be sent', { alertKey: notice.alertKey, kind: notice.kind, error: failure });
    try {
      await deps.alertLog.markSendFailed(notice.alertKey, deps.clock.now(), failure, { current });
    } catch (e) {
      deps.logger.warn('alert delivery failure not recorded', { alertKey: notice.alertKey, error: errorMessage(e) });
    }
    return { ok: false, error: failure };
  }
  try {
    await deps.alertLog.markSent(notice.alertKey, notice.at, { current });
  } catch (e) {
    deps.logger.warn('alert sent but not recorded as sent', { alertKey: notice.alertKey, error: errorMessage(e) });
  }
  return { ok: true };
};

const noticeBase = (deps: AlertingDeps, analysis: GapAnalysis, dates: readonly IsoDate[]) => {
  const set = new Set(dates);
  return {
    processorName: deps.processorName,
    missingDates: dates,
    absentDates: analysis.absentDates.filter((d) => set.has(d)),
    incompleteDates: analysis.incompleteDates.filter((d) => set.has(d.date)),
    healCommand: healCommand(deps.processorName, dates),
  };
};

/**
 * What the guard knows about dates before its lookback window: an open alert can
 * name dates that slid out of the window while it stayed open. The guard reads
 * them (one extra read, only then) so healing is judged against every date.
 */
export interface OlderDates {
  readonly start: IsoDate;
  readonly end: IsoDate;
  readonly missing: ReadonlySet<IsoDate>;
}

/**
 * Open alerts of this processor whose every date now has its data are resolved
 * and a `healed` notice goes out (once: `resolve` has one winner). An alert is
 * judged only when every one of its dates was read — in the window or in
 * `older` — and the run is not older than the gap: a resumed run for an older
 * date cannot heal a newer gap it does not see.
 */
export const healAlerts = async (
  deps: AlertingDeps,
  open: readonly AlertRecord[],
  analysis: GapAnalysis,
  older?: OlderDates,
): Promise<readonly string[]> => {
  const missing = new Set(analysis.missingDates);
  return healWhere(deps, open, {
    known: (d) => (d >= analysis.windowStart && d <= analysis.windowEnd) || (older !== undefined && d >= older.start && d <= older.end),
    stillMissing: (d) => missing.has(d) || (older?.missing.has(d) ?? false),
    runDate: analysis.asOf,
  });
};

/** The healing rule itself: every date read, none still missing → resolve (one winner) and send `healed`. */
const healWhere = async (
  deps: AlertingDeps,
  open: readonly AlertRecord[],
  view: { readonly known: (d: IsoDate) => boolean; readonly stillMissing: (d: IsoDate) => boolean; readonly runDate?: IsoDate },
): Promise<readonly string[]> => {
  const healed: string[] = [];
  for (const a of open) {
    if (a.resolvedAt !== null || a.missingDates.length === 0) continue;
    if (!a.missingDates.every(view.known) || a.missingDates.some(view.stillMissing)) continue;
    const at = deps.clock.now();
    // `a` is the record just read: a store may build on it instead of reading it again.
    const closed = await deps.alertLog.resolve(a.alertKey, at, { current: a });
    if (closed === undefined) continue;
    healed.push(a.alertKey);
    await send(deps, healedNotice(deps, a, at, view.runDate ?? a.runDate), closed);
  }
  return healed;
};

/** A notice about a stored alert, as the record has it (no fresh window analysis at hand). */
const noticeOf = (
  deps: AlertingDeps,
  a: AlertRecord,
  kind: AlertNotice['kind'],
  at: number,
  runDate: IsoDate = a.runDate,
): AlertNotice => ({
  kind,
  alertKey: a.alertKey,
  processorName: deps.processorName,
  runDate,
  reason: a.reason,
  missingDates: a.missingDates,
  absentDates: [],
  incompleteDates: [],
  lastError: a.lastError,
  healCommand: healCommand(deps.processorName, a.missingDates),
  openedAt: a.openedAt,
  at,
  timeToRecoveryMs: kind === 'healed' ? (a.resolvedAt ?? at) - a.openedAt : null,
});

const healedNotice = (deps: AlertingDeps, a: AlertRecord, at: number, runDate: IsoDate): AlertNotice =>
  noticeOf(deps, a, 'healed', at, runDate);

/**
 * Alert work between runs, for the worker: a manual heal closes its alert when
 * the backfill lands (not at the next scheduled run), and a notice that reached
 * nobody is tried again with backoff (not only when a run happens to escalate again).
 */
export interface AlertUpkeep {
  /** Resolve open alerts whose every date now has its data (reading their dates), and send `healed`. Returns the keys healed. */
  healOpen(): Promise<readonly string[]>;
  /**
   * Send again, when due, every notice of this processor that reached nobody
   * (`undeliveredNotice`: escalated, reminder or healed). One pass at a time per
   * guard: a call while a pass is sending returns at once, empty.
   */
  retryDeliveries(): Promise<{ readonly delivered: readonly string[]; readonly failed: readonly string[] }>;
}

/**
 * `readMissing(start, end)` answers which expected dates in that range are below
 * the minimum: the guard's own window read and rule, so healing here agrees with a run.
 */
export const alertUpkeep = (
  deps: AlertingDeps,
  readMissing: (start: IsoDate, end: IsoDate) => Promise<ReadonlySet<IsoDate>>,
): AlertUpkeep => {
  /**
   * The retry pass in flight, if any. Every worker slot of a process calls
   * `retryDeliveries` on the same guard; without this, two slots could read the
   * same due alert before either recorded its send, and deliver it twice at once.
   * Across processes only the per-alert backoff spaces the tries (see docs/alerts.md).
   */
  let retrying = false;
  const retryPass = async (): Promise<{ readonly delivered: readonly string[]; readonly failed: readonly string[] }> => {
    const delivered: string[] = [];
    const failed: string[] = [];
    if (deps.alerter === undefined) return { delivered, failed };
    const now = deps.clock.now();
    for (const a of await deps.alertLog.list({ processorName: deps.processorName })) {
      const kind = undeliveredNotice(a);
      if (kind === undefined || !deliveryDue(a, now)) continue;
      const notice = noticeOf(deps, a, kind, now);
      const r = await send(deps, notice);
      (r.ok ? delivered : failed).push(a.alertKey);
    }
    return { delivered, failed };
  };
  return {
    async healOpen() {
      const open = await deps.alertLog.list({ processorName: deps.processorName, openOnly: true });
      const dates = open.flatMap((a) => a.missingDates).sort();
      const start = dates[0];
      const end = dates[dates.length - 1];
      if (start === undefined || end === undefined) return [];
      const missing = await readMissing(start, end);
      return healWhere(deps, open, { known: (d) => d >= start && d <= end, stillMissing: (d) => missing.has(d) });
    },
    async retryDeliveries() {
      // A pass is already sending: it reports what it delivers; this caller has nothing to add.
      if (retrying) return { delivered: [], failed: [] };
      retrying = true;
      try {
        return await retryPass();
      } finally {
        retrying = false;
      }
    },
  };
};

/**
 * Record the escalation and tell a person once per open alert: on opening,
 * again when the first send failed, and as a reminder every `reminderIntervalMs`.
 * An open alert whose dates overlap this gap keeps its key (one alert per outage)
 * and keeps every date it ever named while open: a later escalation for fewer
 * dates (the reason switching from `gap_exceeds_threshold` to
 * `backfill_keeps_failing`, say) updates reason and error but never drops a date,
 * so the alert heals only when all of them have data — never while a date a
 * person was told about is still missing.
 */
export const escalate = async (
  deps: AlertingDeps,
  open: readonly AlertRecord[],
  analysis: GapAnalysis,
  decision: Escalate,
  lastError: string | null,
  /**
   * Every alert a `CheckReader` returned (open ones and resolved ones naming a window date):
   * the alert this escalation opens or updates is among them if it exists, so its change
   * builds on that record. `undefined`: not known, the alert log reads it.
   */
  known?: readonly AlertRecord[],
): Promise<{ readonly alertKey: string; readonly alerted: boolean; readonly told: boolean; readonly deliveryError: string | null }> => {
  const dates = decision.dates;
  const first = dates[0] ?? analysis.asOf;
  const dateSet = new Set(dates);
  const overlapping = open.find((a) => a.resolvedAt === null && a.missingDates.some((d) => dateSet.has(d)));
  const alertKey = overlapping?.alertKey ?? alertKeyFor(deps.processorName, first);
  const allDates = overlapping === undefined ? dates : [...new Set([...overlapping.missingDates, ...dates])].sort();
  const now = deps.clock.now();
  const current = known === undefined ? undefined : (known.find((a) => a.alertKey === alertKey) ?? null);
  const { created, record } = await deps.alertLog.upsertOpen(
    {
      alertKey,
      processorName: deps.processorName,
      reason: decision.reason,
      runDate: analysis.asOf,
      missingDates: allDates,
      lastError: lastError ?? overlapping?.lastError ?? null,
      openedAt: now,
      at: now,
    },
    { current },
  );
  let kind: AlertNotice['kind'] | undefined;
  if (created) kind = 'escalated';
  else if (record.lastSentAt === null && deliveryDue(record, now)) kind = 'escalated';
  else if (record.lastSentAt !== null && deps.reminderIntervalMs !== undefined && now - record.lastSentAt >= deps.reminderIntervalMs)
    kind = 'reminder';
  const toldBefore = record.lastSentAt !== null;
  if (kind === undefined) {
    const pending = toldBefore ? null : (record.lastSendError ?? 'an earlier delivery has not got through yet');
    return { alertKey, alerted: false, told: toldBefore, deliveryError: pending };
  }
  const sent = await send(
    deps,
    {
      kind,
      alertKey,
      runDate: analysis.asOf,
      reason: decision.reason,
      ...noticeBase(deps, analysis, allDates),
      lastError,
      openedAt: record.openedAt,
      at: now,
      timeToRecoveryMs: null,
    },
    record,
  );
  return sent.ok
    ? { alertKey, alerted: true, told: true, deliveryError: null }
    : { alertKey, alerted: false, told: toldBefore, deliveryError: sent.error };
};
