import type Database from 'better-sqlite3';
import { withBusyRetry, type BusyRetryOptions } from './busy.js';

/**
 * Small writes issued together share one `BEGIN IMMEDIATE … COMMIT`, each in its own
 * savepoint. A worker running several backfills at once makes three writes per
 * backfill (claim, run record, complete); most of their cost is the commit, not
 * the statement, and the commits of backfills in flight together can be one.
 *
 * The batch is sent when the current run of callbacks and promise reactions is
 * over (`process.nextTick` from inside it): no timer, so a write waits for nothing
 * but the writes issued beside it, and code driven by a manual clock sees no extra
 * turn. Durability is unchanged: every caller's promise resolves only after the
 * commit that holds its write, and a write that throws rolls back its own
 * savepoint only. A failed commit (disk full, I/O error) fails every write in it,
 * none of which was reported done.
 */
export interface WriteBatch {
  /** Run `write` inside the next batch's transaction; resolves with what it returned once that commits. */
  run<A>(what: string, write: () => A): Promise<A>;
  /** Send what is waiting now (before the connection closes). */
  flush(): void;
}

interface Job {
  readonly what: string;
  readonly write: () => unknown;
  readonly resolve: (a: unknown) => void;
  readonly reject: (e: unknown) => void;
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

// One per connection, whichever adapter asks first: a connection runs one transaction at a time.
const batches = new WeakMap<Database.Database, WriteBatch>();

export const writeBatchFor = (db: Database.Database, busy: BusyRetryOptions = {}): WriteBatch => {
  let batch = batches.get(db);
  if (batch === undefined) {
    batch = createWriteBatch(db, busy);
    batches.set(db, batch);
  }
  return batch;
};

const createWriteBatch = (db: Database.Database, busy: BusyRetryOptions): WriteBatch => {
  let pending: Job[] = [];
  let scheduled = false;
  // Inside the batch's transaction better-sqlite3 makes this a savepoint: a write that throws undoes only its own changes.
  const savepoint = db.transaction((write: () => unknown): unknown => write());
  const all = db.transaction((jobs: readonly Job[]): void => {
    for (const job of jobs) {
      try {
        job.outcome = { ok: true, value: savepoint(job.write) };
      } catch (error) {
        job.outcome = { ok: false, error };
      }
    }
  });

  const send = (jobs: readonly Job[]): void => {
    const settle = (): void => {
      for (const job of jobs) {
        const o = job.outcome;
        if (o === undefined) job.reject(new Error('the write batch ended without running this write'));
        else if (o.ok) job.resolve(o.value);
        else job.reject(o.error);
      }
    };
    const first = jobs[0]?.what ?? 'write';
    const what = jobs.length === 1 ? first : `${first} and ${jobs.length - 1} other write${jobs.length === 2 ? '' : 's'}`;
    // A lock another process holds is met at BEGIN IMMEDIATE (or COMMIT): retried whole, each write run afresh.
    void withBusyRetry(
      what,
      () => {
        for (const job of jobs) delete job.outcome;
        all.immediate(jobs);
      },
      busy,
    )
      .catch((error: unknown) => {
        for (const job of jobs) job.outcome = { ok: false, error };
      })
      .then(settle);
  };

  const flush = (): void => {
    scheduled = false;
    const jobs = pending;
    pending = [];
    if (jobs.length > 0 && db.open) send(jobs);
    else for (const job of jobs) job.reject(new Error('the database connection is closed'));
  };

  return {
    run: <A>(what: string, write: () => A): Promise<A> =>
      new Promise<A>((resolve, reject) => {
        pending.push({ what, write, resolve: resolve as (a: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          process.nextTick(flush);
        }
      }),
    flush,
  };
};
