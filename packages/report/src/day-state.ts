import type { IsoDate, RequestStatus } from '@smart-backfill/core';

/**
 * What one day of a processor looks like. The terminal calendar (`status`) and
 * the HTML report show the same states, decided by `classifyDay`. The `healed_*`
 * states are complete days that were once a gap: the report tells that story,
 * the terminal calendar (which has no history at hand) shows them as `complete`.
 */
export type DayState =
  | 'complete'
  | 'healed_auto'
  | 'healed_manual'
  | 'healed_other'
  | 'nothing_scheduled'
  | 'before_schedule'
  | 'incomplete'
  | 'missing'
  | 'queued'
  | 'processing'
  | 'failed'
  | 'escalated'
  | 'future';

/** Legend order: healthy first (and healed), then the quiet days, then the gap states from "being fixed" to "needs a person". */
export const DAY_STATES: readonly DayState[] = [
  'complete',
  'healed_auto',
  'healed_manual',
  'healed_other',
  'nothing_scheduled',
  'before_schedule',
  'incomplete',
  'missing',
  'queued',
  'processing',
  'failed',
  'escalated',
  'future',
];

/** How a gap was healed: by an automatic backfill, by a person's (manual) backfill, or without a backfill (late data, a re-run elsewhere). */
export type HealedBy = 'auto' | 'manual' | 'other';

/** The facts about one day that decide its state. */
export interface DayFacts {
  readonly date: IsoDate;
  /** The last day that can be judged; later days are `future`, and so is this day when its data is missing (its run has not happened yet). */
  readonly today: IsoDate;
  /** The schedule lists the date. */
  readonly expected: boolean;
  /** The date is before the schedule's first date: there was no schedule yet, which is not the same as a closed day. */
  readonly beforeSchedule?: boolean | undefined;
  readonly rows: number;
  readonly minRecordsPerDate: number;
  /** Status of the newest request for the date, if any. */
  readonly requestStatus?: RequestStatus | undefined;
  /** An open alert names the date. */
  readonly escalated?: boolean | undefined;
  /** The date was found missing once; how it was healed (it only shows once the date is complete). */
  readonly healedBy?: HealedBy | undefined;
}

const HEALED: Readonly<Record<HealedBy, DayState>> = { auto: 'healed_auto', manual: 'healed_manual', other: 'healed_other' };

/**
 * The state of a day, most telling first: work in flight (processing, queued)
 * shows even over data that is already there; enough rows is `complete`, or
 * `healed_*` when the date was a gap once; an unscheduled day is
 * `before_schedule` or `nothing_scheduled` (or `incomplete` if it holds a few
 * stray rows); a scheduled day lacking rows is `escalated` when a person was
 * told, `failed` when its last backfill failed, else `incomplete` or `missing`.
 */
export const classifyDay = (f: DayFacts): DayState => {
  let state: DayState;
  if (f.date > f.today) return 'future';
  if (f.requestStatus === 'processing') state = 'processing';
  else if (f.requestStatus === 'queued') state = 'queued';
  else if (f.rows >= f.minRecordsPerDate) state = f.healedBy === undefined ? 'complete' : HEALED[f.healedBy];
  else if (!f.expected) state = f.rows > 0 ? 'incomplete' : f.beforeSchedule === true ? 'before_schedule' : 'nothing_scheduled';
  else if (f.escalated === true) state = 'escalated';
  else if (f.requestStatus === 'failed') state = 'failed';
  else state = f.rows > 0 ? 'incomplete' : 'missing';
  // Today's data is what tonight's run produces: not missing yet. Nor unscheduled: a schedule
  // that counts only final events lists today's only once they are over.
  if (f.date === f.today && (state === 'missing' || state === 'incomplete' || state === 'nothing_scheduled' || state === 'before_schedule'))
    state = 'future';
  return state;
};

/** How each state is drawn: a label, a symbol that does not rely on colour, and an Okabe–Ito colour. */
export interface DayStyle {
  readonly label: string;
  /** Shown inside the cell and in the legend (the same symbols as the terminal calendar). */
  readonly symbol: string;
  /** ASCII fallback for plain terminals. */
  readonly plain: string;
  readonly background: string;
  readonly foreground: string;
  /** Plain-words meaning, for the legend's tooltip and screen readers. */
  readonly meaning: string;
}

// Okabe & Ito (2008) palette: distinguishable with the common colour-vision deficiencies.
// Every gap state also carries its own symbol, so colour is never the only cue.
export const DAY_STYLES: Readonly<Record<DayState, DayStyle>> = Object.freeze({
  complete: {
    label: 'complete',
    symbol: '',
    plain: '#',
    background: '#009E73',
    foreground: '#ffffff',
    meaning: 'enough rows for the date',
  },
  healed_auto: {
    label: 'healed automatically',
    symbol: '↻',
    plain: 'a',
    background: '#7FCEB9',
    foreground: '#000000',
    meaning: 'was missing; an automatic backfill filled it',
  },
  healed_manual: {
    label: 'healed by a person',
    symbol: '✍',
    plain: 'm',
    background: '#B9E3D6',
    foreground: '#000000',
    meaning: 'was missing; a manual backfill (the backfill command) filled it',
  },
  healed_other: {
    label: 'healed without a backfill',
    symbol: '✓',
    plain: 'l',
    background: '#DDF1EA',
    foreground: '#000000',
    meaning: 'was missing; its rows arrived later without a backfill (late data or a re-run elsewhere)',
  },
  nothing_scheduled: {
    label: 'nothing scheduled',
    symbol: '',
    plain: '.',
    background: '#eeeeee',
    foreground: '#555555',
    meaning: 'the schedule expects no data that day',
  },
  before_schedule: {
    label: 'before the schedule starts',
    symbol: '',
    plain: ' ',
    background: '#fafafa',
    foreground: '#999999',
    meaning: 'before the first date the schedule lists: nothing was expected yet',
  },
  incomplete: {
    label: 'incomplete',
    symbol: '◐',
    plain: '~',
    background: '#F0E442',
    foreground: '#000000',
    meaning: 'some rows, fewer than the minimum',
  },
  missing: {
    label: 'missing',
    symbol: '○',
    plain: 'o',
    background: '#E69F00',
    foreground: '#000000',
    meaning: 'scheduled, no rows, nothing queued',
  },
  queued: {
    label: 'backfill queued',
    symbol: '◷',
    plain: 'q',
    background: '#56B4E9',
    foreground: '#000000',
    meaning: 'a backfill request waits in the queue',
  },
  processing: {
    label: 'processing',
    symbol: '▶',
    plain: 'p',
    background: '#0072B2',
    foreground: '#ffffff',
    meaning: 'a worker is running the backfill',
  },
  failed: {
    label: 'backfill failed',
    symbol: '✗',
    plain: 'x',
    background: '#D55E00',
    foreground: '#ffffff',
    meaning: 'the last backfill failed and the data is still missing',
  },
  escalated: {
    label: 'escalated',
    symbol: '▲',
    plain: '!',
    background: '#CC79A7',
    foreground: '#000000',
    meaning: 'an open alert: the gap needs a person',
  },
  future: {
    label: 'not yet due',
    symbol: '',
    plain: ' ',
    background: '#ffffff',
    foreground: '#999999',
    meaning: 'today or later: its run has not happened yet',
  },
});
