import type { AlertLog, AlertRecord } from './ports/alerter.js';

/** What `AlertLog.upsertOpen` is given. */
export type AlertOpening = Parameters<AlertLog['upsertOpen']>[0];

/**
 * How an alert record changes, once for every alert log: each store keeps the
 * records its own way (a map, a row, an event table) but builds them here, so
 * `markSent` clears a failure the same way everywhere.
 */
export const openedAlert = (a: AlertOpening): AlertRecord => ({
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
});

/** The open alert with the gap as a later run sees it (dates, reason, last error). */
export const updatedAlert = (cur: AlertRecord, a: AlertOpening): AlertRecord => ({
  ...cur,
  reason: a.reason,
  runDate: a.runDate,
  missingDates: [...a.missingDates],
  lastError: a.lastError,
  updatedAt: Math.max(cur.updatedAt, a.at),
});

/** A notice got through: counted, and any failure since the last one cleared. */
export const sentAlert = (cur: AlertRecord, at: number): AlertRecord => ({
  ...cur,
  lastSentAt: at,
  sendCount: cur.sendCount + 1,
  sendFailures: 0,
  lastSendError: null,
  updatedAt: Math.max(cur.updatedAt, at),
});

/** A notice reached nobody. */
export const sendFailedAlert = (cur: AlertRecord, at: number, error: string): AlertRecord => ({
  ...cur,
  sendFailures: (cur.sendFailures ?? 0) + 1,
  lastSendError: error,
  lastSendFailedAt: at,
  updatedAt: Math.max(cur.updatedAt, at),
});

export const resolvedAlert = (cur: AlertRecord, at: number): AlertRecord => ({
  ...cur,
  resolvedAt: at,
  updatedAt: Math.max(cur.updatedAt, at),
});
