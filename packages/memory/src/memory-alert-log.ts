import type { AlertLog, AlertRecord, Clock } from '@smart-backfill/core';

export interface MemoryAlertLog extends AlertLog {
  all(): readonly AlertRecord[];
}

/**
 * Alerts in memory, one record per key (a key reopened after it was resolved
 * starts a new record). `upsertOpen` and `resolve` are atomic, so exactly one
 * caller sees `created: true` and one gets the resolved record back.
 */
export const memoryAlertLog = (_opts: { readonly clock?: Clock } = {}): MemoryAlertLog => {
  const byKey = new Map<string, AlertRecord>();
  const closed: AlertRecord[] = [];
  return {
    async upsertOpen(a) {
      const cur = byKey.get(a.alertKey);
      if (cur !== undefined && cur.resolvedAt === null) {
        const record: AlertRecord = {
          ...cur,
          reason: a.reason,
          runDate: a.runDate,
          missingDates: [...a.missingDates],
          lastError: a.lastError,
          updatedAt: Math.max(cur.updatedAt, a.at),
        };
        byKey.set(a.alertKey, record);
        return { created: false, record };
      }
      if (cur !== undefined) closed.push(cur);
      const record: AlertRecord = {
        alertKey: a.alertKey,
        processorName: a.processorName,
        reason: a.reason,
        runDate: a.runDate,
        missingDates: [...a.missingDates],
        lastError: a.lastError,
        openedAt: a.openedAt,
        updatedAt: a.at,
        lastSentAt: null,
        sendCount: 0,
        resolvedAt: null,
        sendFailures: 0,
        lastSendError: null,
        lastSendFailedAt: null,
      };
      byKey.set(a.alertKey, record);
      return { created: true, record };
    },
    async markSent(key, at) {
      const cur = byKey.get(key);
      if (cur === undefined) return;
      byKey.set(key, {
        ...cur,
        lastSentAt: at,
        sendCount: cur.sendCount + 1,
        sendFailures: 0,
        lastSendError: null,
        updatedAt: Math.max(cur.updatedAt, at),
      });
    },
    async markSendFailed(key, at, error) {
      const cur = byKey.get(key);
      if (cur === undefined) return;
      byKey.set(key, {
        ...cur,
        sendFailures: (cur.sendFailures ?? 0) + 1,
        lastSendError: error,
        lastSendFailedAt: at,
        updatedAt: Math.max(cur.updatedAt, at),
      });
    },
    async resolve(key, at) {
      const cur = byKey.get(key);
      if (cur === undefined || cur.resolvedAt !== null) return undefined;
      const done: AlertRecord = { ...cur, resolvedAt: at, updatedAt: Math.max(cur.updatedAt, at) };
      byKey.set(key, done);
      return done;
    },
    async list(q) {
      return [...closed, ...byKey.values()]
        .filter(
          (r) => (q.processorName === undefined || r.processorName === q.processorName) && (q.openOnly !== true || r.resolvedAt === null),
        )
        .sort((a, b) => b.openedAt - a.openedAt);
    },
    all: () => [...closed, ...byKey.values()],
  };
};
