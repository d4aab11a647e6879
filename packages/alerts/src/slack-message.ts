import type { AlertNotice } from '@smart-backfill/core';
import { formatDateRanges } from './date-ranges.js';
import { formatAlert, type FormattedAlert } from './format-alert.js';
import { formatInstant } from './duration.js';

/** A Block Kit block, as much of it as we send. */
export type SlackBlock =
  | { readonly type: 'section'; readonly text: SlackText; readonly fields?: readonly SlackText[] }
  | { readonly type: 'section'; readonly fields: readonly SlackText[] }
  | { readonly type: 'context'; readonly elements: readonly SlackText[] };

export interface SlackText {
  readonly type: 'mrkdwn';
  readonly text: string;
}

/** What a Slack incoming webhook (or `chat.postMessage`) accepts. */
export interface SlackMessage {
  /** Fallback shown in notifications and by clients without blocks. */
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

// Slack rejects section text over 3000 and field text over 2000 characters.
const SECTION_MAX = 3_000;
const FIELD_MAX = 2_000;

const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** mrkdwn control characters; Slack asks for exactly these three escapes. */
export const escapeMrkdwn = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A code block; backticks inside would end it early, so they become look-alikes. */
const code = (s: string): string => `\`\`\`${escapeMrkdwn(s).replace(/```/g, 'ˋˋˋ')}\`\`\``;

const md = (text: string, max = SECTION_MAX): SlackText => ({ type: 'mrkdwn', text: clip(text, max) });
const section = (text: string): SlackBlock => ({ type: 'section', text: md(text) });

const EMOJI: Record<AlertNotice['kind'], string> = {
  escalated: ':rotating_light:',
  reminder: ':alarm_clock:',
  healed: ':white_check_mark:',
};

const REASON: Record<AlertNotice['reason'], string> = {
  gap_exceeds_threshold: 'Gap over the auto-backfill threshold',
  backfill_keeps_failing: 'Backfill keeps failing',
};

/**
 * The notice as a Slack message: a headline, a few fields, the missing dates
 * (absent vs incomplete), why it needs a person, the heal commands in a code
 * block, and a context line with the alert key. Everything dynamic is escaped.
 */
export const slackMessage = (notice: AlertNotice, formatted: FormattedAlert = formatAlert(notice)): SlackMessage => {
  const f = formatted.fields;
  const ref = { referenceDate: notice.runDate, maxRanges: 20 };
  const blocks: SlackBlock[] = [section(`${EMOJI[notice.kind]} *${escapeMrkdwn(formatted.title)}*`)];
  if (f.test) blocks.push(section('_This is a test alert from `smart-backfill alert test`; nothing is wrong._'));

  const fields: SlackText[] = [
    md(`*Processor*\n\`${escapeMrkdwn(notice.processorName)}\``, FIELD_MAX),
    md(`*Run date*\n${notice.runDate}`, FIELD_MAX),
    md(`*Missing*\n${f.missing_count} ${f.missing_count === 1 ? 'date' : 'dates'}`, FIELD_MAX),
    md(
      notice.kind === 'healed' ? `*Time to recovery*\n${f.time_to_recovery ?? 'unknown'}` : `*Reason*\n${REASON[notice.reason]}`,
      FIELD_MAX,
    ),
  ];
  blocks.push({ type: 'section', fields });

  if (notice.kind === 'healed') {
    blocks.push(
      section(`The gap${f.missing_ranges ? ` (${escapeMrkdwn(formatDateRanges(notice.missingDates, ref))})` : ''} has enough data again.`),
    );
  } else {
    const lines = [`*Missing dates:* ${escapeMrkdwn(formatDateRanges(notice.missingDates, ref)) || 'none listed'}`];
    if (notice.absentDates.length > 0) lines.push(`• absent (no rows): ${escapeMrkdwn(formatDateRanges(notice.absentDates, ref))}`);
    if (notice.incompleteDates.length > 0) {
      const shown = notice.incompleteDates
        .slice(0, 10)
        .map((i) => `${formatDateRanges([i.date], ref)} (${i.count.toLocaleString('en-US')} ${i.count === 1 ? 'row' : 'rows'})`);
      const more = notice.incompleteDates.length - shown.length;
      lines.push(`• incomplete (too few rows): ${escapeMrkdwn(shown.join(', '))}${more > 0 ? ` and ${more} more` : ''}`);
    }
    blocks.push(section(lines.join('\n')));
    const why = `*Why:* ${escapeMrkdwn(f.reason_text)}`;
    // Leave room for the code fence and its label inside the 3000-character section.
    blocks.push(section(f.last_error ? `${why}\n*Last error:*\n${code(clip(f.last_error, 2_000))}` : why));
    if (f.heal_commands.length > 0) {
      blocks.push(
        section(
          `*Heal it with${f.heal_commands.length > 1 ? ' (one command per range)' : ''}:*\n${code(clip(f.heal_commands.join('\n'), 2_800))}`,
        ),
      );
    }
  }

  const when =
    notice.kind === 'escalated'
      ? `opened ${formatInstant(notice.openedAt)}`
      : notice.kind === 'reminder'
        ? `open for ${f.open_for}, since ${formatInstant(notice.openedAt)}`
        : `opened ${formatInstant(notice.openedAt)}, healed ${formatInstant(notice.at)}`;
  blocks.push({ type: 'context', elements: [md(`alert \`${escapeMrkdwn(notice.alertKey)}\` · ${when}`)] });

  return { text: escapeMrkdwn(formatted.title), blocks };
};
