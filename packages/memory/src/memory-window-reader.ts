import type { ScheduleSource, TargetTable, WindowQuery, WindowReader } from '@smart-backfill/core';

export interface MemoryWindowReader extends WindowReader {
  readonly reads: () => number;
}

/** Schedule and counts in one call, as a store that can join both would serve them. */
export const memoryWindowReader = (schedule: ScheduleSource, target: TargetTable): MemoryWindowReader => {
  let reads = 0;
  const describe = schedule.describeWindow?.bind(schedule);
  return {
    async readWindow(q: WindowQuery) {
      reads++;
      const [expectedDates, recordCounts] = await Promise.all([schedule.expectedDates(q), target.recordCounts(q)]);
      return { expectedDates, recordCounts };
    },
    ...(describe === undefined ? {} : { describeWindow: (q: WindowQuery) => describe(q) }),
    reads: () => reads,
  };
};
