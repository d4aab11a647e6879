import {
  compareDates,
  dateRange,
  toEpochDay,
  type AlertRecord,
  type BackfillRequest,
  type IsoDate,
  type RequestStatus,
  type RequestType,
  type RunRecord,
  detectedGapDates,
} from '@smart-backfill/core';
import { classifyDay, DAY_STATES, type DayState, type HealedBy } from './day-state.js';

/** Row counts per date: a `Map` or a plain `{ date: count }` object. Absent dates count 0. */
export type CountsByDate = ReadonlyMap<IsoDate, number> | Readonly<Record<string, number>>;

/** Plain data for one processor's calendar: what the store holds, read by the caller. */
export interface CalendarModelInput {
  readonly processorName: string;
  /** First and last day shown, inclusive. */
  readonly start: IsoDate;
  readonly end: IsoDate;
  /** Days after it are `future`; default `end`. */
  readonly today?: IsoDate | undefined;
  /** Dates the schedule expects (any order, duplicates and dates outside the range ignored). */
  readonly expectedDates: Iterable<IsoDate>;
  readonly recordCounts: CountsByDate;
  readonly minRecordsPerDate: number;
  /** Backfill requests for dates in the range, any status; the newest per date decides. */
  readonly requests?: Iterable<BackfillRequest> | undefined;
  /** Alerts of the processor; open ones (not resolved) mark their missing dates escalated. */
  readonly alerts?: Iterable<AlertRecord> | undefined;
  /** Runs of the processor: the dates their checks found missing are past gaps (`healed_*` once complete). */
  readonly runs?: Iterable<RunRecord> | undefined;
  /**
   * The first date the schedule lists: unscheduled days before it are
   * `before_schedule`, not `nothing_scheduled`. Default: the first expected
   * date in the range. `null`: the schedule started before the range.
   */
  readonly scheduleStart?: IsoDate | null | undefined;
}

/** The newest request of a date, as the tooltip shows it. */
export interface CellRequest {
  readonly requestId: string;
  readonly status: RequestStatus;
  readonly requestType: RequestType;
  readonly attempt: number;
  readonly requestedAt: number;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  readonly errorMessage: string | null;
}

export interface CellAlert {
  readonly alertKey: string;
  readonly reason: AlertRecord['reason'];
  readonly openedAt: number;
  readonly resolvedAt: number | null;
  readonly lastError: string | null;
}

/** One day of the calendar. */
export interface DayCell {
  readonly date: IsoDate;
  /** Monday 0 … Sunday 6. */
  readonly weekday: number;
  readonly state: DayState;
  readonly expected: boolean;
  /**
   * A scheduled date, before today, that was a gap at some point: it is in a gap
   * state now, or a check found it missing, an alert named it, or a backfill was
   * requested for it (a person's `backfill` too: they found it lacking).
   */
  readonly wasGap: boolean;
  readonly rows: number;
  readonly minRecordsPerDate: number;
  /** How many requests the date had in all. */
  readonly requestCount: number;
  readonly request: CellRequest | null;
  /** The newest alert naming the date (open or resolved). */
  readonly alert: CellAlert | null;
}

export interface CalendarModel {
  readonly processorName: string;
  readonly start: IsoDate;
  readonly end: IsoDate;
  readonly today: IsoDate;
  readonly minRecordsPerDate: number;
  readonly days: readonly DayCell[];
  /** Days per state (every state present, zeros included). */
  readonly counts: Readonly<Record<DayState, number>>;
}

/** The states of a date that lacks enough rows now (or is being filled). */
export const GAP_STATES: ReadonlySet<DayState> = new Set<DayState>([
  'incomplete',
  'missing',
  'queued',
  'processing',
  'failed',
  'escalated',
]);

/** 1970-01-01 was a Thursday. */
export const weekdayOf = (d: IsoDate): number => (((toEpochDay(d) + 3) % 7) + 7) % 7;

const countOf = (counts: CountsByDate, d: IsoDate): number => {
  const n = counts instanceof Map ? (counts as ReadonlyMap<IsoDate, number>).get(d) : (counts as Readonly<Record<string, number>>)[d];
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
};

const newer = (a: BackfillRequest, b: BackfillRequest): boolean =>
  a.requestedAt > b.requestedAt || (a.requestedAt === b.requestedAt && a.updatedAt > b.updatedAt);

/**
 * The request that decides each date's state: the newest by `requestedAt`, then
 * `updatedAt`. The terminal calendar uses it too, so both calendars pick the same one.
 */
export const latestRequestByDate = (requests: Iterable<BackfillRequest>): Map<IsoDate, BackfillRequest> => {
  const latest = new Map<IsoDate, BackfillRequest>();
  for (const r of requests) {
    const cur = latest.get(r.date);
    if (cur === undefined || newer(r, cur)) latest.set(r.date, r);
  }
  return latest;
};

