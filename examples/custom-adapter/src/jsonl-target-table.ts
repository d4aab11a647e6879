import { dateProblem, SmartBackfillError, type IsoDate, type TargetTable } from '@smart-backfill/core';
import { checkWindow } from './check-input.js';
import { ORIGIN, readLines } from './jsonl-file.js';

export interface JsonlTargetTableOptions {
  /** The JSON-lines file the processor writes, one object per row. */
  readonly path: string;
  /** The field holding each row's `YYYY-MM-DD` date (default `date`). */
  readonly dateField?: string | undefined;
  /** The field naming the row's processor, when one file holds several; without it every row counts for every processor. */
  readonly processorField?: string | undefined;
}

/** A `TargetTable` over a JSON-lines file: rows per date in the window, counted on each call (nothing is cached). */
export const jsonlTargetTable = (opts: JsonlTargetTableOptions): TargetTable => {
  const dateField = opts.dateField ?? 'date';
  return {
    async recordCounts(q) {
      checkWindow(q);
      const counts = new Map<IsoDate, number>();
      for (const { line, value } of await readLines(opts.path)) {
        const row = (value ?? {}) as Record<string, unknown>;
        if (opts.processorField !== undefined && row[opts.processorField] !== q.processorName) continue;
        const d = row[dateField];
        const problem = dateProblem(d);
        // The user's data, not ours: a row that is not a date is a data error (as a failed cast is on BigQuery), not damage.
        if (problem !== undefined)
          throw new SmartBackfillError('query_failed', `${opts.path}:${line}: ${dateField}: ${problem}`, {
            origin: ORIGIN,
            field: dateField,
          });
        const date = d as IsoDate;
        if (date >= q.start && date <= q.end) counts.set(date, (counts.get(date) ?? 0) + 1);
      }
      return counts;
    },
  };
};
