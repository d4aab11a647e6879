import type { IsoDate } from './iso-date.js';
import { timeToRecovery, type TimeWindow } from './monitoring.js';
import type { BackfillRequest, RequestType } from './request-lifecycle.js';
import type { RunRecord } from './ports/run-log.js';

/**
 * One gap as a person tells it: "Dec 1–8 went missing, we noticed on the 7th,
 * it was whole again on the 11th". `timeToRecovery` keys an episode by the held
 * run, so one outage that holds five nightly runs is five episodes, each with
 * its own (ever shorter) duration; a gap joins the episodes that share a
 * missing date (or whose held run is another's missing date) into one.
 */
export interface HealedGap {
  readonly processorName: string;
  /** Every date found missing, ascending. */
  readonly missingDates: readonly IsoDate[];
  /** The runs held for it, ascending. */
  readonly runDates: readonly IsoDate[];
  /** The first run that found it. */
  readonly detectedAt: number;
  /** A run escalated it to a person. */
  readonly escalated: boolean;
  /**
   * When the data was whole and every held run was done: resumed and succeeded,
   * or rebuilt by a backfill of its own date. `null` while any is still waiting.
   */
  readonly healedAt: number | null;
  /** `detectedAt → healedAt`: the time to recovery the CLI, the demo and the report all print. */
  readonly timeToRecoveryMs: number | null;
  /**
   * `manual` when a person's backfill filled some date (the last completed
   * request of a date decides), `auto` when only automatic ones did, `null`
   * when not healed or the dates were filled without a request (late data).
   */
  readonly healedBy: RequestType | null;
}

const key = (processor: string, date: string): string => `${processor}\u0000${date}`;

/**
 * The gaps first detected in the window, oldest first. Pass the runs and
 * requests from the window's start onwards (healing may land after `until`).
 */
export const healedGaps = (runs: Iterable<RunRecord>, requests: Iterable<BackfillRequest>, window: TimeWindow): HealedGap[] => {
  const runList = [...runs];
  const reqList = [...requests];
  const episodes = timeToRecovery(runList, reqList, window);

  // A held run a backfill rebuilt is superseded, not resumed: its date's own backfill run is its recovery.
  const rebuilt = new Map<string, number[]>();
  for (const r of runList)
    if (r.isBackfill && r.outcome === 'succeeded' && r.finishedAt !== null) {
      const k = key(r.processorName, r.runDate);
      const l = rebuilt.get(k);
      if (l === undefined) rebuilt.set(k, [r.finishedAt]);
      else l.push(r.finishedAt);
    }
  const completedBy = new Map<string, BackfillRequest[]>();
  for (const r of reqList)
    if (r.status === 'completed' && r.completedAt !== null) {
      const k = key(r.processorName, r.date);
      const l = completedBy.get(k);
      if (l === undefined) completedBy.set(k, [r]);
      else l.push(r);
    }

  // Union-find over episodes: two belong to one gap when they share a date.
  const parent = episodes.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i] as number] as number;
    return i;
  };
  const owner = new Map<string, number>();
  episodes.forEach((e, i) => {
    for (const d of [...e.missingDates, e.runDate]) {
      const k = key(e.processorName, d);
      const j = owner.get(k);
      if (j === undefined) owner.set(k, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, number[]>();
  episodes.forEach((_, i) => {
    const r = find(i);
    const g = groups.get(r);
    if (g === undefined) groups.set(r, [i]);
    else g.push(i);
  });

  const gaps = [...groups.values()].map((members): HealedGap => {
    const eps = members.map((i) => episodes[i] as (typeof episodes)[number]);
    const first = eps.reduce((a, b) => (b.detectedAt < a.detectedAt ? b : a));
    const missing = [...new Set(eps.flatMap((e) => e.missingDates))].sort();
    let healedAt: number | null = 0;
    for (const e of eps) {
      const done =
        e.recoveredAt ?? (rebuilt.get(key(e.processorName, e.runDate)) ?? []).filter((t) => t >= e.detectedAt).sort((a, b) => a - b)[0];
      if (done === undefined || healedAt === null) {
        healedAt = null;
        continue;
      }
      healedAt = Math.max(healedAt, done, e.gapFilledAt ?? 0);
    }
    let healedBy: RequestType | null = null;
    if (healedAt !== null)
      for (const d of missing) {
        const last = (completedBy.get(key(first.processorName, d)) ?? [])
          .filter((r) => (r.completedAt as number) >= first.detectedAt)
          .reduce<BackfillRequest | undefined>(
            (a, r) => (a === undefined || (r.completedAt as number) > (a.completedAt as number) ? r : a),
            undefined,
          );
        if (last === undefined) continue;
        if (last.requestType === 'manual') healedBy = 'manual';
        else healedBy ??= 'auto';
      }
    return {
      processorName: first.processorName,
      missingDates: missing,
      runDates: [...new Set(eps.map((e) => e.runDate))].sort(),
      detectedAt: first.detectedAt,
      escalated: eps.some((e) => e.escalated),
      healedAt,
      timeToRecoveryMs: healedAt === null ? null : healedAt - first.detectedAt,
      healedBy,
    };
  });
  return gaps.sort((a, b) => a.detectedAt - b.detectedAt || (a.processorName < b.processorName ? -1 : 1));
};

/** The median (mean of the middle two for an even count); `null` for none. */
export const medianOf = (xs: Iterable<number>): number | null => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return null;
  return n % 2 === 1 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
};
