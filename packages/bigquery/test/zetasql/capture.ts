/**
 * Every statement the BigQuery adapter can issue, captured from the wire: the real
 * `@google-cloud/bigquery` client against the loopback REST fake, driven through
 * `init --bigquery`'s DDL, each guard decision, the worker and resume, direct tracker
 * transitions, and the reads `status`, `metrics`, `assess` and `report` make.
 */
import { addDays, isoDate, type IsoDate } from '@smart-backfill/core';
import { createWorker, processorRegistry, resumeHeldRuns, withSmartBackfill, type GuardedProcessor } from '@smart-backfill/engine';
import { memoryAlerter, memoryBackfillQueue } from '@smart-backfill/memory';
import { ManualClock, aNewRequest } from '@smart-backfill/testkit';
import { applyDdl, openBigQueryStore, type BigQueryStore } from '@smart-backfill/bigquery';
import type { BigQueryScheduleOptions } from '../../src/bigquery-schedule-source.js';
import type { BigQueryTargetOptions } from '../../src/bigquery-target-table.js';
import type { FakeBigQuery, UserTableConfig } from '../fake-bigquery-server.js';
import type { RestParameterType } from './analyzer.js';
import { ZetaSqlBigQuery } from './zetasql-bigquery.js';

export const PROJECT = 'test-project';
export const DATASET = 'ops';

/** A statement as the client sent it: SQL and its typed parameters. */
export interface CapturedStatement {
  readonly sql: string;
  readonly params: readonly { readonly name: string; readonly parameterType: RestParameterType }[];
  /** `window`, `tracker.settle`, `check window+requests+alerts+held`, `ddl`... */
  readonly op: string;
}

/**
 * The user tables the scenarios read, as their owners would create them (non-NBA
 * names on purpose), and how the fake reads them. `extra` are BigQuery's
 * pseudo-columns of an ingestion-time partitioned table.
 */
export const USER_TABLES: readonly {
  readonly name: string;
  readonly ddl: string;
  readonly fake: UserTableConfig;
  readonly pseudo?: readonly { readonly name: string; readonly type: 'TIMESTAMP' | 'DATE' }[];
}[] = [
  { name: 'shop.calendar', ddl: '(day DATE, state STRING)', fake: { dateColumn: 'day', statusColumn: 'state' } },
  { name: 'shop.orders_daily', ddl: '(order_date DATE, store_id STRING, amount NUMERIC)', fake: { dateColumn: 'order_date' } },
  {
    name: 'shop.store_calendar',
    ddl: '(open_day DATE, store_id STRING, state STRING)',
    fake: { dateColumn: 'open_day', statusColumn: 'state', processorColumn: 'store_id' },
  },
  {
    name: 'shop.order_events',
    ddl: '(created_at TIMESTAMP, store_id STRING, amount NUMERIC)',
    fake: { dateColumn: 'created_at', dateColumnType: 'TIMESTAMP', processorColumn: 'store_id' },
  },
  {
    name: 'shop.order_loads',
    ddl: '(loaded_at DATETIME, amount NUMERIC)',
    fake: { dateColumn: 'loaded_at', dateColumnType: 'DATETIME' },
  },
  {
    name: 'shop.raw_orders',
    ddl: '(order_date DATE, store_id STRING, payload JSON)',
    fake: { dateColumn: 'order_date', partitionColumn: '_PARTITIONTIME', partitionColumnType: 'TIMESTAMP' },
    pseudo: [
      { name: '_PARTITIONTIME', type: 'TIMESTAMP' },
      { name: '_PARTITIONDATE', type: 'DATE' },
    ],
  },
];

