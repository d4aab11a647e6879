import { join } from 'node:path';
import Database from 'better-sqlite3';
import { addDays, dateRange, isoDate, toEpochDay, type IsoDate, type RunRecord } from '@smart-backfill/core';
import { openSqliteStore, type SqliteStore } from '@smart-backfill/sqlite';
import { tempDir } from './helpers.js';

const DAY_MS = 86_400_000;
const MIN_MS = 60_000;

/** Epoch ms of `date` at `hour`:`minute` UTC. */
export const at = (date: string, hour = 0, minute = 0): number => toEpochDay(isoDate(date)) * DAY_MS + hour * 3_600_000 + minute * MIN_MS;

export interface RequestSpec {
  readonly type?: 'auto' | 'manual';
  /** Final status; transitions are applied through the tracker, so the lifecycle is real. */
  readonly status: 'queued' | 'processing' | 'completed' | 'failed';
  readonly requestedAt: number;
  /** Claim time (processing/completed/failed); default requestedAt + 1 min. */
  readonly startedAt?: number;
  /** Completion or failure time; default startedAt + 5 min. */
  readonly finishedAt?: number;
  readonly error?: string;
}

/**
 * A temp folder with a SQLite store and a config over two plain tables shared by
 * processors (`schedule(processor, day)`, `target(processor, day)`), plus helpers
 * that write requests, runs, held runs and alerts through the real adapters.
 */
export const reportStore = (processors: readonly { name: string; minRecordsPerDate?: number }[] = [{ name: 'orders_daily' }]) => {
  const t = tempDir('sb-report-');
  const dbPath = join(t.dir, 'store.db');
  let now = at('2025-01-01');
  const clock = { now: () => now, sleep: async () => undefined };
  const store: SqliteStore = openSqliteStore({ path: dbPath, clock });
  store.db.exec(
    'CREATE TABLE IF NOT EXISTS schedule (processor TEXT NOT NULL, day TEXT NOT NULL); CREATE TABLE IF NOT EXISTS target (processor TEXT NOT NULL, day TEXT NOT NULL, v INTEGER)',
  );
  t.write('smart-backfill.config.json', {
    store: { type: 'sqlite', path: './store.db' },
    processors: processors.map((p) => ({
      name: p.name,
      schedule: { table: 'schedule', dateColumn: 'day', processorColumn: 'processor' },
      target: { table: 'target', dateColumn: 'day', processorColumn: 'processor' },
      policy: { minRecordsPerDate: p.minRecordsPerDate ?? 10 },
      command: 'node fill.js --date {date}',
    })),
  });
  let seq = 0;
  const insertSchedule = store.db.prepare('INSERT INTO schedule (processor, day) VALUES (?, ?)');
  const insertRow = store.db.prepare('INSERT INTO target (processor, day, v) VALUES (?, ?, ?)');
  const fx = {
    dir: t.dir,
    dbPath,
    store,
    setNow: (ms: number) => {
      now = ms;
    },
    /** Schedule `dates` for `processor`. */
    schedule: (processor: string, dates: Iterable<string>) => {
      store.db.transaction(() => {
        for (const d of dates) insertSchedule.run(processor, d);
      })();
    },
    /** Add `n` rows for `date`. */
    rows: (processor: string, date: string, n: number) => {
      store.db.transaction(() => {
        for (let i = 0; i < n; i++) insertRow.run(processor, date, i);
      })();
    },
    /** A request for `date` driven to `spec.status` through the tracker's lifecycle. */
    request: async (processor: string, date: string, spec: RequestSpec) => {
      const id = `req-${++seq}`;
      now = spec.requestedAt;
      const type = spec.type ?? 'auto';
      await store.tracker.create([
        {
          requestId: id,
          processorName: processor,
          gameDate: isoDate(date),
          requestType: type,
          priority: 'normal',
          requestedAt: spec.requestedAt,
          requestedBy: type === 'auto' ? 'smart_backfill_detection' : 'on-call',
          triggerReason: type === 'auto' ? 'auto_backfill' : 'manual_backfill',
          metadata: {},
        },
      ]);
      if (spec.status === 'queued') return id;
      const started = spec.startedAt ?? spec.requestedAt + MIN_MS;
      const claim = await store.tracker.apply(id, { _tag: 'Claim', at: started, owner: 'w', leaseMs: 3_600_000 });
      if (claim._tag === 'Err') throw new Error(claim.error.message);
      if (spec.status === 'processing') return id;
      const fin = spec.finishedAt ?? started + 5 * MIN_MS;
      const r = await store.tracker.apply(
        id,
        spec.status === 'completed'
          ? { _tag: 'Complete', at: fin, attempt: 1 }
          : { _tag: 'Fail', at: fin, attempt: 1, error: spec.error ?? 'boom' },
      );
      if (r._tag === 'Err') throw new Error(r.error.message);
      return id;
    },
    run: async (r: Partial<RunRecord> & Pick<RunRecord, 'processorName' | 'runDate' | 'startedAt'>) => {
      const finishedAt = r.finishedAt ?? r.startedAt + MIN_MS;
      await store.runLog.append({
        runId: `run-${++seq}`,
        trigger: 'scheduled',
        isBackfill: false,
        outcome: 'succeeded',
        skipReason: null,
        errorMessage: null,
        finishedAt,
        durationMs: finishedAt - r.startedAt,
        metadata: {},
        ...r,
      });
    },
    /** Raw counts straight from SQLite, the backdoor a test compares with. */
    count: (processor: string, date: string): number =>
      (store.db.prepare('SELECT count(*) FROM target WHERE processor = ? AND day = ?').pluck().get(processor, date) as number) ?? 0,
    close: async () => {
      await store.close();
    },
    cleanup: async () => {
      await store.close();
      t.cleanup();
    },
  };
  return fx;
};

