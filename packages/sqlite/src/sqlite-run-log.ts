import type Database from 'better-sqlite3';
import {
  releaseStatusProblem,
  type HeldRun,
  type IsoDate,
  type LastBuild,
  type RunLog,
  type RunMetadata,
  type RunOutcome,
  type RunQuery,
  type RunRecord,
  type RunTrigger,
  type SkipReason,
} from '@smart-backfill/core';
import { Filters } from './filters.js';
import { statementCache } from './statement-cache.js';
import { withBusyRetry, type BusyRetryOptions } from './busy.js';
import { writeBatchFor } from './write-batch.js';
import { SqliteInputError } from './errors.js';
import { checkDate, checkInstant, checkLimit, checkNonEmpty, checkObject, checkString, fromJson, toJson } from './values.js';

export interface SqliteRunLogOptions {
  readonly busy?: BusyRetryOptions;
}

interface RunRow {
  run_id: string;
  processor_name: string;
  run_date: string;
  run_trigger: string;
  is_backfill: number;
  outcome: string;
  skip_reason: string | null;
  error_message: string | null;
  started_at: number;
  finished_at: number;
  duration_ms: number;
  metadata: string;
}

interface HeldRow {
  processor_name: string;
  run_date: string;
  held_at: number;
  reason: string;
  waiting_for: string;
  status: string;
  released_at: number | null;
  claimed_by: string | null;
  claimed_at: number | null;
  lease_until: number | null;
  claims: number;
  resume_run_id: string | null;
}

type LastBuildRow = [processorName: string, runDate: string, startedAt: number, finishedAt: number];

const toRun = (r: RunRow): RunRecord => ({
  runId: r.run_id,
  processorName: r.processor_name,
  runDate: r.run_date as IsoDate,
  trigger: r.run_trigger as RunTrigger,
  isBackfill: r.is_backfill === 1,
  outcome: r.outcome as RunOutcome,
  skipReason: r.skip_reason as SkipReason | null,
  errorMessage: r.error_message,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  durationMs: r.duration_ms,
  metadata: fromJson<RunMetadata>(r.metadata, `analytics_processor_runs.metadata of ${r.run_id}`),
});

const toHeld = (r: HeldRow): HeldRun => ({
  processorName: r.processor_name,
  runDate: r.run_date as IsoDate,
  heldAt: r.held_at,
  reason: r.reason as SkipReason,
  waitingFor: fromJson<IsoDate[]>(r.waiting_for, `held_runs.waiting_for of ${r.processor_name} ${r.run_date}`),
  status: r.status as HeldRun['status'],
  releasedAt: r.released_at,
  claimedBy: r.claimed_by,
  claimedAt: r.claimed_at,
  leaseUntil: r.lease_until,
  claims: r.claims,
  resumeRunId: r.resume_run_id,
});

const OUTCOMES: readonly string[] = ['succeeded', 'failed', 'skipped'];
const HELD_STATUSES: readonly string[] = ['held', 'resuming', 'resumed', 'cancelled'];

const checkRun = (run: RunRecord): void => {
  if (typeof run !== 'object' || run === null) throw new SqliteInputError('run', 'expected a RunRecord');
  checkNonEmpty(run.runId, 'run.runId');
  checkString(run.processorName, 'run.processorName');
  checkDate(run.runDate, 'run.runDate');
  checkNonEmpty(run.trigger, 'run.trigger');
  if (typeof run.isBackfill !== 'boolean') throw new SqliteInputError('run.isBackfill', 'expected a boolean');
  if (!OUTCOMES.includes(run.outcome))
    throw new SqliteInputError('run.outcome', `expected one of ${OUTCOMES.join(', ')}, got ${JSON.stringify(run.outcome)}`);
  if (run.skipReason !== null) checkString(run.skipReason, 'run.skipReason');
  if (run.errorMessage !== null) checkString(run.errorMessage, 'run.errorMessage');
  checkInstant(run.startedAt, 'run.startedAt');
  checkInstant(run.finishedAt, 'run.finishedAt');
  if (typeof run.durationMs !== 'number' || !Number.isFinite(run.durationMs))
    throw new SqliteInputError('run.durationMs', 'expected a number');
};

/**
 * Runs in `analytics_processor_runs` (the seed's table: `success`, `skip_reason`,
 * `metadata` JSON with `gap_size` and `missing_dates`) and held runs in `held_runs`.
 */
