import { addDays, dateRange, isoDate, toEpochDay, type IsoDate } from '@smart-backfill/core';
import { createMemoryStore, type MemoryStore } from '@smart-backfill/memory';
import type { Processor, RunOptions } from '@smart-backfill/engine';
import { ManualClock } from '@smart-backfill/testkit';

export const P = 'PlayerGameSummaryProcessor';
export const D = isoDate;
export const DAY = 86_400_000;

/** Epoch ms of 08:00 UTC on a date: when the daily run fires. */
export const morningOf = (d: IsoDate): number => toEpochDay(d) * DAY + 8 * 3_600_000;

export interface World {
  readonly clock: ManualClock;
  readonly store: MemoryStore;
  /** Every call the fill processor got. */
  readonly calls: RunOptions[];
  /** A processor that writes `rows` rows for its date into the memory target table. */
  readonly filler: Processor;
}

/**
 * The seed's world: games every day from Oct 1; every date before `today`
 * has 150 rows (min is 100) except `missing`.
 */
export const world = (opts: { readonly today?: IsoDate; readonly missing?: readonly IsoDate[]; readonly rows?: number } = {}): World => {
  const today = opts.today ?? D('2025-11-16');
  const clock = new ManualClock(morningOf(today));
  const store = createMemoryStore({ clock });
  store.setSchedule(P, dateRange(D('2025-10-01'), D('2025-12-31')));
  const missing = new Set(opts.missing ?? []);
  for (const d of dateRange(D('2025-10-01'), addDays(today, -1))) if (!missing.has(d)) store.setCount(P, d, 150);
  const calls: RunOptions[] = [];
  const filler: Processor = {
    name: P,
    run: async (o) => {
      calls.push(o);
      store.setCount(P, o.date, opts.rows ?? 150);
      return { rows: opts.rows ?? 150 };
    },
  };
  return { clock, store, calls, filler };
};
