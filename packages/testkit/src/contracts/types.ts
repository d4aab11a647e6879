import type {
  AlertLog,
  BackfillQueue,
  BackfillRequest,
  CheckReader,
  HeldRun,
  IsoDate,
  RequestTracker,
  RunLog,
  RunRecord,
  ScheduleSource,
  WindowReader,
  TargetTable,
} from '@smart-backfill/core';
import type { ManualClock } from '../manual-clock.js';

/** What every `create` receives: the clock the adapter must read time from. */
export interface ContractContext {
  readonly clock: ManualClock;
}

/**
 * Options shared by every contract suite: one call per adapter, e.g.
 * `testRequestTracker({ name: 'sqlite', create: async ({ clock }) => ({ tracker: openSqliteStore({ path: ':memory:', clock }).tracker }) })`.
 */
export interface ContractOptions<S> {
  /** Shown in the `describe` title. */
  readonly name: string;
  /** A fresh, empty subject per test (and per model-based run). */
  readonly create: (ctx: ContractContext) => Promise<S>;
  /** `true` skips the suite; a string skips it and prints the string as the reason. */
  readonly skip?: boolean | string | undefined;
  /** Runs per model-based property (default 40). */
  readonly numRuns?: number | undefined;
  /** Clock start (epoch ms) for each subject (default 2025-06-01T00:00:00Z). */
  readonly startMs?: number | undefined;
}

/** Something `cleanup()` is called on after each test. */
export interface Disposable {
  cleanup?(): Promise<void> | void;
}

// ---------- schedule / target ----------

export interface ScheduleFixtureRow {
  readonly date: IsoDate;
  /** The row's status; absent means a status the adapter accepts. */
  readonly status?: string | undefined;
}

export interface ScheduleSubject extends Disposable {
  readonly schedule: ScheduleSource;
  /** Insert schedule rows for `processorName` (adapters serving one table for all processors ignore it). Additive. */
  seed(fixture: { readonly processorName: string; readonly expected: readonly ScheduleFixtureRow[] }): Promise<void>;
  /** Set when the adapter filters by a status column: statuses it returns and ones it must leave out. */
  readonly statuses?: { readonly accepted: readonly string[]; readonly rejected: readonly string[] } | undefined;
  /** True when each processor has its own schedule (rows seeded for one never show up for another). */
  readonly perProcessor?: boolean | undefined;
  /** The same schedule read through the store's combined `WindowReader`, when it has one: it must describe a window too. */
  readonly window?: WindowReader | undefined;
}

export interface TargetSubject extends Disposable {
  readonly target: TargetTable;
  /** Insert rows so that `processorName` has (at least) `counts[date]` more rows on each date. Additive. */
  seed(fixture: { readonly processorName: string; readonly counts: Readonly<Record<string, number>> }): Promise<void>;
  /** True when rows are kept per processor. */
  readonly perProcessor?: boolean | undefined;
}

// ---------- queue ----------

export interface QueueSubject extends Disposable {
  readonly queue: BackfillQueue;
  /** Optional: what the transport really holds, bypassing `receive`. */
  readonly backdoor?:
    | {
        /** Message ids parked in the dead-letter state. */
        deadLettered?(): Promise<readonly string[]>;
      }
    | undefined;
  /**
   * Set `false` when leases and nack delays run on real time (an emulator) and
   * cannot follow the manual clock. The suite then runs in real-time mode: every
   * case still runs, with leases of `realLeaseMs`, waits that poll the queue
   * (bounded), and the manual clock moved alongside real time for the engine.
   */
  readonly followsClock?: boolean | undefined;
  /**
   * Real-time mode only: the shortest lease (ms) the queue honours reliably (default
   * 3000). Pub/Sub takes ModifyAckDeadline down to 1 s, even though a
   * subscription's own ack deadline cannot be below 10 s.
   */
  readonly realLeaseMs?: number | undefined;
}

// ---------- tracker ----------

export interface TrackerSubject extends Disposable {
  readonly tracker: RequestTracker;
  /** Optional: the stored row for an id, read without the adapter's own `get`. */
  readonly backdoor?: { readRequest?(requestId: string): Promise<BackfillRequest | undefined> } | undefined;
}

// ---------- run log / alert log ----------

export interface RunLogSubject extends Disposable {
  readonly runLog: RunLog;
  readonly backdoor?: { readRuns?(): Promise<readonly RunRecord[]>; readHeld?(): Promise<readonly HeldRun[]> } | undefined;
}

export interface AlertLogSubject extends Disposable {
  readonly alertLog: AlertLog;
}

// ---------- check reader ----------

export interface CheckReaderSubject extends Disposable {
  readonly reader: WindowReader & CheckReader;
  /** The ports whose records the reader returns, over the same storage. */
  readonly tracker: RequestTracker;
  readonly alertLog: AlertLog;
  readonly runLog: RunLog;
  /** Schedule the dates and add `counts[date]` rows for `processorName`. Additive. */
  seedWindow(fixture: {
    readonly processorName: string;
    readonly expected: readonly IsoDate[];
    readonly counts: Readonly<Record<string, number>>;
  }): Promise<void>;
}