export type ReportStore = ReturnType<typeof reportStore>;

/** Weekdays from `from` to `to` (the fixtures' schedule: no games at weekends). */
export const weekdays = (from: string, to: string): IsoDate[] =>
  dateRange(isoDate(from), isoDate(to)).filter((d) => (toEpochDay(d) + 3) % 7 < 5);

/** The dates `everyStateStore` gives each state (today is 2025-11-28, a Friday). */
export const STATE_DATES = {
  today: '2025-11-28',
  incomplete: '2025-11-03',
  missing: '2025-11-04',
  failed: '2025-11-05',
  escalated: ['2025-11-10', '2025-11-11'],
  healedAuto: '2025-11-13',
  healedManual: '2025-11-17',
  queued: '2025-11-26',
  processing: '2025-11-27',
} as const;

/** The error message of the failed date: HTML the report must escape. */
export const NASTY_ERROR = 'upstream said <script>alert("pwned")</script> & "quit"';

/**
 * One processor over 60 days to 2025-11-28 with every day state present:
 * complete, no games (weekends), incomplete, missing, queued, processing,
 * failed, escalated and today (not yet due); plus a gap healed automatically
 * (detected, filled, held run resumed) and one healed by a manual backfill.
 */
export const everyStateStore = async (name = 'orders_daily') => {
  const fx = reportStore([{ name }]);
  const S = STATE_DATES;
  const days = weekdays('2025-09-01', S.today);
  fx.schedule(name, days);
  const empty = new Set<string>([S.missing, S.failed, ...S.escalated, S.queued, S.processing, S.today]);
  for (const d of days) if (!empty.has(d)) fx.rows(name, d, d === S.incomplete ? 3 : 20);
  // Healed automatically: the run of the next day found it missing, held, backfill completed, run resumed.
  const detect = at(addDays(isoDate(S.healedAuto), 1), 6);
  await fx.run({
    processorName: name,
    runDate: addDays(isoDate(S.healedAuto), 1),
    startedAt: detect,
    outcome: 'skipped',
    skipReason: 'backfill_queued',
    metadata: { gap_size: 1, missing_dates: [isoDate(S.healedAuto)] },
  });
  await fx.request(name, S.healedAuto, {
    status: 'completed',
    requestedAt: detect,
    startedAt: detect + 5 * MIN_MS,
    finishedAt: detect + 12 * MIN_MS,
  });
  await fx.store.runLog.hold({
    processorName: name,
    runDate: addDays(isoDate(S.healedAuto), 1),
    heldAt: detect,
    reason: 'backfill_queued',
    waitingFor: [isoDate(S.healedAuto)],
  });
  await fx.store.runLog.release(name, addDays(isoDate(S.healedAuto), 1), 'resumed', detect + 15 * MIN_MS);
  await fx.run({
    processorName: name,
    runDate: addDays(isoDate(S.healedAuto), 1),
    startedAt: detect + 14 * MIN_MS,
    trigger: 'resume',
    finishedAt: detect + 15 * MIN_MS,
  });
  // Healed by a person.
  await fx.request(name, S.healedManual, {
    type: 'manual',
    status: 'completed',
    requestedAt: at(S.healedManual, 12),
    finishedAt: at(S.healedManual, 12, 40),
  });
  // Failed backfill: the date is still empty.
  await fx.request(name, S.failed, { status: 'failed', requestedAt: at('2025-11-06', 6), error: NASTY_ERROR });
  // Escalated: an open alert; the runs that found it were held.
  fx.setNow(at('2025-11-12', 6));
  await fx.store.alertLog.upsertOpen({
    alertKey: `${name}:gap`,
    processorName: name,
    reason: 'gap_exceeds_threshold',
    runDate: isoDate('2025-11-12'),
    missingDates: S.escalated.map((d) => isoDate(d)),
    lastError: null,
    openedAt: at('2025-11-12', 6),
    at: at('2025-11-12', 6),
  });
  await fx.run({
    processorName: name,
    runDate: isoDate('2025-11-12'),
    startedAt: at('2025-11-12', 6),
    outcome: 'skipped',
    skipReason: 'gap_escalated',
    metadata: { gap_size: 2, missing_dates: S.escalated.map((d) => isoDate(d)) },
  });
  await fx.store.runLog.hold({
    processorName: name,
    runDate: isoDate('2025-11-12'),
    heldAt: at('2025-11-12', 6),
    reason: 'gap_escalated',
    waitingFor: S.escalated.map((d) => isoDate(d)),
  });
  // In flight now.
  await fx.request(name, S.queued, { status: 'queued', requestedAt: at(S.today, 6) });
  await fx.request(name, S.processing, { status: 'processing', requestedAt: at(S.today, 6), startedAt: at(S.today, 6, 5) });
  await fx.run({
    processorName: name,
    runDate: isoDate(S.today),
    startedAt: at(S.today, 6),
    outcome: 'skipped',
    skipReason: 'backfill_queued',
    metadata: { gap_size: 2, missing_dates: [isoDate(S.queued), isoDate(S.processing)] },
  });
  await fx.store.runLog.hold({
    processorName: name,
    runDate: isoDate(S.today),
    heldAt: at(S.today, 6),
    reason: 'backfill_queued',
    waitingFor: [isoDate(S.queued), isoDate(S.processing)],
  });
  // Ordinary nightly runs on the other weekdays.
  for (const d of weekdays('2025-10-01', '2025-11-27'))
    if (!empty.has(d) && d !== S.healedAuto && d !== '2025-11-12' && d !== addDays(isoDate(S.healedAuto), 1))
      await fx.run({ processorName: name, runDate: d, startedAt: at(addDays(d, 1), 6) });
  fx.setNow(at(S.today, 12));
  await fx.close();
  return fx;
};

/** Count rows through a fresh connection (the CLI may have closed the store). */
export const rawCount = (dbPath: string, sql: string, ...params: unknown[]): number => {
  const d = new Database(dbPath, { readonly: true });
  try {
    return d
      .prepare(sql)
      .pluck()
      .get(...params) as number;
  } finally {
    d.close();
  }
};