export const sqliteRunLog = (db: Database.Database, options: SqliteRunLogOptions = {}): RunLog => {
  const busy = options.busy ?? {};
  const prepared = statementCache(db);
  const writes = writeBatchFor(db, busy);
  const insert = db.prepare(
    `INSERT INTO analytics_processor_runs (run_id, processor_name, run_date, run_trigger, is_backfill, outcome, skip_reason, error_message, started_at, finished_at, duration_ms, metadata)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id) DO NOTHING`,
  );
  const hold = db.prepare(
    `INSERT INTO held_runs (processor_name, run_date, held_at, reason, waiting_for, status, released_at) VALUES (?, ?, ?, ?, ?, 'held', NULL)
     ON CONFLICT(processor_name, run_date) DO UPDATE SET
       reason = excluded.reason,
       waiting_for = excluded.waiting_for,
       -- refreshing a held run keeps when it was first held; holding a released one starts afresh
       held_at = CASE WHEN held_runs.status = 'held' THEN held_runs.held_at ELSE excluded.held_at END,
       status = 'held',
       released_at = NULL,
       -- a re-hold drops the claim but keeps the count: a claim from before can never finish
       claimed_by = NULL,
       claimed_at = NULL,
       lease_until = NULL,
       resume_run_id = NULL
     RETURNING *`,
  );
  // The names as one JSON parameter: one statement text for any number of processors, and no
  // bound-parameter limit. Grouped in SQL, so no run's metadata is read or parsed.
  const lastBuilds = db.prepare(
    `SELECT processor_name, run_date, MAX(started_at) AS started_at, MAX(finished_at) AS finished_at
     FROM analytics_processor_runs
     WHERE processor_name IN (SELECT value FROM json_each(?)) AND started_at >= ? AND outcome = 'succeeded'
     GROUP BY processor_name, run_date
     ORDER BY processor_name, run_date`,
  );
  lastBuilds.raw(true);
  const release = db.prepare(
    `UPDATE held_runs SET status = ?, released_at = ? WHERE processor_name = ? AND run_date = ? AND status = 'held'`,
  );
  // One statement each: the WHERE is the compare, so one writer wins (SQLite serialises writes).
  const claim = db.prepare(
    `UPDATE held_runs SET status = 'resuming', claimed_by = ?, claimed_at = ?, lease_until = ?, claims = claims + 1
     WHERE processor_name = ? AND run_date = ? AND (status = 'held' OR (status = 'resuming' AND lease_until <= ?))
     RETURNING claims`,
  );
  const finish = db.prepare(
    `UPDATE held_runs SET status = 'resumed', released_at = ?, resume_run_id = ?
     WHERE processor_name = ? AND run_date = ? AND status = 'resuming' AND claims = ?`,
  );

  return {
    // `async`, so a refused run reaches the caller as a rejection, as the port promises.
    append: async (run) => {
      checkRun(run);
      const metadata = toJson(run.metadata ?? {}, 'run.metadata');
      // A backfill's run record shares a commit with the transitions of the backfills beside it.
      return writes.run('runLog.append', () => {
        insert.run(
          run.runId,
          run.processorName,
          run.runDate,
          run.trigger,
          run.isBackfill ? 1 : 0,
          run.outcome,
          run.skipReason,
          run.errorMessage,
          run.startedAt,
          run.finishedAt,
          Math.round(run.durationMs),
          metadata,
        );
      });
    },

    runs: (query: RunQuery) =>
      withBusyRetry(
        'runLog.runs',
        () => {
          checkObject(query, 'query');
          const f = new Filters();
          if (query.processorName !== undefined) f.add('processor_name = ?', checkString(query.processorName, 'processorName'));
          if (query.since !== undefined) f.add('started_at >= ?', checkInstant(query.since, 'since'));
          if (query.until !== undefined) f.add('started_at <= ?', checkInstant(query.until, 'until'));
          if (query.runDateFrom !== undefined) f.add('run_date >= ?', checkDate(query.runDateFrom, 'runDateFrom'));
          if (query.runDateTo !== undefined) f.add('run_date <= ?', checkDate(query.runDateTo, 'runDateTo'));
          const limit = checkLimit(query.limit, 'limit', -1);
          const sql = `SELECT * FROM analytics_processor_runs${f.sql} ORDER BY started_at, rowid LIMIT ?`;
          return (prepared(sql).all(...f.params, limit) as RunRow[]).map(toRun);
        },
        busy,
      ),

    lastBuilds: (query) =>
      withBusyRetry(
        'runLog.lastBuilds',
        () => {
          checkObject(query, 'query');
          if (!Array.isArray(query.processorNames)) throw new SqliteInputError('processorNames', 'expected an array of processor names');
          query.processorNames.forEach((n, i) => checkString(n, `processorNames[${i}]`));
          const since = checkInstant(query.since, 'since');
          // Rows as arrays: a year of a hundred processors is ~36,000 rows, each made into two objects otherwise.
          const rows = lastBuilds.all(JSON.stringify(query.processorNames), since) as LastBuildRow[];
          const out = new Array<LastBuild>(rows.length);
          for (let i = 0; i < rows.length; i++) {
            const [processorName, runDate, startedAt, finishedAt] = rows[i]!;
            out[i] = { processorName, runDate: runDate as IsoDate, startedAt, finishedAt };
          }
          return out;
        },
        busy,
      ),

    hold: (run) =>
      withBusyRetry(
        'runLog.hold',
        () => {
          checkObject(run, 'run');
          checkString(run.processorName, 'processorName');
          checkDate(run.runDate, 'runDate');
          checkInstant(run.heldAt, 'heldAt');
          checkNonEmpty(run.reason, 'reason');
          if (!Array.isArray(run.waitingFor)) throw new SqliteInputError('waitingFor', 'expected an array of dates');
          run.waitingFor.forEach((d, i) => checkDate(d, `waitingFor[${i}]`));
          return toHeld(hold.get(run.processorName, run.runDate, run.heldAt, run.reason, JSON.stringify(run.waitingFor)) as HeldRow);
        },
        busy,
      ),

    heldRuns: (query) =>
      withBusyRetry(
        'runLog.heldRuns',
        () => {
          checkObject(query, 'query');
          const f = new Filters();
          if (query.processorName !== undefined) f.add('processor_name = ?', checkString(query.processorName, 'processorName'));
          if (query.status !== undefined) {
            if (!HELD_STATUSES.includes(query.status))
              throw new SqliteInputError('status', `expected one of ${HELD_STATUSES.join(', ')}, got ${JSON.stringify(query.status)}`);
            f.add('status = ?', query.status);
          }
          const sql = `SELECT * FROM held_runs${f.sql} ORDER BY run_date, processor_name`;
          return (prepared(sql).all(...f.params) as HeldRow[]).map(toHeld);
        },
        busy,
      ),

    release: (processorName, runDate, status, at) =>
      withBusyRetry(
        'runLog.release',
        () => {
          checkString(processorName, 'processorName');
          checkDate(runDate, 'runDate');
          const statusProblem = releaseStatusProblem(status);
          if (statusProblem !== undefined) throw new SqliteInputError('status', statusProblem);
          checkInstant(at, 'at');
          return release.run(status, at, processorName, runDate).changes === 1;
        },
        busy,
      ),

    claimResume: (processorName, runDate, c) =>
      withBusyRetry(
        'runLog.claimResume',
        () => {
          checkString(processorName, 'processorName');
          checkDate(runDate, 'runDate');
          checkObject(c, 'claim');
          checkNonEmpty(c.claimant, 'claim.claimant');
          checkInstant(c.at, 'claim.at');
          if (typeof c.leaseMs !== 'number' || !Number.isSafeInteger(c.leaseMs) || c.leaseMs <= 0)
            throw new SqliteInputError('claim.leaseMs', `expected a whole number of ms > 0, got ${JSON.stringify(c.leaseMs)}`);
          const leaseUntil = c.at + c.leaseMs;
          const row = claim.get(c.claimant, c.at, leaseUntil, processorName, runDate, c.at) as { claims: number } | undefined;
          return row === undefined
            ? null
            : { processorName, runDate, claimant: c.claimant, attempt: row.claims, claimedAt: c.at, leaseUntil };
        },
        busy,
      ),

    finishResume: (c, done) =>
      withBusyRetry(
        'runLog.finishResume',
        () => {
          checkObject(c, 'claim');
          checkString(c.processorName, 'claim.processorName');
          checkDate(c.runDate, 'claim.runDate');
          if (!Number.isSafeInteger(c.attempt)) throw new SqliteInputError('claim.attempt', 'expected a whole number');
          checkObject(done, 'done');
          checkNonEmpty(done.runId, 'done.runId');
          checkInstant(done.at, 'done.at');
          return finish.run(done.at, done.runId, c.processorName, c.runDate, c.attempt).changes === 1;
        },
        busy,
      ),
  };
};
