import { join } from 'node:path';
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

/** Where a fixture's schedule and target live: the tables to create and how the config names them. */
export interface TableLayout {
  readonly sql: string;
  readonly schedule: Record<string, unknown>;
  readonly target: Record<string, unknown>;
}

/** Two plain tables shared by processors: `schedule(processor, day)`, `target(processor, day)`. */
const SHARED_TABLES: TableLayout = {
  sql: 'CREATE TABLE IF NOT EXISTS schedule (processor TEXT NOT NULL, day TEXT NOT NULL); CREATE TABLE IF NOT EXISTS target (processor TEXT NOT NULL, day TEXT NOT NULL, v INTEGER)',
  schedule: { table: 'schedule', dateColumn: 'day', processorColumn: 'processor' },
  target: { table: 'target', dateColumn: 'day', processorColumn: 'processor' },
};

/**
 * A temp folder with a SQLite store and a config over plain tables (by default
 * two shared by processors, see `SHARED_TABLES`), plus helpers that write
 * requests, runs, held runs and alerts through the real adapters.
 */
export const reportStore = (
  processors: readonly { name: string; minRecordsPerDate?: number }[] = [{ name: 'orders_daily' }],
  layout: TableLayout = SHARED_TABLES,
) => {
  const t = tempDir('sb-report-');
  const dbPath = join(t.dir, 'store.db');
  let now = at('2025-01-01');
  const clock = { now: () => now, sleep: async () => undefined };
  const store: SqliteStore = openSqliteStore({ path: dbPath, clock });
  store.db.exec(SHARED_TABLES.sql);
  if (layout !== SHARED_TABLES) store.db.exec(layout.sql);
  t.write('smart-backfill.config.json', {
    store: { type: 'sqlite', path: './store.db' },
    processors: processors.map((p) => ({
      name: p.name,
      schedule: layout.schedule,
      target: layout.target,
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
          date: isoDate(date),
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

/** The retail example's dates (today is Wednesday 2025-12-10; the shop calendar starts on Thursday 2025-09-04). */
export const RETAIL = {
  today: '2025-12-10',
  scheduleStart: '2025-09-04',
  /** Healed by an automatic backfill: one date, then two. */
  healedAuto: ['2025-10-14', '2025-11-03', '2025-11-04'],
  /** An outage of three dates, escalated, healed by a person's `backfill`. */
  healedManual: ['2025-11-18', '2025-11-19', '2025-11-20'],
  /** Still open: its backfill failed. */
  failed: '2025-12-08',
  /** Closed days inside the schedule: Sundays, Thanksgiving. */
  holidays: ['2025-11-27'],
} as const;

/**
 * A shop's warehouse, not a game schedule: `calendar(day, state)` with 'open'
 * and 'closed' days from 2025-09-04 (Sundays and holidays closed) and
 * `orders_daily(order_date, store_id, amount)` with 12 stores a day. Gaps healed
 * automatically (runs held, backfilled, resumed), an outage escalated and healed
 * by a person, and a failed backfill still open.
 */
export const retailStore = async () => {
  const name = 'orders_daily';
  const fx = reportStore([{ name, minRecordsPerDate: 10 }], {
    sql: 'CREATE TABLE calendar (day TEXT PRIMARY KEY, state TEXT NOT NULL); CREATE TABLE orders_daily (order_date TEXT NOT NULL, store_id INTEGER NOT NULL, amount REAL NOT NULL)',
    schedule: { table: 'calendar', dateColumn: 'day', statusColumn: 'state', statuses: ['open'] },
    target: { table: 'orders_daily', dateColumn: 'order_date' },
  });
  const R = RETAIL;
  const days = dateRange(isoDate(R.scheduleStart), isoDate('2025-12-31'));
  const open = (d: IsoDate): boolean => (toEpochDay(d) + 3) % 7 !== 6 && !(R.holidays as readonly string[]).includes(d);
  const insertDay = fx.store.db.prepare('INSERT INTO calendar (day, state) VALUES (?, ?)');
  const insertOrder = fx.store.db.prepare('INSERT INTO orders_daily (order_date, store_id, amount) VALUES (?, ?, ?)');
  fx.store.db.transaction(() => {
    for (const d of days) {
      insertDay.run(d, open(d) ? 'open' : 'closed');
      // The healed dates hold their rows again (the backfills wrote them); the failed one is still empty.
      if (open(d) && d < R.today && d !== R.failed) for (let s = 1; s <= 12; s++) insertOrder.run(d, s, 100 + s);
    }
  })();
  const nextOpen = (d: IsoDate): IsoDate => {
    let n = addDays(d, 1);
    while (!open(n)) n = addDays(n, 1);
    return n;
  };
  // Each automatic gap: the next run found it, was held, the backfill filled it, the run resumed.
  for (const group of [[R.healedAuto[0]], [R.healedAuto[1], R.healedAuto[2]]] as const) {
    const runDate = nextOpen(isoDate(group[group.length - 1] as string));
    const found = at(addDays(runDate, 1), 6);
    await fx.run({
      processorName: name,
      runDate,
      startedAt: found,
      outcome: 'skipped',
      skipReason: 'backfill_queued',
      metadata: { gap_size: group.length, missing_dates: group.map((d) => isoDate(d)) },
    });
    await fx.store.runLog.hold({
      processorName: name,
      runDate,
      heldAt: found,
      reason: 'backfill_queued',
      waitingFor: group.map((d) => isoDate(d)),
    });
    for (const d of group)
      await fx.request(name, d, { status: 'completed', requestedAt: found, startedAt: found + 2 * MIN_MS, finishedAt: found + 9 * MIN_MS });
    await fx.run({ processorName: name, runDate, startedAt: found + 10 * MIN_MS, trigger: 'resume', finishedAt: found + 12 * MIN_MS });
    await fx.store.runLog.release(name, runDate, 'resumed', found + 12 * MIN_MS);
  }
  // The outage: three dates missing is past the auto-backfill threshold; escalated, and a person ran `backfill`.
  const outageRun = nextOpen(isoDate(R.healedManual[2]));
  const escalatedAt = at(addDays(outageRun, 1), 6);
  const manualDates = R.healedManual.map((d) => isoDate(d));
  fx.setNow(escalatedAt);
  await fx.store.alertLog.upsertOpen({
    alertKey: `${name}:gap`,
    processorName: name,
    reason: 'gap_exceeds_threshold',
    runDate: outageRun,
    missingDates: manualDates,
    lastError: null,
    openedAt: escalatedAt,
    at: escalatedAt,
  });
  await fx.run({
    processorName: name,
    runDate: outageRun,
    startedAt: escalatedAt,
    outcome: 'skipped',
    skipReason: 'gap_escalated',
    metadata: { gap_size: 3, missing_dates: manualDates },
  });
  await fx.store.runLog.hold({
    processorName: name,
    runDate: outageRun,
    heldAt: escalatedAt,
    reason: 'gap_escalated',
    waitingFor: manualDates,
  });
  const fixedAt = at('2025-11-24', 9, 30);
  for (const d of manualDates)
    await fx.request(name, d, { type: 'manual', status: 'completed', requestedAt: fixedAt, finishedAt: fixedAt + 8 * MIN_MS });
  await fx.run({
    processorName: name,
    runDate: outageRun,
    startedAt: fixedAt + 10 * MIN_MS,
    trigger: 'resume',
    finishedAt: fixedAt + 12 * MIN_MS,
  });
  await fx.store.runLog.release(name, outageRun, 'resumed', fixedAt + 12 * MIN_MS);
  await fx.store.alertLog.resolve(`${name}:gap`, fixedAt + 12 * MIN_MS);
  // Still open: the next run found the 8th missing and its backfill failed.
  const lastFound = at(addDays(isoDate(R.failed), 2), 6);
  await fx.run({
    processorName: name,
    runDate: nextOpen(isoDate(R.failed)),
    startedAt: lastFound,
    outcome: 'skipped',
    skipReason: 'backfill_queued',
    metadata: { gap_size: 1, missing_dates: [isoDate(R.failed)] },
  });
  await fx.request(name, R.failed, { status: 'failed', requestedAt: lastFound, error: 'warehouse export timed out after 600 s' });
  fx.setNow(at(R.today, 12));
  await fx.close();
  return fx;
};