const CALENDAR: BigQueryScheduleOptions = {
  table: 'shop.calendar',
  dateColumn: 'day',
  statusColumn: 'state',
  statuses: ['closed', 'reconciled'],
};
const ORDERS: BigQueryTargetOptions = { table: 'shop.orders_daily', dateColumn: 'order_date' };
/** Other shapes of schedule and target: TIMESTAMP, DATETIME, a processor column, an ingestion-time partition. */
const SCHEDULES: readonly BigQueryScheduleOptions[] = [
  CALENDAR,
  { table: 'shop.store_calendar', dateColumn: 'open_day', statusColumn: 'state', statuses: ['closed'], processorColumn: 'store_id' },
  { table: 'shop.order_events', dateColumn: 'created_at', dateColumnType: 'TIMESTAMP' },
  { table: 'shop.calendar', dateColumn: 'day' },
];
const TARGETS: readonly BigQueryTargetOptions[] = [
  ORDERS,
  { table: 'shop.order_events', dateColumn: 'created_at', dateColumnType: 'TIMESTAMP', processorColumn: 'store_id' },
  { table: 'shop.order_loads', dateColumn: 'loaded_at', dateColumnType: 'DATETIME' },
  { table: 'shop.raw_orders', dateColumn: 'order_date', partitionColumn: '_PARTITIONTIME', partitionLagDays: 2 },
  { table: 'shop.raw_orders', dateColumn: 'order_date', partitionColumn: '_PARTITIONDATE' },
];

/** One run date per flow, far enough apart that their 30-day windows never overlap. */
const RUN_DATES: readonly IsoDate[] = [isoDate('2025-03-20'), isoDate('2025-06-20'), isoDate('2025-09-20')];
const daysBefore = (runDate: IsoDate): IsoDate[] => Array.from({ length: 30 }, (_, i) => addDays(runDate, -30 + i));
const DAYS = daysBefore(RUN_DATES[0]!);
const DAY_MS = 86_400_000;

const seedUserTables = async (fake: FakeBigQuery): Promise<void> => {
  for (const t of USER_TABLES)
    if (fake instanceof ZetaSqlBigQuery) await fake.createTable(`${PROJECT}.${t.name}`, t.ddl, t.pseudo);
    else fake.defineUserTable(`${PROJECT}.${t.name}`, t.fake);
  fake.addUserRows(
    `${PROJECT}.shop.calendar`,
    RUN_DATES.flatMap((r) => [...daysBefore(r), ...daysBefore(addDays(r, 10))]).map((d) => ({ day: d, state: 'closed' })),
  );
};

const fill = (fake: FakeBigQuery, dates: readonly IsoDate[]): void => {
  for (const d of dates)
    fake.addUserRows(
      `${PROJECT}.shop.orders_daily`,
      Array.from({ length: 100 }, (_, i) => ({ order_date: d, store_id: `s${i % 7}`, amount: '1.5' })),
    );
};

interface Flow {
  readonly store: BigQueryStore;
  readonly clock: ManualClock;
  readonly guarded: GuardedProcessor;
  run(): Promise<string>;
  /** Drain the queue with the engine's worker (claims, heartbeats, completes, resumes held runs). */
  work(): Promise<void>;
}

const flow = (fake: FakeBigQuery, name: string, runDate: IsoDate, storeOptions: { verifyWrites?: boolean }): Flow => {
  const clock = new ManualClock(Date.parse(`${runDate}T08:00:00Z`));
  const store = openBigQueryStore({ client: fake.client(PROJECT), tracking: { dataset: DATASET }, ...storeOptions });
  const queue = memoryBackfillQueue({ clock });
  const inner = {
    name,
    run: async ({ date }: { date: IsoDate }) => {
      fill(fake, [date]);
      return 'ok';
    },
  };
  const guarded = withSmartBackfill(inner, {
    window: store.window(CALENDAR, ORDERS),
    tracker: store.tracker,
    queue,
    runLog: store.runLog,
    alertLog: store.alertLog,
    alerter: memoryAlerter(),
    clock,
  });
  const worker = createWorker({ queue, tracker: store.tracker, runLog: store.runLog, registry: processorRegistry([guarded]), clock });
  return {
    store,
    clock,
    guarded,
    async run() {
      const outcome = await guarded.run({ date: runDate });
      clock.advance(60_000);
      return outcome._tag;
    },
    async work() {
      for (let i = 0; i < 10; i++) {
        const tick = await worker.runOnce({ max: 50 });
        clock.advance(60_000);
        if (tick.received === 0) return;
      }
    },
  };
};

const aRequest = (id: string, date: IsoDate, at: number, processorName: string) =>
  aNewRequest(id, processorName, date, at, {
    requestType: 'manual',
    priority: 'high',
    requestedBy: 'someone@example.com',
    triggerReason: 'manual_backfill',
    metadata: { note: 'captured' },
  });

