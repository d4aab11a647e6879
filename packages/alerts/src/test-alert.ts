import { addDays, utcDateOf, type AlertNotice, type Alerter, type IsoDate } from '@smart-backfill/core';
import { TEST_ALERT_KEY_PREFIX } from './format-alert.js';
import type { FanOutAlerter, FanOutReport } from './fan-out-alerter.js';

export interface SampleNoticeOptions {
  /** Default `example_processor`. */
  readonly processorName?: string | undefined;
  /** Epoch ms the sample is dated at. Default `Date.now()`. */
  readonly now?: number | undefined;
  readonly kind?: AlertNotice['kind'] | undefined;
}

/**
 * A realistic escalated notice (two ranges, absent and incomplete dates), marked
 * as a test through its `test:` key so every channel labels it "[TEST]".
 */
export const sampleNotice = (options: SampleNoticeOptions = {}): AlertNotice => {
  const now = options.now ?? Date.now();
  const processorName = options.processorName ?? 'example_processor';
  const runDate = utcDateOf(now);
  const d = (n: number): IsoDate => addDays(runDate, -n);
  const missingDates = [d(17), d(16), d(15), d(14), d(13), d(8)];
  const openedAt = now - 26 * 3_600_000;
  const kind = options.kind ?? 'escalated';
  return {
    kind,
    alertKey: `${TEST_ALERT_KEY_PREFIX}${processorName}:${runDate}`,
    processorName,
    runDate,
    reason: 'gap_exceeds_threshold',
    missingDates,
    absentDates: [d(17), d(16), d(15), d(8)],
    incompleteDates: [
      { date: d(14), count: 12 },
      { date: d(13), count: 40 },
    ],
    lastError: null,
    healCommand: `smart-backfill backfill ${processorName} --from ${d(17)} --to ${d(8)}`,
    openedAt: kind === 'escalated' ? now : openedAt,
    at: now,
    timeToRecoveryMs: kind === 'healed' ? now - openedAt : null,
  };
};

/**
 * What `smart-backfill alert test` does: send a sample notice through the
 * configured alerter and say which channels delivered. With a fan-out, each
 * channel is reported; with any other alerter, its one result.
 * Never rejects.
 */
export const sendTestAlert = async (
  alerter: Alerter,
  options: SampleNoticeOptions = {},
): Promise<{ readonly notice: AlertNotice; readonly report: FanOutReport }> => {
  const notice = sampleNotice(options);
  const fan = alerter as Partial<FanOutAlerter>;
  if (typeof fan.deliver === 'function') return { notice, report: await fan.deliver(notice) };
  const channel = (alerter as { name?: unknown }).name;
  const name = typeof channel === 'string' ? channel : 'alerter';
  try {
    await alerter.send(notice);
    return { notice, report: { delivered: [name], failed: [] } };
  } catch (e) {
    return { notice, report: { delivered: [], failed: [{ channel: name, error: e instanceof Error ? e : new Error(String(e)) }] } };
  }
};
