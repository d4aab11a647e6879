import {
  testAlertLog,
  testBackfillQueue,
  testRequestTracker,
  testRunLog,
  testScheduleSource,
  testTargetTable,
} from '@smart-backfill/testkit';
import { openSqliteStore, sqliteScheduleSource, sqliteTargetTable, sqliteWindowReader, type SqliteStore } from '@smart-backfill/sqlite';
import type { BackfillRequest, HeldRun, RunRecord } from '@smart-backfill/core';

/** Every subject gets its own private in-memory file, with the manual clock for leases. */
const open = (clock: { now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void> }): SqliteStore =>
  openSqliteStore({ path: ':memory:', clock });

testScheduleSource({
  name: 'sqlite (status column, shared table with a processor column)',
  create: async ({ clock }) => {
    const store = open(clock);
    store.db.exec(
      'CREATE TABLE game_schedule (game_id INTEGER PRIMARY KEY, game_date TEXT NOT NULL, game_status TEXT NOT NULL, processor_name TEXT NOT NULL)',
    );
    store.db.exec('CREATE TABLE summary (game_date TEXT NOT NULL)');
    const insert = store.db.prepare('INSERT INTO game_schedule (game_date, game_status, processor_name) VALUES (?, ?, ?)');
    const options = {
      table: 'game_schedule',
      dateColumn: 'game_date',
      statusColumn: 'game_status',
      statuses: ['Final', 'Completed'],
      processorColumn: 'processor_name',
    };
    return {
      schedule: sqliteScheduleSource(store.db, options),
      window: sqliteWindowReader(store.db, options, { table: 'summary', dateColumn: 'game_date' }),
      seed: async ({ processorName, expected }) => {
        for (const row of expected) insert.run(row.date, row.status ?? 'Final', processorName);
      },
      statuses: { accepted: ['Final', 'Completed'], rejected: ['Postponed', 'Scheduled', 'final', "Final'--"] },
      perProcessor: true,
      cleanup: () => store.close(),
    };
  },
});

testScheduleSource({
  name: 'sqlite (one schedule for every processor, datetime text column)',
  create: async ({ clock }) => {
    const store = open(clock);
    store.db.exec('CREATE TABLE markets (opened_at TEXT NOT NULL)');
    const insert = store.db.prepare('INSERT INTO markets (opened_at) VALUES (?)');
    return {
      schedule: sqliteScheduleSource(store.db, { table: 'markets', dateColumn: 'opened_at', dateColumnType: 'datetime' }),
      window: sqliteWindowReader(
        store.db,
        { table: 'markets', dateColumn: 'opened_at', dateColumnType: 'datetime' },
        { table: 'markets', dateColumn: 'opened_at', dateColumnType: 'datetime' },
      ),
      seed: async ({ expected }) => {
        for (const row of expected) insert.run(`${row.date} 09:30:00`);
      },
      cleanup: () => store.close(),
    };
  },
});

testTargetTable({
  name: 'sqlite (shared table with a processor column)',
  create: async ({ clock }) => {
    const store = open(clock);
    store.db.exec('CREATE TABLE player_game_summary (player_id INTEGER, game_date TEXT NOT NULL, processor_name TEXT NOT NULL)');
    const insert = store.db.prepare('INSERT INTO player_game_summary (player_id, game_date, processor_name) VALUES (?, ?, ?)');
    const seed = store.db.transaction((processorName: string, counts: Readonly<Record<string, number>>) => {
      for (const [date, n] of Object.entries(counts)) for (let i = 0; i < n; i++) insert.run(i, date, processorName);
    });
    return {
      target: sqliteTargetTable(store.db, { table: 'player_game_summary', dateColumn: 'game_date', processorColumn: 'processor_name' }),
      seed: async ({ processorName, counts }) => seed(processorName, counts),
      perProcessor: true,
      cleanup: () => store.close(),
    };
  },
});

