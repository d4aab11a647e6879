import type { IsoDate, ScheduleSource, ScheduleWindowDescription, StatusCount, WindowQuery } from '@smart-backfill/core';
import { checkWindow } from './check.js';

/** Processor name whose schedule applies to every processor without one of its own. */
export const ANY_PROCESSOR = '*';

export interface MemoryScheduleOptions {
  /** The name messages give the schedule. Default `memory schedule`. */
  readonly name?: string | undefined;
  /**
   * Filter rows on a status, like a table adapter's `statusColumn`/`statuses`: only rows
   * with one of `accepted` count. Rows added by `set`/`add` carry `accepted[0]`.
   */
  readonly status?: { readonly column: string; readonly accepted: readonly string[] } | undefined;
}

export interface MemoryScheduleSource extends ScheduleSource {
  describeWindow(query: WindowQuery): Promise<ScheduleWindowDescription>;
  /** Replace the expected dates of `processorName` (or of {@link ANY_PROCESSOR}). */
  set(processorName: string, dates: Iterable<IsoDate>): void;
  /** Add expected dates. */
  add(processorName: string, dates: Iterable<IsoDate>): void;
  /** Add rows with a status of their own (accepted or not). */
  addRows(processorName: string, rows: Iterable<{ readonly date: IsoDate; readonly status: string | null }>): void;
  /** How many `expectedDates` calls were made (tests count round trips). */
  readonly reads: () => number;
}

interface Row {
  readonly date: IsoDate;
  readonly status: string | null;
}

/**
 * Expected dates per processor, held in memory. A processor without its own
 * schedule uses the `'*'` one (the seed had one game schedule for all processors).
 */
export const memoryScheduleSource = (
  initial: Readonly<Record<string, Iterable<IsoDate>>> = {},
  options: MemoryScheduleOptions = {},
): MemoryScheduleSource => {
  const byProcessor = new Map<string, Row[]>();
  const filter = options.status;
  const defaultStatus = filter?.accepted[0] ?? null;
  let reads = 0;
  const rowsOf = (q: WindowQuery): Row[] =>
    (byProcessor.get(q.processorName) ?? byProcessor.get(ANY_PROCESSOR) ?? []).filter((r) => r.date >= q.start && r.date <= q.end);
  const accepted = (r: Row): boolean => filter === undefined || (r.status !== null && filter.accepted.includes(r.status));
  const addRows = (p: string, rows: Iterable<Row>): void => {
    const list = byProcessor.get(p) ?? [];
    const seen = new Set(list.map((r) => `${r.date}\u0000${String(r.status)}`));
    for (const r of rows) {
      // A date listed twice with one status is one row (as the set of dates it replaces was).
      const key = `${r.date}\u0000${String(r.status)}`;
      if (!seen.has(key)) list.push({ date: r.date, status: r.status });
      seen.add(key);
    }
    byProcessor.set(p, list);
  };
  const withDefault = (dates: Iterable<IsoDate>): Row[] => [...dates].map((date) => ({ date, status: defaultStatus }));
  for (const [p, ds] of Object.entries(initial)) addRows(p, withDefault(ds));
  return {
    async expectedDates(q: WindowQuery) {
      checkWindow(q);
      reads++;
      return [
        ...new Set(
          rowsOf(q)
            .filter(accepted)
            .map((r) => r.date),
        ),
      ].sort();
    },
    async describeWindow(q: WindowQuery) {
      checkWindow(q);
      const rows = rowsOf(q);
      if (filter === undefined) return { source: options.name ?? 'memory schedule', rowsInWindow: rows.length };
      const counts = new Map<string | null, number>();
      for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      const found: StatusCount[] = [...counts].map(([status, count]) => ({ status, count }));
      return {
        source: options.name ?? 'memory schedule',
        rowsInWindow: rows.length,
        statusFilter: { column: filter.column, accepted: filter.accepted, found },
      };
    },
    set(p, dates) {
      byProcessor.delete(p);
      addRows(p, withDefault(dates));
    },
    add(p, dates) {
      addRows(p, withDefault(dates));
    },
    addRows,
    reads: () => reads,
  };
};
