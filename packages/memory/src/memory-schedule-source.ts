import type { IsoDate, ScheduleSource, WindowQuery } from '@smart-backfill/core';

/** Processor name whose schedule applies to every processor without one of its own. */
export const ANY_PROCESSOR = '*';

export interface MemoryScheduleSource extends ScheduleSource {
  /** Replace the expected dates of `processorName` (or of {@link ANY_PROCESSOR}). */
  set(processorName: string, dates: Iterable<IsoDate>): void;
  /** Add expected dates. */
  add(processorName: string, dates: Iterable<IsoDate>): void;
  /** How many `expectedDates` calls were made (tests count round trips). */
  readonly reads: () => number;
}

/**
 * Expected dates per processor, held in memory. A processor without its own
 * schedule uses the `'*'` one (the seed had one game schedule for all processors).
 */
export const memoryScheduleSource = (initial: Readonly<Record<string, Iterable<IsoDate>>> = {}): MemoryScheduleSource => {
  const byProcessor = new Map<string, Set<IsoDate>>();
  let reads = 0;
  for (const [p, ds] of Object.entries(initial)) byProcessor.set(p, new Set(ds));
  return {
    async expectedDates(q: WindowQuery) {
      reads++;
      const dates = byProcessor.get(q.processorName) ?? byProcessor.get(ANY_PROCESSOR) ?? new Set<IsoDate>();
      return [...dates].filter((d) => d >= q.start && d <= q.end).sort();
    },
    set(p, dates) {
      byProcessor.set(p, new Set(dates));
    },
    add(p, dates) {
      const s = byProcessor.get(p) ?? new Set<IsoDate>();
      for (const d of dates) s.add(d);
      byProcessor.set(p, s);
    },
    reads: () => reads,
  };
};