testTargetTable({
  name: 'sqlite (one table, epoch-millis column)',
  create: async ({ clock }) => {
    const store = open(clock);
    store.db.exec('CREATE TABLE events (at_ms INTEGER NOT NULL)');
    const insert = store.db.prepare('INSERT INTO events (at_ms) VALUES (?)');
    const seed = store.db.transaction((counts: Readonly<Record<string, number>>) => {
      for (const [date, n] of Object.entries(counts))
        for (let i = 0; i < n; i++) insert.run(Date.parse(`${date}T00:00:00Z`) + (i % 86_400) * 1000);
    });
    return {
      target: sqliteTargetTable(store.db, { table: 'events', dateColumn: 'at_ms', dateColumnType: 'epoch-millis' }),
      seed: async ({ counts }) => seed(counts),
      cleanup: () => store.close(),
    };
  },
});

testBackfillQueue({
  name: 'sqlite',
  create: async ({ clock }) => {
    const store = open(clock);
    return {
      queue: store.queue,
      backdoor: {
        deadLettered: async () => store.db.prepare(`SELECT message_key FROM backfill_queue WHERE state = 'dead'`).pluck().all() as string[],
      },
      cleanup: () => store.close(),
    };
  },
});

testRequestTracker({
  name: 'sqlite',
  create: async ({ clock }) => {
    const store = open(clock);
    const read = store.db.prepare('SELECT * FROM backfill_requests WHERE request_id = ?');
    return {
      tracker: store.tracker,
      backdoor: {
        // Straight from the row, column by column, not through the adapter's own mapping.
        readRequest: async (id: string): Promise<BackfillRequest | undefined> => {
          const r = read.get(id) as Record<string, unknown> | undefined;
          if (r === undefined) return undefined;
          return {
            requestId: r['request_id'],
            processorName: r['processor_name'],
            date: r['game_date'],
            requestType: r['request_type'],
            priority: r['priority'],
            requestedAt: r['requested_at'],
            requestedBy: r['requested_by'],
            triggerReason: r['trigger_reason'],
            metadata: JSON.parse(r['metadata'] as string),
            status: r['status'],
            attempt: r['attempt'],
            failures: r['failures'],
            gaveUp: r['gave_up'] === 1,
            startedAt: r['started_at'],
            completedAt: r['completed_at'],
            errorMessage: r['error_message'],
            leaseOwner: r['lease_owner'],
            leaseExpiresAt: r['lease_expires_at'],
            publishedAt: r['published_at'],
            notBefore: r['not_before'],
            updatedAt: r['updated_at'],
          } as BackfillRequest;
        },
      },
      cleanup: () => store.close(),
    };
  },
});

testRunLog({
  name: 'sqlite',
  create: async ({ clock }) => {
    const store = open(clock);
    return {
      runLog: store.runLog,
      backdoor: {
        readRuns: async () =>
          (
            store.db.prepare('SELECT * FROM analytics_processor_runs ORDER BY started_at, rowid').all() as Array<Record<string, unknown>>
          ).map(
            (r) =>
              ({
                runId: r['run_id'],
                processorName: r['processor_name'],
                runDate: r['run_date'],
                trigger: r['run_trigger'],
                isBackfill: r['is_backfill'] === 1,
                outcome: r['outcome'],
                skipReason: r['skip_reason'],
                errorMessage: r['error_message'],
                startedAt: r['started_at'],
                finishedAt: r['finished_at'],
                durationMs: r['duration_ms'],
                metadata: JSON.parse(r['metadata'] as string),
              }) as RunRecord,
          ),
        readHeld: async () =>
          (store.db.prepare('SELECT * FROM held_runs ORDER BY run_date, processor_name').all() as Array<Record<string, unknown>>).map(
            (r) =>
              ({
                processorName: r['processor_name'],
                runDate: r['run_date'],
                heldAt: r['held_at'],
                reason: r['reason'],
                waitingFor: JSON.parse(r['waiting_for'] as string),
                status: r['status'],
                releasedAt: r['released_at'],
                claimedBy: r['claimed_by'],
                claimedAt: r['claimed_at'],
                leaseUntil: r['lease_until'],
                claims: r['claims'],
                resumeRunId: r['resume_run_id'],
              }) as HeldRun,
          ),
      },
      cleanup: () => store.close(),
    };
  },
});

testAlertLog({
  name: 'sqlite',
  create: async ({ clock }) => {
    const store = open(clock);
    return { alertLog: store.alertLog, cleanup: () => store.close() };
  },
});
