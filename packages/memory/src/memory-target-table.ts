import { countProblem, type IsoDate, type TargetTable, type WindowQuery } from '@smart-backfill/core';
import { check as checkInput, checkWindow } from './check.js';

export interface MemoryTargetTable extends TargetTable {
  /** Set the row count of (processor, date). */
  setCount(processorName: string, date: IsoDate, n: number): void;
  /** Add rows to (processor, date); returns the new count. */
  addRows(processorName: string, date: IsoDate, n: number): number;
  count(processorName: string, date: IsoDate): number;
  readonly reads: () => number;
}

/** Row counts per (processor, date): the table each processor fills. */
export const memoryTargetTable = (): MemoryTargetTable => {
  const counts = new Map<string, Map<IsoDate, number>>();
  let reads = 0;
  const table = (p: string): Map<IsoDate, number> => {
    let t = counts.get(p);
    if (t === undefined) counts.set(p, (t = new Map()));
    return t;
  };
  const check = (n: number): void => checkInput(countProblem, n, 'row count');
  return {
    async recordCounts(q: WindowQuery) {
      checkWindow(q);
      reads++;
      const out = new Map<IsoDate, number>();
      for (const [d, n] of counts.get(q.processorName) ?? []) if (d >= q.start && d <= q.end && n > 0) out.set(d, n);
      return out;
    },
    setCount(p, d, n) {
      check(n);
      table(p).set(d, n);
    },
    addRows(p, d, n) {
      check(n);
      const t = table(p);
      const next = (t.get(d) ?? 0) + n;
      t.set(d, next);
      return next;
    },
    count: (p, d) => counts.get(p)?.get(d) ?? 0,
    reads: () => reads,
  };
};
