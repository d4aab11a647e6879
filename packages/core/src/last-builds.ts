import type { LastBuild, RunRecord } from './ports/run-log.js';

/**
 * The last successful build of each (processor, run date) among `runs`: the rule
 * `RunLog.lastBuilds` answers, for stores that do not offer it (fold their `runs`) and for
 * the memory store. Failed and skipped runs built nothing; they are left out. Ordered by
 * processor name, then run date.
 */
export const lastBuildsOf = (runs: Iterable<RunRecord>): LastBuild[] => {
  const byKey = new Map<string, { processorName: string; runDate: RunRecord['runDate']; startedAt: number; finishedAt: number }>();
  for (const r of runs) {
    if (r.outcome !== 'succeeded') continue;
    const key = `${r.processorName}\u0000${r.runDate}`;
    const b = byKey.get(key);
    if (b === undefined)
      byKey.set(key, { processorName: r.processorName, runDate: r.runDate, startedAt: r.startedAt, finishedAt: r.finishedAt });
    else {
      b.startedAt = Math.max(b.startedAt, r.startedAt);
      b.finishedAt = Math.max(b.finishedAt, r.finishedAt);
    }
  }
  return [...byKey.values()].sort((a, b) =>
    a.processorName === b.processorName
      ? a.runDate < b.runDate
        ? -1
        : a.runDate > b.runDate
          ? 1
          : 0
      : a.processorName < b.processorName
        ? -1
        : 1,
  );
};
