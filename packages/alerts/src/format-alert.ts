import type { AlertNotice, AlertReason, IsoDate } from '@smart-backfill/core';
import { formatDateRanges } from './date-ranges.js';
import { formatDuration, formatInstant, isoInstant } from './duration.js';
import { healCommands } from './heal-commands.js';

/**
 * Everything a channel shows, as JSON-friendly snake_case fields. Log lines carry
 * them as is (so log-based metrics can filter on `kind`, `processor`, `alert_key`);
 * the generic webhook posts them; Slack renders them as Block Kit sections.
 */
export interface AlertFields {
  /** Constant, for log filters: `jsonPayload.event="smart_backfill.alert"`. */
  readonly event: 'smart_backfill.alert';
  readonly kind: AlertNotice['kind'];
  /** Stable per (processor, gap): opened, reminded and healed notices share it. */
  readonly alert_key: string;
  readonly processor: string;
  readonly run_date: IsoDate;
  readonly reason: AlertReason;
  /** Why it reached a person, in one sentence. */
  readonly reason_text: string;
  readonly missing_count: number;
  /** `Nov 3–7, Nov 12` */
  readonly missing_ranges: string;
  readonly missing_dates: readonly IsoDate[];
  /** Missing dates with no rows at all. */
  readonly absent_dates: readonly IsoDate[];
  /** Missing dates with some rows, fewer than the minimum. */
  readonly incomplete_dates: readonly { readonly date: IsoDate; readonly rows: number }[];
  /** The last backfill error (for `backfill_keeps_failing`), capped at 4000 characters. */
  readonly last_error: string | null;
  /** One command per contiguous range; empty for `healed`. */
  readonly heal_commands: readonly string[];
  /** ISO timestamps. */
  readonly opened_at: string | null;
  readonly at: string | null;
  /** How long the alert has been open at `at`. */
  readonly open_for_ms: number;
  readonly open_for: string;
  /** For `healed`: from opening to healing. */
  readonly time_to_recovery_ms: number | null;
  readonly time_to_recovery: string | null;
  /** A notice from `smart-backfill alert test` (its key starts with `test:`). */
  readonly test: boolean;
}

export interface FormattedAlert {
  /** One line, fit for a notification or a log summary. */
  readonly title: string;
  /** Plain text, several lines: what is missing, why a person is told, how to heal it. */
  readonly text: string;
  readonly fields: AlertFields;
}

/** Lists in the text stop here; the fields always hold every date. */
const MAX_RANGES = 20;
const MAX_INCOMPLETE = 10;
const MAX_ERROR_TEXT = 1_000;
const MAX_ERROR_FIELD = 4_000;

const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
const count = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Keys of test notices start with this (see `sampleNotice`). */
export const TEST_ALERT_KEY_PREFIX = 'test:';

const reasonText = (notice: AlertNotice, ranges: string): string => {
  switch (notice.reason) {
    case 'gap_exceeds_threshold':
      return `the gap (${count(notice.missingDates.length, 'missing date')}) is larger than the automatic backfill threshold, so nothing was queued: a person should decide before backfilling this much.`;
    case 'backfill_keeps_failing':
      return `the backfill of ${ranges || 'these dates'} failed too many times, so it is no longer re-queued automatically.`;
  }
};

const headline = (notice: AlertNotice, ranges: string): string => {
  const n = notice.missingDates.length;
  switch (notice.reason) {
    case 'gap_exceeds_threshold':
      return `${notice.processorName}: ${count(n, 'date')} missing (${ranges}), too many to backfill automatically`;
    case 'backfill_keeps_failing':
      return `${notice.processorName}: backfill of ${ranges || 'a missing date'} keeps failing`;
  }
};

/**
 * Turn a notice into what people read. Pure: same notice, same output (dates are
 * formatted in UTC with fixed English month names).
 */
