import { addDays, toEpochDay, type BackfillRequest, type IsoDate } from '@smart-backfill/core';
import { classifyDay, latestRequestByDate, type DayState } from '@smart-backfill/report';
import type { Colors } from '../output.js';

/** What one day looks like (decided by `classifyDay` of `@smart-backfill/report`). */
export type { DayState };

export interface CalendarInput {
  /** The last day shown (today). The calendar ends on the Sunday of its week. */
  readonly today: IsoDate;
  readonly weeks: number;
  readonly expectedDates: Iterable<IsoDate>;
  readonly recordCounts: ReadonlyMap<IsoDate, number>;
  readonly minRecordsPerDate: number;
  /** Any requests in the range; the newest per date decides. */
  readonly requests: Iterable<BackfillRequest>;
  /** Dates named by an open alert. */
  readonly escalatedDates: Iterable<IsoDate>;
}

/** The first Monday shown and the states of every day from it through the Sunday after `today`. */
export const calendarDays = (input: CalendarInput): { start: IsoDate; days: { date: IsoDate; state: DayState; count: number }[] } => {
  const dow = (toEpochDay(input.today) + 3) % 7; // 1970-01-01 was a Thursday; Monday = 0
  const start = addDays(input.today, -dow - 7 * (input.weeks - 1));
  const expected = new Set(input.expectedDates);
  const escalated = new Set(input.escalatedDates);
  const latest = latestRequestByDate(input.requests);
  const days: { date: IsoDate; state: DayState; count: number }[] = [];
  for (let i = 0; i < input.weeks * 7; i++) {
    const date = addDays(start, i);
    const count = input.recordCounts.get(date) ?? 0;
    const req = latest.get(date);
    // The same rule as the HTML report's calendar, so both always agree.
    const state = classifyDay({
      date,
      today: input.today,
      expected: expected.has(date),
      rows: count,
      minRecordsPerDate: input.minRecordsPerDate,
      requestStatus: req?.status,
      escalated: escalated.has(date),
    });
    days.push({ date, state, count });
  }
  return { start, days };
};

const SYMBOLS: Record<DayState, { tty: string; plain: string; label: string }> = {
  nothing_scheduled: { tty: '·', plain: '.', label: 'nothing scheduled' },
  // Without the history the report reads, this calendar never says "healed" nor "before the schedule".
  before_schedule: { tty: '·', plain: '.', label: 'nothing scheduled' },
  complete: { tty: '●', plain: '#', label: 'complete' },
  healed_auto: { tty: '●', plain: '#', label: 'complete' },
  healed_manual: { tty: '●', plain: '#', label: 'complete' },
  healed_other: { tty: '●', plain: '#', label: 'complete' },
  incomplete: { tty: '◐', plain: '~', label: 'incomplete' },
  missing: { tty: '○', plain: 'o', label: 'missing' },
  queued: { tty: '◷', plain: 'q', label: 'queued' },
  processing: { tty: '▶', plain: 'p', label: 'processing' },
  failed: { tty: '✗', plain: 'x', label: 'failed' },
  escalated: { tty: '▲', plain: '!', label: 'escalated' },
  future: { tty: ' ', plain: ' ', label: 'not yet' },
};

const paint = (c: Colors, s: DayState, text: string): string => {
  switch (s) {
    case 'complete':
    case 'healed_auto':
    case 'healed_manual':
    case 'healed_other':
      return c.green(text);
    case 'incomplete':
      return c.yellow(text);
    case 'missing':
    case 'failed':
      return c.red(text);
    case 'queued':
      return c.blue(text);
    case 'processing':
      return c.cyan(text);
    case 'escalated':
      return c.bold(c.magenta(text));
    case 'nothing_scheduled':
    case 'before_schedule':
    case 'future':
      return c.dim(text);
  }
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const label = (d: IsoDate): string => `${MONTHS[Number(d.slice(5, 7)) - 1] ?? '???'} ${d.slice(8, 10)}`;

/**
 * The calendar as lines: one row per week (Monday first), then a legend of the states shown.
 * `stateLabels` are the data's own words for some states, as the HTML report takes them
 * (the NBA demo says "no games"); the rest keep the neutral labels.
 */
export const renderCalendar = (
  input: CalendarInput,
  opts: { tty: boolean; c: Colors; stateLabels?: Partial<Record<DayState, string>> | undefined },
): string[] => {
  const { days } = calendarDays(input);
  const lines = [`         ${['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'].join(' ')}`];
  for (let w = 0; w < input.weeks; w++) {
    const week = days.slice(w * 7, w * 7 + 7);
    const first = week[0];
    if (first === undefined) continue;
    const cells = week.map((d) => {
      const sym = opts.tty ? SYMBOLS[d.state].tty : SYMBOLS[d.state].plain;
      return paint(opts.c, d.state, ` ${sym}`);
    });
    lines.push(`  ${label(first.date)} ${cells.join(' ')}`);
  }
  const order: DayState[] = ['complete', 'incomplete', 'missing', 'queued', 'processing', 'failed', 'escalated', 'nothing_scheduled'];
  const labelOf = (s: DayState): string => opts.stateLabels?.[s] ?? SYMBOLS[s].label;
  lines.push(`  ${order.map((s) => `${paint(opts.c, s, opts.tty ? SYMBOLS[s].tty : SYMBOLS[s].plain)} ${labelOf(s)}`).join('  ')}`);
  return lines;
};

/** Count of each state (for JSON and the demo's figures). */
export const stateCounts = (days: readonly { state: DayState }[]): Partial<Record<DayState, number>> => {
  const out: Partial<Record<DayState, number>> = {};
  for (const d of days) out[d.state] = (out[d.state] ?? 0) + 1;
  return out;
};
