import type { IsoDate } from '../iso-date.js';
import type { IncompleteDate } from '../gap-analysis.js';

export type AlertReason = 'gap_exceeds_threshold' | 'backfill_keeps_failing';

/** What a person is told. `escalated` opens, `reminder` repeats, `healed` closes. */
export interface AlertNotice {
  readonly kind: 'escalated' | 'reminder' | 'healed';
  /** Stable per (processor, gap): the same key opens, reminds and heals. */
  readonly alertKey: string;
  readonly processorName: string;
  readonly runDate: IsoDate;
  readonly reason: AlertReason;
  readonly missingDates: readonly IsoDate[];
  readonly absentDates: readonly IsoDate[];
  readonly incompleteDates: readonly IncompleteDate[];
  /** For `backfill_keeps_failing`: the last backfill error. */
  readonly lastError: string | null;
  /** The command that heals it, e.g. `smart-backfill backfill P --from 2025-11-03 --to 2025-11-07`. */
  readonly healCommand: string;
  readonly openedAt: number;
  readonly at: number;
  /** For `healed`: from opening to healing, ms. */
  readonly timeToRecoveryMs: number | null;
}

/**
 * A channel that reaches a person (log line, webhook, Slack). Dedupe is not its
 * job: the engine sends each notice once, using the `AlertLog`.
 */
export interface Alerter {
  /**
   * Deliver one notice. May throw; the guard catches, records the failure and
   * goes on — a broken channel never blocks or crashes a run. The caller stops
   * waiting at its delivery deadline and aborts `signal`: a channel should then
   * give up (cancel its request, skip its retries) rather than finish in the background.
   */
  send(notice: AlertNotice, options?: { readonly signal?: AbortSignal | undefined }): Promise<void>;
  /**
   * Channels that cannot deliver at all, one line each (say an unset secret:
   * `alerts[1].urlEnv: environment variable SLACK_WEBHOOK_URL is not set`). The
   * guard copies them into every run record so a broken channel is never silent.
   */
  readonly problems?: readonly string[] | undefined;
}

/** One open or closed alert, as the alert log stores it. */
export interface AlertRecord {
  readonly alertKey: string;
  readonly processorName: string;
  readonly reason: AlertReason;
  readonly runDate: IsoDate;
  readonly missingDates: readonly IsoDate[];
  readonly lastError: string | null;
  readonly openedAt: number;
  readonly updatedAt: number;
  /** When a notice was last delivered; `null` if none got through yet. */
  readonly lastSentAt: number | null;
  readonly sendCount: number;
  readonly resolvedAt: number | null;
  /**
   * Deliveries that failed since the last one that got through (0 once one
   * does). With `lastSendError` and `lastSendFailedAt`, what the worker needs
   * to retry an undelivered notice with backoff and what `status` shows.
   * Every alert log fills them; optional so a record built by hand (a report's
   * test data, say) may leave them out, read as 0 / `null`.
   */
  readonly sendFailures?: number | undefined;
  readonly lastSendError?: string | null | undefined;
  readonly lastSendFailedAt?: number | null | undefined;
  /**
   * The store's version of this record, where it keeps one (BigQuery's append-only tables), on
   * records a `CheckReader` or a change returned. A change given this record as `current`
   * builds on it instead of reading it again. Other stores leave it out.
   */
  readonly revision?: number | undefined;
}

/** See `AlertLog.upsertOpen`. */
export interface AlertChangeOptions {
  readonly current?: AlertRecord | null | undefined;
}

/**
 * Memory of alerts, so each gap reaches a person once while it stays open,
 * and a `healed` notice follows when it closes.
 */
export interface AlertLog {
  /**
   * Open the alert for `alertKey` or update the open one (dates, last error, run date).
   * `created` is true only for the one caller that opened it.
   *
   * Every change takes an optional `current`: the alert's record as the caller read or got it
   * moments ago (a check's `alerts`, the record an earlier change returned; `null`: none
   * existed). A store whose reads are costly may build on it instead of reading; a store that
   * changes a record in one atomic step ignores it.
   */
  upsertOpen(
    alert: Omit<
      AlertRecord,
      'updatedAt' | 'lastSentAt' | 'sendCount' | 'resolvedAt' | 'sendFailures' | 'lastSendError' | 'lastSendFailedAt' | 'revision'
    > & {
      readonly at: number;
    },
    options?: AlertChangeOptions,
  ): Promise<{ readonly created: boolean; readonly record: AlertRecord }>;
  /** Record a delivered notice (bumps `sendCount`, sets `lastSentAt`, clears `sendFailures` and `lastSendError`). */
  markSent(alertKey: string, at: number, options?: AlertChangeOptions): Promise<void>;
  /**
   * Record a notice that reached nobody (bumps `sendFailures`, sets
   * `lastSendError` and `lastSendFailedAt`). Like `markSent`, it marks the open
   * alert for the key, else the latest one (a `healed` notice fails after `resolve`).
   * A resolved alert keeps this history; `markSent` clears the count and error
   * (`lastSendFailedAt` stays, so one can tell a late success from a late failure).
   */
  markSendFailed(alertKey: string, at: number, error: string, options?: AlertChangeOptions): Promise<void>;
  /** Close an open alert; returns it, or `undefined` if it was not open (so only one caller sends `healed`). */
  resolve(alertKey: string, at: number, options?: AlertChangeOptions): Promise<AlertRecord | undefined>;
  /** Newest first. */
  list(query: { readonly processorName?: string | undefined; readonly openOnly?: boolean | undefined }): Promise<readonly AlertRecord[]>;
}