/** The reads each CLI command makes, with the arguments it passes (packages/cli/src/commands/*.ts). */
const commandReads = async (store: BigQueryStore, name: string, now: number): Promise<void> => {
  const today = isoDate(new Date(now).toISOString().slice(0, 10));
  const start = addDays(today, -30);
  const since = now - 30 * DAY_MS;
  // status
  await Promise.all([
    store.tracker.list({ processorName: name, statuses: ['queued', 'processing'] }),
    store.tracker.list({ processorName: name, since: now - 7 * DAY_MS, limit: 50 }),
    store.runLog.heldRuns({ processorName: name, status: 'held' }),
    store.alertLog.list({ processorName: name, openOnly: true }),
    store.tracker.forWindow({ processorName: name, start, end: today }),
  ]);
  // metrics
  await Promise.all([
    store.runLog.runs({ processorName: name, since }),
    store.tracker.list({ processorName: name, since }),
    store.alertLog.list({ processorName: name }),
    store.runLog.heldRuns({ processorName: name }),
  ]);
  // assess
  await Promise.all([
    store.runLog.runs({ processorName: name, since }),
    store.tracker.list({ processorName: name, since }),
    store.tracker.list({ processorName: name, limit: 1 }),
    store.tracker.forWindow({ processorName: name, start, end: today }),
  ]);
  // report
  await Promise.all([
    store.tracker.forWindow({ processorName: name, start, end: today }),
    store.alertLog.list({ processorName: name }),
    store.runLog.runs({ processorName: name, since }),
    store.runLog.heldRuns({ processorName: name }),
  ]);
  // Unfiltered forms (resume's sweep over every processor, the worker's status lines).
  await store.runLog.heldRuns({ status: 'held' });
  await store.runLog.heldRuns({});
  await store.alertLog.list({});
  await store.alertLog.list({ openOnly: true });
  // A change given no record reads the alert's latest row first (the guard hands the check's).
  await store.alertLog.markSent('no-such-alert', 0);
  await store.tracker.list({});
  await store.runLog.runs({});
  await store.runLog.runs({ processorName: name, since, until: now, limit: 100 });
  // plan: the last successful build of each date of the processors it reads.
  await store.runLog.lastBuilds?.({ processorNames: [name, 'other'], since });
};

/**
 * Drive every path and return what the client sent, one entry per query job. On the
 * ZetaSQL-evaluated fake the same paths run the adapter's SQL for real.
 */
