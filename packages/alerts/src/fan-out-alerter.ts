import type { AlertNotice, Alerter } from '@smart-backfill/core';
import { AlertDeliveryError } from './errors.js';
import type { AlertsLogger } from './logger.js';
import type { NamedAlerter } from './named-alerter.js';

/** One channel that did not deliver. */
export interface ChannelFailure {
  readonly channel: string;
  readonly error: Error;
}

/** What happened to one notice across all channels. */
export interface FanOutReport {
  readonly delivered: readonly string[];
  readonly failed: readonly ChannelFailure[];
}

export interface FanOutOptions {
  /** Each channel failure is logged here (`warn`), with the channel name and error message. */
  readonly logger?: AlertsLogger | undefined;
  /** Called once per failed channel, after all channels settled. Exceptions it throws are ignored. */
  readonly onError?: ((failure: ChannelFailure, notice: AlertNotice) => void) | undefined;
  /**
   * Stop waiting for a channel after this long and count it as failed (its
   * request may still finish in the background). Bounds how long a guard can be
   * held up by a slow channel. Default: no limit (channels have their own timeouts).
   */
  readonly deadlineMs?: number | undefined;
  /**
   * `never` (default): `send` always resolves. `all-failed`: `send` rejects when
   * there was at least one channel and none delivered, so the engine leaves the
   * alert unmarked in its alert log and tries again on the next run.
   */
  readonly rejectWhen?: 'never' | 'all-failed' | undefined;
  /** Known-broken channels, one line each (e.g. an unset secret); exposed as `problems` for the guard's run records. */
  readonly problems?: readonly string[] | undefined;
}

export interface FanOutAlerter extends NamedAlerter {
  /** Channel names, in order (unnamed channels are `channel-1`, `channel-2`, …). */
  readonly channels: readonly string[];
  /** Send to every channel at once; resolves with who delivered and who failed. Never rejects. */
  deliver(notice: AlertNotice, signal?: AbortSignal): Promise<FanOutReport>;
  /** Channels that cannot deliver at all (from `FanOutOptions.problems`). */
  readonly problems: readonly string[];
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

const uniqueNames = (alerters: readonly Alerter[]): string[] => {
  const seen = new Map<string, number>();
  return alerters.map((a, i) => {
    const given = (a as Partial<NamedAlerter>).name;
    const base = typeof given === 'string' && given !== '' ? given : `channel-${i + 1}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  });
};

/**
 * Send each notice to several channels concurrently. A channel that throws,
 * rejects or hangs past `deadlineMs` is reported (logger, `onError`, the
 * `deliver` result) and never stops the others; by default `send` never
 * rejects, so a broken channel can neither block nor crash the guard.
 */
export const fanOutAlerter = (alerters: readonly Alerter[], options: FanOutOptions = {}): FanOutAlerter => {
  const channels = uniqueNames(alerters);

  const one = async (alerter: Alerter, channel: string, notice: AlertNotice, signal: AbortSignal | undefined): Promise<void> => {
    // `Promise.resolve().then` turns a synchronous throw into a rejection.
    const sending = Promise.resolve().then(() => alerter.send(notice, { signal }));
    const limit = options.deadlineMs;
    if (limit === undefined) return sending;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AlertDeliveryError(channel, `still sending after ${limit} ms; stopped waiting`, { retryable: true })),
        limit,
      );
    });
    sending.catch(() => undefined); // a late failure after the deadline is already reported
    try {
      return await Promise.race([sending, deadline]);
    } finally {
      clearTimeout(timer);
    }
  };

  const deliver = async (notice: AlertNotice, signal?: AbortSignal): Promise<FanOutReport> => {
    const settled = await Promise.allSettled(alerters.map((a, i) => one(a, channels[i]!, notice, signal)));
    const delivered: string[] = [];
    const failed: ChannelFailure[] = [];
    settled.forEach((s, i) => {
      const channel = channels[i]!;
      if (s.status === 'fulfilled') delivered.push(channel);
      else failed.push({ channel, error: asError(s.reason) });
    });
    for (const f of failed) {
      try {
        options.logger?.warn(`alert channel "${f.channel}" failed`, {
          channel: f.channel,
          alert_key: notice.alertKey,
          kind: notice.kind,
          error: f.error.message,
        });
      } catch {
        // a broken logger must not turn a channel failure into a guard failure
      }
      try {
        options.onError?.(f, notice);
      } catch {
        // same for the callback
      }
    }
    return { delivered, failed };
  };

  return {
    name: 'fan-out',
    channels,
    problems: options.problems ?? [],
    deliver,
    async send(notice, sendOptions) {
      const report = await deliver(notice, sendOptions?.signal);
      if (options.rejectWhen === 'all-failed' && report.failed.length > 0 && report.delivered.length === 0) {
        throw new AlertDeliveryError('fan-out', `no channel delivered: ${report.failed.map((f) => f.error.message).join('; ')}`, {
          retryable: true,
        });
      }
    },
  };
};