/** An empty tally of every state. */
export const emptyStateCounts = (): Record<DayState, number> =>
  Object.fromEntries(DAY_STATES.map((s) => [s, 0])) as Record<DayState, number>;

/**
 * One cell per day from `start` to `end`, each with its state (`classifyDay`)
 * and the facts behind it. Pure: the caller reads the schedule, counts,
 * requests and alerts and passes them in.
 */
export const buildCalendarModel = (input: CalendarModelInput): CalendarModel => {
  if (compareDates(input.end, input.start) < 0)
    throw new RangeError(`[smart-backfill] [report] calendar range ends (${input.end}) before it starts (${input.start})`);
  const today = input.today ?? input.end;
  const expected = new Set(input.expectedDates);
  const own = [...(input.requests ?? [])].filter((r) => r.processorName === input.processorName);
  const latest = latestRequestByDate(own);
  const requestCount = new Map<IsoDate, number>();
  for (const r of own) requestCount.set(r.date, (requestCount.get(r.date) ?? 0) + 1);
  const alertOf = new Map<IsoDate, AlertRecord>();
  const openDates = new Set<IsoDate>();
  for (const a of input.alerts ?? []) {
    if (a.processorName !== input.processorName) continue;
    for (const d of a.missingDates) {
      if (a.resolvedAt === null) openDates.add(d);
      const cur = alertOf.get(d);
      // An open alert wins over a resolved one; otherwise the newest.
      if (
        cur === undefined ||
        (cur.resolvedAt !== null && a.resolvedAt === null) ||
        ((cur.resolvedAt === null) === (a.resolvedAt === null) && a.openedAt > cur.openedAt)
      )
        alertOf.set(d, a);
    }
  }
  // Evidence that a date was a gap once, whatever it looks like now: an alert named it, or a
  // check found it missing (core's one rule, shared with `assess`). A manual request alone is a
  // rebuild, not a gap.
  const foundMissing = new Set<IsoDate>(alertOf.keys());
  const ownRuns = [...(input.runs ?? [])].filter((r) => r.processorName === input.processorName);
  for (const d of detectedGapDates(ownRuns, own, { since: -Infinity, until: Infinity })) foundMissing.add(d);
  // The last completed backfill of a date says who healed it.
  const lastCompleted = new Map<IsoDate, BackfillRequest>();
  for (const r of own)
    if (r.status === 'completed') {
      const cur = lastCompleted.get(r.date);
      if (cur === undefined || (r.completedAt ?? 0) > (cur.completedAt ?? 0)) lastCompleted.set(r.date, r);
    }
  const firstExpected = [...expected].filter((d) => d >= input.start && d <= input.end).sort()[0];
  const scheduleStart = input.scheduleStart === undefined ? firstExpected : input.scheduleStart;
  const counts = emptyStateCounts();
  const days: DayCell[] = dateRange(input.start, input.end).map((date) => {
    const rows = countOf(input.recordCounts, date);
    const req = latest.get(date);
    const alert = alertOf.get(date);
    const isExpected = expected.has(date);
    const healedBy: HealedBy | undefined =
      isExpected && date < today && foundMissing.has(date) ? (lastCompleted.get(date)?.requestType ?? 'other') : undefined;
    const state = classifyDay({
      date,
      today,
      expected: isExpected,
      // No schedule in the range at all: nothing tells where it starts, so every empty day is just unscheduled.
      beforeSchedule: scheduleStart !== null && scheduleStart !== undefined && date < scheduleStart,
      rows,
      minRecordsPerDate: input.minRecordsPerDate,
      requestStatus: req?.status,
      escalated: openDates.has(date),
      healedBy,
    });
    counts[state]++;
    return {
      date,
      weekday: weekdayOf(date),
      state,
      expected: isExpected,
      wasGap: isExpected && date < today && (healedBy !== undefined || GAP_STATES.has(state)),
      rows,
      minRecordsPerDate: input.minRecordsPerDate,
      requestCount: requestCount.get(date) ?? 0,
      request:
        req === undefined
          ? null
          : {
              requestId: req.requestId,
              status: req.status,
              requestType: req.requestType,
              attempt: req.attempt,
              requestedAt: req.requestedAt,
              startedAt: req.startedAt,
              completedAt: req.completedAt,
              errorMessage: req.errorMessage,
            },
      alert:
        alert === undefined
          ? null
          : {
              alertKey: alert.alertKey,
              reason: alert.reason,
              openedAt: alert.openedAt,
              resolvedAt: alert.resolvedAt,
              lastError: alert.lastError,
            },
    };
  });
  return {
    processorName: input.processorName,
    start: input.start,
    end: input.end,
    today,
    minRecordsPerDate: input.minRecordsPerDate,
    days,
    counts,
  };
};