export const captureStatements = async (
  fake: FakeBigQuery,
): Promise<{ readonly statements: CapturedStatement[]; readonly outcomes: string[] }> => {
  const mark = fake.requests.length;
  const outcomes: string[] = [];
  await seedUserTables(fake);

  // init --bigquery (with and without a location and partition expiry).
  await applyDdl({ client: fake.client(PROJECT), location: 'EU', partitionExpirationDays: 400, tracking: { dataset: DATASET } });
  await applyDdl({ client: fake.client(PROJECT), tracking: { dataset: DATASET } });

  // Guard decisions, with and without read-backs, and with the defaults.
  for (const [i, opts] of [{ verifyWrites: true }, { verifyWrites: false }, {}].entries()) {
    const runDate = RUN_DATES[i]!;
    const days = daysBefore(runDate);
    const small = flow(fake, `orders_small_${i}`, runDate, opts);
    // Two dates missing: a small gap, queued; the processor of the "large" flow sees the same table.
    fill(fake, days.slice(0, 20));
    fill(fake, days.slice(22, 30));
    outcomes.push(await small.run()); // backfill queued, run held
    outcomes.push(await small.run()); // gap in flight: held again
    await small.work(); // the worker fills the gap and resumes the held run
    outcomes.push(await small.run()); // no gap
    // A large gap on the day after: six dates removed from view by moving the run date on.
    const big = flow(fake, `orders_large_${i}`, addDays(runDate, 7), opts);
    outcomes.push(await big.run()); // escalation: the seven days after the run date have no rows
    outcomes.push(await big.run()); // escalation again, alert known
    fill(
      fake,
      [0, 1, 2, 3, 4, 5, 6].map((k) => addDays(runDate, k)),
    );
    outcomes.push(await big.run()); // alert heals
    await resumeHeldRuns(
      { tracker: big.store.tracker, runLog: big.store.runLog, clock: big.clock, guardFor: () => big.guarded },
      big.guarded.name,
    );
    await commandReads(small.store, small.guarded.name, small.clock.now());
  }

  // Tracker transitions the flows above may not reach, one request each.
  const store = openBigQueryStore({ client: fake.client(PROJECT), tracking: { dataset: DATASET } });
  const P = 'orders_manual';
  await store.tracker.create([aRequest('m1', DAYS[1]!, 1_000, P), aRequest('m2', DAYS[2]!, 1_000, P)]);
  await Promise.all([
    store.tracker.apply('m1', { _tag: 'MarkPublished', at: 1_001 }),
    store.tracker.apply('m2', { _tag: 'MarkPublished', at: 1_001 }),
  ]);
  await store.tracker.apply('m1', { _tag: 'Claim', at: 2_000, owner: 'w1', leaseMs: 60_000 });
  await store.tracker.apply('m1', { _tag: 'Heartbeat', at: 3_000, attempt: 1, leaseMs: 60_000 });
  await store.tracker.apply('m1', { _tag: 'Fail', at: 4_000, attempt: 1, error: 'boom' });
  await store.tracker.apply('m1', { _tag: 'Retry', at: 5_000, notBefore: 6_000 });
  await store.tracker.apply('m1', { _tag: 'Claim', at: 7_000, owner: 'w2', leaseMs: 1_000 });
  await store.tracker.expiredLeases({ now: 10_000, limit: 100 });
  await store.tracker.apply('m1', { _tag: 'LeaseExpired', at: 10_000 });
  await store.tracker.apply('m2', { _tag: 'Claim', at: 2_000, owner: 'w1', leaseMs: 60_000 });
  await store.tracker.apply('m2', { _tag: 'Fail', at: 3_000, attempt: 1, error: 'poison', final: true });
  await store.tracker.unpublished({ olderThan: 100_000, limit: 100 });
  await store.tracker.get('m1');
  // Two processes creating one date at once: BigQuery's transaction conflict settles the race.
  const other = openBigQueryStore({ client: fake.client(PROJECT), tracking: { dataset: DATASET } });
  // A request this process did not create: MarkPublished reads it first.
  await other.tracker.apply('m2', { _tag: 'MarkPublished', at: 20_000 });
  await Promise.all([
    store.tracker.create([aRequest('r-a', DAYS[5]!, 1_000, P)]),
    other.tracker.create([aRequest('r-b', DAYS[5]!, 1_000, P)]),
  ]);
  // Hold and release directly (cancel as well as resume).
  await store.runLog.hold({ processorName: P, runDate: DAYS[9]!, heldAt: 1_000, reason: 'waiting_for_backfill', waitingFor: [DAYS[5]!] });
  await store.runLog.release(P, DAYS[9]!, 'cancelled', 2_000);

  // Every schedule / target shape, alone and as one window job.
  const q = { processorName: 's7', start: DAYS[0]!, end: DAYS[29]! };
  for (const s of SCHEDULES) await store.schedule(s).expectedDates(q);
  for (const t of TARGETS) await store.target(t).recordCounts(q);
  for (const [i, t] of TARGETS.entries()) await store.window(SCHEDULES[i % SCHEDULES.length]!, t).readWindow(q);

  const statements = fake.requests
    .slice(mark)
    .filter((r) => r.method === 'POST' && r.path.endsWith('/queries'))
    .map((r) => {
      const body = r.body as { query: string; queryParameters?: { name: string; parameterType: RestParameterType }[] };
      return {
        sql: body.query,
        params: (body.queryParameters ?? []).map((p) => ({ name: p.name, parameterType: p.parameterType })),
        op: /^-- smart-backfill:(.*)$/m.exec(body.query)?.[1] ?? '(no marker)',
      };
    });
  return { statements, outcomes };
};

/** One entry per distinct statement: same SQL text and parameter types. */
export const distinct = (all: readonly CapturedStatement[]): CapturedStatement[] => {
  const seen = new Map<string, CapturedStatement>();
  for (const s of all) {
    const key = JSON.stringify([s.sql, [...s.params].sort((a, b) => (a.name < b.name ? -1 : 1))]);
    if (!seen.has(key)) seen.set(key, s);
  }
  return [...seen.values()];
};