export const formatAlert = (notice: AlertNotice): FormattedAlert => {
  const ref = { referenceDate: notice.runDate };
  const ranges = formatDateRanges(notice.missingDates, { ...ref, maxRanges: MAX_RANGES });
  const openForMs = Math.max(0, notice.at - notice.openedAt);
  const recoveryMs = notice.kind === 'healed' ? (notice.timeToRecoveryMs ?? openForMs) : notice.timeToRecoveryMs;
  const commands = healCommands(notice);
  const isTest = notice.alertKey.startsWith(TEST_ALERT_KEY_PREFIX);
  const why = reasonText(notice, ranges);
  const short = formatDateRanges(notice.missingDates, { ...ref, maxRanges: 3 });

  let title: string;
  switch (notice.kind) {
    case 'escalated':
      title = headline(notice, short);
      break;
    case 'reminder':
      title = `${headline(notice, short)} — still open after ${formatDuration(openForMs)}`;
      break;
    case 'healed':
      title = `Healed: ${notice.processorName} is whole again after ${formatDuration(recoveryMs ?? 0)}`;
      break;
  }
  if (isTest) title = `[TEST] ${title}`;

  const lines: string[] = [];
  if (isTest) lines.push('This is a test alert from `smart-backfill alert test`; nothing is wrong.');
  lines.push(`Processor: ${notice.processorName}`, `Run date: ${notice.runDate}`);
  if (notice.kind === 'healed') {
    lines.push(
      `Healed: ${ranges ? `the gap (${ranges})` : 'the gap'} has enough data again.`,
      `Time to recovery: ${formatDuration(recoveryMs ?? 0)} (opened ${formatInstant(notice.openedAt)}, healed ${formatInstant(notice.at)}).`,
    );
  } else {
    lines.push(`Missing: ${count(notice.missingDates.length, 'date')}${ranges ? ` — ${ranges}` : ''}`);
    if (notice.absentDates.length > 0) {
      lines.push(`  absent (no rows): ${formatDateRanges(notice.absentDates, { ...ref, maxRanges: MAX_RANGES })}`);
    }
    if (notice.incompleteDates.length > 0) {
      const shown = notice.incompleteDates
        .slice(0, MAX_INCOMPLETE)
        .map((i) => `${formatDateRanges([i.date], ref)} (${count(i.count, 'row')})`);
      const more = notice.incompleteDates.length - shown.length;
      lines.push(`  incomplete (too few rows): ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`);
    }
    lines.push(`Why: ${why}`);
    if (notice.lastError !== null && notice.lastError !== '') lines.push(`Last error: ${clip(notice.lastError, MAX_ERROR_TEXT)}`);
    if (commands.length > 0) {
      lines.push(
        commands.length === 1 ? 'Heal it with:' : 'Heal it with (one command per range):',
        ...commands.slice(0, MAX_RANGES).map((c) => `  ${c}`),
      );
      if (commands.length > MAX_RANGES) lines.push(`  … and ${commands.length - MAX_RANGES} more (all listed in the heal_commands field)`);
    }
    lines.push(
      notice.kind === 'reminder'
        ? `Open for ${formatDuration(openForMs)}, since ${formatInstant(notice.openedAt)}.`
        : `Opened ${formatInstant(notice.openedAt)}.`,
    );
  }
  lines.push(`Alert key: ${notice.alertKey}`);

  return {
    title,
    text: lines.join('\n'),
    fields: {
      event: 'smart_backfill.alert',
      kind: notice.kind,
      alert_key: notice.alertKey,
      processor: notice.processorName,
      run_date: notice.runDate,
      reason: notice.reason,
      reason_text: why,
      missing_count: notice.missingDates.length,
      missing_ranges: formatDateRanges(notice.missingDates, ref),
      missing_dates: [...notice.missingDates],
      absent_dates: [...notice.absentDates],
      incomplete_dates: notice.incompleteDates.map((i) => ({ date: i.date, rows: i.count })),
      last_error: notice.lastError === null ? null : clip(notice.lastError, MAX_ERROR_FIELD),
      heal_commands: commands,
      opened_at: isoInstant(notice.openedAt),
      at: isoInstant(notice.at),
      open_for_ms: openForMs,
      open_for: formatDuration(openForMs),
      time_to_recovery_ms: recoveryMs,
      time_to_recovery: recoveryMs === null ? null : formatDuration(recoveryMs),
      test: isTest,
    },
  };
};
