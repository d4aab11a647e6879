import type { Alerter, AlertLog, AlertNotice, AlertRecord, Clock, Escalate, GapAnalysis, IsoDate } from '@smart-backfill/core';
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
      if (cur !== undefined && cur.resolvedAt === null) {
        const record: AlertRecord = {
          ...cur,
          reason: a.reason,
          runDate: a.runDate,
          missingDates: a.missingDates,
          lastError: a.lastError,
          updatedAt: a.at,
        };
        byKey.set(a.alertKey, record);
        return { created: false, record };
      }
      const { at, ...rest } = a;
      const record: AlertRecord = { ...rest, updatedAt: at, lastSentAt: null, sendCount: 0, resolvedAt: null };
      byKey.set(a.alertKey, record);
      return { created: true, record };
    },
    async markSent(key, at) {
      const cur = byKey.get(key);
      if (cur !== undefined)
        byKey.set(key, { ...cur, lastSentAt: at, sendCount: cur.sendCount + 1, updatedAt: Math.max(cur.updatedAt, at) });
    },
    async resolve(key, at) {
      const cur = byKey.get(key);
      if (cur === undefined || cur.resolvedAt !== null) return undefined;
      const done = { ...cur, resolvedAt: at, updatedAt: at };
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
}

/** A notice whose first send failed is retried after this long (not at once, so racing guards do not both send). */
const UNSENT_RETRY_MS = 60_000;

const send = async (deps: AlertingDeps, notice: AlertNotice): Promise<boolean> => {
  if (deps.alerter === undefined) return false;
  try {
    await deps.alerter.send(notice);
  } catch (e) {
    // A broken channel must never block the run; the alert stays unsent and is retried later.
    deps.logger.error('alert could not be sent', { alertKey: notice.alertKey, kind: notice.kind, error: errorMessage(e) });
    return false;
  }
  try {
    await deps.alertLog.markSent(notice.alertKey, notice.at);
  } catch (e) {
    deps.logger.warn('alert sent but not recorded as sent', { alertKey: notice.alertKey, error: errorMessage(e) });
  }
  return true;
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
  const known = (d: IsoDate): boolean =>
    (d >= analysis.windowStart && d <= analysis.windowEnd) || (older !== undefined && d >= older.start && d <= older.end);
  const stillMissing = (d: IsoDate): boolean => missing.has(d) || (older?.missing.has(d) ?? false);
  const healed: string[] = [];
  for (const a of open) {
    if (a.resolvedAt !== null || a.missingDates.length === 0) continue;
    if (!a.missingDates.every(known) || a.missingDates.some(stillMissing)) continue;
    const at = deps.clock.now();
    const closed = await deps.alertLog.resolve(a.alertKey, at);
    if (closed === undefined) continue;
    healed.push(a.alertKey);
    await send(deps, {
      kind: 'healed',
      alertKey: a.alertKey,
      processorName: deps.processorName,
      runDate: analysis.asOf,
      reason: a.reason,
      missingDates: a.missingDates,
      absentDates: [],
      incompleteDates: [],
      lastError: a.lastError,
      healCommand: healCommand(deps.processorName, a.missingDates),
      openedAt: a.openedAt,
      at,
      timeToRecoveryMs: at - a.openedAt,
    });
  }
  return healed;
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
): Promise<{ readonly alertKey: string; readonly alerted: boolean }> => {
  const dates = decision.dates;
  const first = dates[0] ?? analysis.asOf;
  const dateSet = new Set(dates);
  const overlapping = open.find((a) => a.resolvedAt === null && a.missingDates.some((d) => dateSet.has(d)));
  const alertKey = overlapping?.alertKey ?? alertKeyFor(deps.processorName, first);
  const allDates = overlapping === undefined ? dates : [...new Set([...overlapping.missingDates, ...dates])].sort();
  const now = deps.clock.now();
  const { created, record } = await deps.alertLog.upsertOpen({
    alertKey,
    processorName: deps.processorName,
    reason: decision.reason,
    runDate: analysis.asOf,
    missingDates: allDates,
    lastError: lastError ?? overlapping?.lastError ?? null,
    openedAt: now,
    at: now,
  });
  let kind: AlertNotice['kind'] | undefined;
  if (created) kind = 'escalated';
  else if (record.lastSentAt === null && now - record.openedAt >= UNSENT_RETRY_MS) kind = 'escalated';
  else if (record.lastSentAt !== null && deps.reminderIntervalMs !== undefined && now - record.lastSentAt >= deps.reminderIntervalMs)
    kind = 'reminder';
  if (kind === undefined) return { alertKey, alerted: false };
  const alerted = await send(deps, {
    kind,
    alertKey,
    runDate: analysis.asOf,
    reason: decision.reason,
    ...noticeBase(deps, analysis, allDates),
    lastError,
    openedAt: record.openedAt,
    at: now,
    timeToRecoveryMs: null,
  });
  return { alertKey, alerted };
};
