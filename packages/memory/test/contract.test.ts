/**
 * Every testkit contract suite against the memory adapters: one call per port.
 */
import type { IsoDate } from '@smart-backfill/core';
import {
  createMemoryStore,
  memoryAlertLog,
  memoryBackfillQueue,
  memoryCheckReader,
  memoryRequestTracker,
  memoryRunLog,
  memoryScheduleSource,
  memoryTargetTable,
  memoryWindowReader,
} from '@smart-backfill/memory';
import {
  testAlertLog,
  testBackfillQueue,
  testCheckReader,
  testRequestTracker,
  testRunLog,
  testScheduleSource,
  testTargetTable,
} from '@smart-backfill/testkit';

testScheduleSource({
  name: 'memory',
  create: async () => {
    const schedule = memoryScheduleSource();
    return {
      schedule,
      perProcessor: true,
      seed: async ({ processorName, expected }) =>
        schedule.add(
          processorName,
          expected.map((r) => r.date),
        ),
    };
  },
});

testScheduleSource({
  name: 'memory (status filter, read through its window reader too)',
  create: async () => {
    const schedule = memoryScheduleSource({}, { name: 'calendar', status: { column: 'state', accepted: ['open', 'late'] } });
    return {
      schedule,
      window: memoryWindowReader(schedule, memoryTargetTable()),
      statuses: { accepted: ['open', 'late'], rejected: ['closed', 'Open'] },
      perProcessor: true,
      seed: async ({ processorName, expected }) =>
        schedule.addRows(
          processorName,
          expected.map((r) => ({ date: r.date, status: r.status ?? 'open' })),
        ),
    };
  },
});

testTargetTable({
  name: 'memory',
  create: async () => {
    const target = memoryTargetTable();
    return {
      target,
      perProcessor: true,
      seed: async ({ processorName, counts }) => {
        for (const [date, n] of Object.entries(counts)) target.addRows(processorName, date as IsoDate, n);
      },
    };
  },
});

testBackfillQueue({
  name: 'memory',
  create: async ({ clock }) => {
    const queue = memoryBackfillQueue({ clock });
    return { queue, backdoor: { deadLettered: async () => queue.state().deadLettered.map((d) => d.id) } };
  },
});

testRequestTracker({
  name: 'memory',
  create: async ({ clock }) => {
    const tracker = memoryRequestTracker({ clock });
    return { tracker, backdoor: { readRequest: async (id) => tracker.all().find((r) => r.requestId === id) } };
  },
});

testRunLog({
  name: 'memory',
  create: async ({ clock }) => {
    const runLog = memoryRunLog({ clock });
    return { runLog, backdoor: { readRuns: async () => runLog.all(), readHeld: async () => runLog.allHeld() } };
  },
});

testAlertLog({ name: 'memory', create: async ({ clock }) => ({ alertLog: memoryAlertLog({ clock }) }) });

// The store wires the same adapters to one clock; run the stateful suites once through it too.
testRequestTracker({ name: 'memory store', create: async ({ clock }) => ({ tracker: createMemoryStore({ clock }).tracker }), numRuns: 10 });
testBackfillQueue({ name: 'memory store', create: async ({ clock }) => ({ queue: createMemoryStore({ clock }).queue }), numRuns: 10 });

testCheckReader({
  name: 'memory',
  create: async ({ clock }) => {
    const schedule = memoryScheduleSource();
    const target = memoryTargetTable();
    const tracker = memoryRequestTracker({ clock });
    const alertLog = memoryAlertLog({ clock });
    const runLog = memoryRunLog({ clock });
    return {
      reader: memoryCheckReader(memoryWindowReader(schedule, target), { tracker, alertLog, runLog }),
      tracker,
      alertLog,
      runLog,
      seedWindow: async ({ processorName, expected, counts }) => {
        schedule.add(processorName, expected);
        for (const [date, n] of Object.entries(counts)) target.addRows(processorName, date as IsoDate, n);
      },
    };
  },
});
