import { addDays, parseIsoDate, type IsoDate } from './iso-date.js';
import { err, ok, type Result } from './result.js';

/** A date argument that is neither `YYYY-MM-DD` nor `today`, `yesterday` or `-N`. */
export interface InvalidDateSpec {
  readonly _tag: 'InvalidDateSpec';
  readonly value: string;
  readonly message: string;
}

/** A date argument resolved: the ISO date, and the words it came from when they were relative. */
export interface ResolvedDate {
  readonly date: IsoDate;
  /** `yesterday`, `-3`…; `undefined` when the argument was already an ISO date. */
  readonly relative: string | undefined;
}

/** The furthest back `-N` may reach: ten years is more than any look-back or backfill range. */
export const MAX_DAYS_BACK = 3660;

/**
 * Whether `timeZone` is an IANA zone name the runtime knows (`UTC`, `Europe/Paris`).
 * Intl throws a `RangeError` for an unknown zone; that is the whole test.
 */
export const isValidTimeZone = (timeZone: string): boolean => {
  if (timeZone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
};

/**
 * The calendar date at instant `nowMs` (epoch milliseconds) in `timeZone`.
 * The caller passes the instant: core never reads the clock. `timeZone` must be valid
 * (see `isValidTimeZone`); an unknown zone throws Intl's `RangeError`.
 */
export const todayIn = (nowMs: number, timeZone: string): IsoDate => {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(nowMs);
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}` as IsoDate;
};

/**
 * Resolve a date argument as a cron line writes it: `YYYY-MM-DD` as is, `today`,
 * `yesterday`, or `-N` (N days before today), where "today" is the calendar date
 * at `nowMs` in `timeZone` — the zone the pipeline's days are counted in, not the
 * machine's. One rule for every `--date`, `--from` and `--to`.
 */
export const resolveDateSpec = (value: string, nowMs: number, timeZone: string): Result<InvalidDateSpec, ResolvedDate> => {
  const spec = value.trim().toLowerCase();
  const back = spec === 'today' ? 0 : spec === 'yesterday' ? 1 : /^-\d{1,4}$/.test(spec) ? Number(spec.slice(1)) : undefined;
  if (back !== undefined) {
    if (back > MAX_DAYS_BACK)
      return err({ _tag: 'InvalidDateSpec', value, message: `${value} reaches back more than ${MAX_DAYS_BACK} days` });
    return ok({ date: addDays(todayIn(nowMs, timeZone), -back), relative: spec });
  }
  const iso = parseIsoDate(value);
  if (iso._tag === 'Ok') return ok({ date: iso.value, relative: undefined });
  return err({
    _tag: 'InvalidDateSpec',
    value,
    message: `${JSON.stringify(value)} is not a date: use YYYY-MM-DD, today, yesterday or -N (N days before today)`,
  });
};
