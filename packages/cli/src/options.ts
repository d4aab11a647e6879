import { parseIsoDate, resolveDateSpec, type IsoDate } from '@smart-backfill/core';
import { badInput } from './cli-error.js';
import type { Output } from './output.js';

/**
 * The parsed argv as commander hands it over. Each command decodes it once, at its
 * top, into its own typed options (`xxxOptions(raw)`), so a bad value fails with
 * exit 2 before anything is opened, and the body reads typed fields, never keys.
 */
export type RawOptions = Readonly<Record<string, unknown>>;

/** The global option every command that reads the config takes. */
export interface ConfigOption {
  readonly config: string | undefined;
}

/** A string option, or `undefined` when it was not given. */
export const textOption = (raw: RawOptions, key: string): string | undefined => {
  const v = raw[key];
  return typeof v === 'string' ? v : undefined;
};

/** A switch: `true` only when it was given. */
export const switchOption = (raw: RawOptions, key: string): boolean => raw[key] === true;

export const configOption = (raw: RawOptions): ConfigOption => ({ config: textOption(raw, 'config') });

/** A `--date`-like option: required, `YYYY-MM-DD`, a real day. Relative words are resolved before (see `resolveDateOptions`). */
export const dateOption = (flag: string, value: unknown): IsoDate => {
  if (value === undefined || value === true) throw badInput(`${flag} is required (YYYY-MM-DD, today, yesterday or -N)`);
  const r = parseIsoDate(value);
  if (r._tag === 'Err') throw badInput(`${flag}: ${r.error.message}`);
  return r.value;
};

/** A whole-number option within bounds. */
export const intOption = (flag: string, value: unknown, min: number, max: number): number => {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw badInput(`${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
};

/** Every option that names a day, by its commander key. */
const DATE_FLAGS: Readonly<Record<string, string>> = {
  date: '--date',
  from: '--from',
  to: '--to',
  today: '--today',
  since: '--since',
  until: '--until',
};

/**
 * Hidden, for tests: the instant (ISO 8601, e.g. `2025-11-16T11:00:00Z`) at which
 * `today`, `yesterday` and `-N` are resolved, instead of the system clock.
 */
export const NOW_ENV = 'SMART_BACKFILL_NOW';

const nowFrom = (env: Readonly<Record<string, string | undefined>>): number => {
  const fixed = env[NOW_ENV];
  if (fixed === undefined || fixed === '') return Date.now();
  const ms = Date.parse(fixed);
  if (Number.isNaN(ms)) throw badInput(`${NOW_ENV}: ${JSON.stringify(fixed)} is not an ISO 8601 instant`);
  return ms;
};

const isRelative = (v: unknown): v is string => typeof v === 'string' && !/^\d{4}-/.test(v.trim());

/**
 * Cron lines say `--date yesterday`: every date option given as `today`, `yesterday`
 * or `-N` becomes the ISO date it means in the config's `timeZone` (default UTC), and
 * each one is echoed on stderr (`date: yesterday → 2025-11-15 (UTC)`) so a log shows
 * which day ran. The config is read only when a relative date is there to resolve.
 */
export const resolveDateOptions = async (
  out: Output,
  opts: Record<string, unknown>,
  timeZoneOf: () => Promise<string | undefined>,
): Promise<Record<string, unknown>> => {
  const keys = Object.keys(DATE_FLAGS).filter((k) => isRelative(opts[k]));
  if (keys.length === 0) return opts;
  const zone = (await timeZoneOf()) ?? 'UTC';
  const now = nowFrom(out.io.env);
  const resolved: Record<string, unknown> = { ...opts };
  for (const k of keys) {
    const flag = DATE_FLAGS[k] as string;
    const r = resolveDateSpec(opts[k] as string, now, zone);
    if (r._tag === 'Err') throw badInput(`${flag}: ${r.error.message}`);
    resolved[k] = r.value.date;
    out.warn(out.c.dim(`${flag.slice(2)}: ${r.value.relative ?? ''} → ${r.value.date} (${zone})`));
  }
  return resolved;
};
