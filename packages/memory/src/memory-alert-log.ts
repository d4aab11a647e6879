import {
  openedAlert,
  resolvedAlert,
  sendFailedAlert,
  sentAlert,
  updatedAlert,
  type AlertLog,
  dateProblem,
  nonEmptyProblem,
  type AlertRecord,
  type Clock,
} from '@smart-backfill/core';
import { check } from './check.js';

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
      check(nonEmptyProblem, a.alertKey, 'alertKey');
      check(dateProblem, a.runDate, 'runDate');
      a.missingDates.forEach((d, i) => check(dateProblem, d, `missingDates[${i}]`));
      const cur = byKey.get(a.alertKey);
      if (cur !== undefined && cur.resolvedAt === null) {
        const record = updatedAlert(cur, a);
        byKey.set(a.alertKey, record);
        return { created: false, record };
      }
      if (cur !== undefined) closed.push(cur);
      const record = openedAlert(a);
      byKey.set(a.alertKey, record);
      return { created: true, record };
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
      return [...closed, ...byKey.values()]
        .filter(
          (r) => (q.processorName === undefined || r.processorName === q.processorName) && (q.openOnly !== true || r.resolvedAt === null),
        )
        .sort((a, b) => b.openedAt - a.openedAt);
    },
    all: () => [...closed, ...byKey.values()],
  };
};
