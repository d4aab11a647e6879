import {
  releaseStatusProblem,
  type HeldRun,
  type IsoDate,
  type LastBuild,
  type LastBuildQuery,
  type ResumeClaim,
  type RunLog,
  type RunQuery,
  type RunRecord,
} from '@smart-backfill/core';
import { bytesLimit, connect, insertRows, p, runQuery, type BigQueryConnectionOptions, type Connection, type Param } from './client.js';
import {
  readBool,
  readDate,
  readDates,
  readInt,
  readJsonObject,
  readMillis,
  readMillisOrNull,
  readString,
  readStringOrNull,
  tsOut,
} from './decode.js';
import { checkDateInput, checkInput, inputError } from './errors.js';
import { quoteTable } from './identifiers.js';
import { runDateFilter } from './bigquery-run-date-filter.js';
import {
  insertIdOf,
  keyedLock,
  metaColumns,
  dmlWrite,
  mutate,
  knownRow,
  ownWrites,
  type OwnWrites,
  stampedOf,
  type EventMeta,
  type EventTable,
  type Stamped,
  type Echoes,
} from './event-table.js';
import { HELD_RUN_EVENTS, LATEST_ORDER, RUNS, columnList } from './schema.js';
import { resolveTracking, type BigQueryTrackingOptions } from './tracking.js';

export interface BigQueryRunLogOptions {
  readonly tracking?: BigQueryTrackingOptions | undefined;
  /** Read back `hold`/`release` to detect a lost race (default true); see the tracker's option. */
  readonly verifyWrites?: boolean | undefined;
  readonly maximumBytesBilled?: number | string | undefined;
}

const runFromRow = (r: Record<string, unknown>): RunRecord => ({
  runId: readString('run_id', r['run_id']),
  processorName: readString('processor_name', r['processor_name']),
  runDate: readDate('game_date', r['game_date']),
  trigger: readString('run_trigger', r['run_trigger']) as RunRecord['trigger'],
  isBackfill: readBool('is_backfill', r['is_backfill']),
  outcome: readString('outcome', r['outcome']) as RunRecord['outcome'],
  skipReason: readStringOrNull('skip_reason', r['skip_reason']) as RunRecord['skipReason'],
  errorMessage: readStringOrNull('error_message', r['error_message']),
  startedAt: readMillis('started_at', r['started_at']),
  finishedAt: readMillis('finished_at', r['finished_at']),
  durationMs: readInt('duration_ms', r['duration_ms']),
  metadata: readJsonObject('metadata', r['metadata']),
});

const runToRow = (r: RunRecord): Record<string, unknown> => ({
  run_id: r.runId,
  processor_name: r.processorName,
  run_date: tsOut(r.startedAt),
  game_date: r.runDate,
  run_trigger: r.trigger,
  is_backfill: r.isBackfill,
  outcome: r.outcome,
  success: r.outcome !== 'failed',
  skip_reason: r.skipReason,
  error_message: r.errorMessage,
  started_at: tsOut(r.startedAt),
  finished_at: tsOut(r.finishedAt),
  duration_ms: r.durationMs,
  metadata: JSON.stringify(r.metadata),
});

export const heldFromRow = (r: Record<string, unknown>): Stamped<HeldRun> =>
  stampedOf(
    {
      processorName: readString('processor_name', r['processor_name']),
      runDate: readDate('game_date', r['game_date']),
      heldAt: readMillis('held_at', r['held_at']),
      reason: readString('reason', r['reason']) as HeldRun['reason'],
      waitingFor: readDates('waiting_for', r['waiting_for']),
      status: readString('status', r['status']) as HeldRun['status'],
      releasedAt: readMillisOrNull('released_at', r['released_at']),
      claimedBy: readStringOrNull('claimed_by', r['claimed_by']),
      claimedAt: readMillisOrNull('claimed_at', r['claimed_at']),
      leaseUntil: readMillisOrNull('lease_until', r['lease_until']),
      // Rows written before claims existed have no count.
      claims: r['claims'] === null || r['claims'] === undefined ? 0 : readInt('claims', r['claims']),
      resumeRunId: readStringOrNull('resume_run_id', r['resume_run_id']),
    },
    r,
  );

const heldToRow = (h: HeldRun, meta: EventMeta): Record<string, unknown> => ({
  processor_name: h.processorName,
  game_date: h.runDate,
  status: h.status,
  reason: h.reason,
  waiting_for: [...h.waitingFor],
  held_at: tsOut(h.heldAt),
  released_at: tsOut(h.releasedAt),
  claimed_by: h.claimedBy,
  claimed_at: tsOut(h.claimedAt),
  lease_until: tsOut(h.leaseUntil),
  claims: h.claims,
  resume_run_id: h.resumeRunId,
  ...metaColumns(meta),
});

export type HeldKey = readonly [processorName: string, runDate: IsoDate];

/**
 * Runs in the seed's `analytics_processor_runs` shape (its monitoring queries run
 * unchanged), and held runs as an append-only event table with a latest-state view.
 */
export const bigQueryRunLog = (
  conn: BigQueryConnectionOptions | Connection,
  options: BigQueryRunLogOptions = {},
  /** The store's: a hold is written again by the tracker's next create script (see `Echoes`). */
  echo?: Echoes,
  /** The store's: its check reader overlays the same own writes. */
  shared?: { readonly own: OwnWrites<HeldRun, HeldKey> },
): RunLog => {
  const c = connect(conn);
  const tables = resolveTracking(options.tracking, c.projectId);
  const limit = bytesLimit('maximumBytesBilled', options.maximumBytesBilled);
  const verify = options.verifyWrites ?? true;
  const lock = keyedLock();
  const runs = quoteTable(tables.runs);
  const held = quoteTable(tables.heldRunEvents);
  const heldCols = columnList(HELD_RUN_EVENTS);
  const heldLatest = `QUALIFY ROW_NUMBER() OVER (PARTITION BY processor_name, game_date ORDER BY ${LATEST_ORDER}) = 1`;

  const own = shared?.own ?? ownWrites<HeldRun, HeldKey>();
  const heldTable: EventTable<HeldRun, HeldKey> = {
    table: tables.heldRunEvents,
    own,
    echoes: echo?.to(tables.heldRunEvents, HELD_RUN_EVENTS),
    // DML but for a hold: claims, resumes and releases are the worker's, and `status` in another process must see them.
    write: dmlWrite(c, tables.heldRunEvents, HELD_RUN_EVENTS, 'held.apply', limit),
    describe: ([proc, date]) => `held run ${JSON.stringify(proc)} ${date}`,
    async readLatest([proc, date]) {
      const rows = await runQuery(c, {
        sql: `-- smart-backfill:held.get\nSELECT ${heldCols}\nFROM ${held}\nWHERE processor_name = @processor AND game_date = @run_date\n${heldLatest}`,
        params: { processor: p.string(proc), run_date: p.date(date) },
        purpose: `reading held run ${JSON.stringify(proc)} ${date} from ${held}`,
        table: tables.heldRunEvents,
        maximumBytesBilled: limit,
      });
      return rows.length === 0 ? undefined : heldFromRow(rows[0]!);
    },
    async readSince([proc, date], version) {
      const rows = await runQuery(c, {
        sql: `-- smart-backfill:held.since\nSELECT ${heldCols}\nFROM ${held}\nWHERE processor_name = @processor AND game_date = @run_date AND version >= @version`,
        params: { processor: p.string(proc), run_date: p.date(date), version: p.int(version) },
        purpose: `reading back held run ${JSON.stringify(proc)} ${date} from ${held}`,
        table: tables.heldRunEvents,
        maximumBytesBilled: limit,
      });
      return rows.map(heldFromRow);
    },
    eventId: ([proc, date], next, version, event) => insertIdOf(JSON.stringify(['held', proc, date, version, next.status, event])),
    toRow: heldToRow,
  };

  return {
    async append(run: RunRecord): Promise<void> {
      if (typeof run?.runId !== 'string' || run.runId.length === 0) throw inputError('run.runId', 'run.runId must be a non-empty string');
      checkDateInput(run.runDate, 'run.runDate');
      await insertRows(
        c,
        tables.runs,
        [{ insertId: insertIdOf(`run:${run.runId}`), json: runToRow(run) }],
        `appending run ${JSON.stringify(run.runId)} to ${runs}`,
      );
    },

    async runs(q: RunQuery): Promise<readonly RunRecord[]> {
      // Always a filter on run_date, even without `since`: the table requires a partition filter.
      const where = ['run_date >= @since'];
      const params: Record<string, Param> = { since: p.timestamp(q.since ?? 0) };
      if (q.until !== undefined) {
        where.push('run_date <= @until');
        params['until'] = p.timestamp(q.until);
      }
      if (q.processorName !== undefined) {
        where.push('processor_name = @processor');
        params['processor'] = p.string(q.processorName);
      }
      const byRunDate = runDateFilter(q);
      where.push(...byRunDate.where);
      Object.assign(params, byRunDate.params);
      let sql = `-- smart-backfill:runs.list\nSELECT ${columnList(RUNS)}\nFROM ${runs}\nWHERE ${where.join(' AND ')}\nQUALIFY ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY run_date) = 1\nORDER BY run_date, run_id`;
      if (q.limit !== undefined) {
        sql += '\nLIMIT @max_rows';
        params['max_rows'] = p.int(q.limit);
      }
      const rows = await runQuery(c, { sql, params, purpose: `reading runs from ${runs}`, table: tables.runs, maximumBytesBilled: limit });
      return rows.map(runFromRow);
    },

    async lastBuilds(q: LastBuildQuery): Promise<readonly LastBuild[]> {
      if (!Array.isArray(q?.processorNames) || !q.processorNames.every((n) => typeof n === 'string'))
        throw inputError('processorNames', 'processorNames must be an array of processor names');
      if (typeof q.since !== 'number' || !Number.isFinite(q.since)) throw inputError('since', 'since must be epoch milliseconds');
      if (q.processorNames.length === 0) return [];
      // One job, grouped in BigQuery: MAX ignores the duplicate rows a retried streaming insert
      // can leave, so unlike `runs.list` no de-duplication by run_id is needed.
      const sql = `-- smart-backfill:runs.lastBuilds\nSELECT processor_name, game_date, MAX(started_at) AS started_at, MAX(finished_at) AS finished_at\nFROM ${runs}\nWHERE run_date >= @since AND processor_name IN UNNEST(@processors) AND outcome = 'succeeded'\nGROUP BY processor_name, game_date\nORDER BY processor_name, game_date`;
      const rows = await runQuery(c, {
        sql,
        params: { since: p.timestamp(q.since), processors: p.strings(q.processorNames) },
        purpose: `reading the last successful builds from ${runs}`,
        table: tables.runs,
        maximumBytesBilled: limit,
      });
      return rows.map((r) => ({
        processorName: readString('processor_name', r['processor_name']),
        runDate: readDate('game_date', r['game_date']),
        startedAt: readMillis('started_at', r['started_at']),
        finishedAt: readMillis('finished_at', r['finished_at']),
      }));
    },

    async hold(run, options = {}): Promise<HeldRun> {
      checkDateInput(run.runDate, 'hold.runDate');
      const key: HeldKey = [run.processorName, run.runDate];
      return lock(JSON.stringify(key), () =>
        mutate<HeldRun, HeldKey, HeldRun>(
          c,
          heldTable,
          key,
          (cur, lost) => {
            const stillHeld = cur !== undefined && cur.state.status === 'held';
            // A concurrent hold of the same run won: the run is held, which is what we wanted.
            if (lost && stillHeld) return { _tag: 'Done', value: { ...cur.state, revision: cur.version } };
            const next: HeldRun = {
              processorName: run.processorName,
              runDate: run.runDate,
              heldAt: stillHeld ? cur.state.heldAt : run.heldAt,
              reason: run.reason,
              waitingFor: [...run.waitingFor],
              status: 'held',
              releasedAt: null,
              claimedBy: null,
              claimedAt: null,
              leaseUntil: null,
              // Kept across a re-hold: a claim from before it can never finish.
              claims: cur?.state.claims ?? 0,
              resumeRunId: null,
            };
            // Holding is not exactly-once (two guards holding one run agree); only release needs the read-back.
            return {
              _tag: 'Write',
              next,
              event: 'hold',
              at: run.heldAt,
              result: (w, version) => ({ ...w, revision: version }),
              unverified: true,
              echo: true,
            };
          },
          // Built on the check's read of this run when the guard hands it over.
          { verify, maxTries: 5, known: knownRow(options.current) },
        ),
      );
    },

    async heldRuns(q: {
      readonly processorName?: string | undefined;
      readonly status?: HeldRun['status'] | undefined;
    }): Promise<readonly HeldRun[]> {
      const params: Record<string, Param> = {};
      let where = 'TRUE';
      if (q.processorName !== undefined) {
        where = 'processor_name = @processor';
        params['processor'] = p.string(q.processorName);
      }
      let outer = '';
      if (q.status !== undefined) {
        outer = 'WHERE status = @status\n';
        params['status'] = p.string(q.status);
      }
      const sql = `-- smart-backfill:held.list\nSELECT * FROM (\nSELECT ${heldCols}\nFROM ${held}\nWHERE ${where}\n${heldLatest}\n) AS latest\n${outer}ORDER BY game_date, processor_name`;
      const rows = await runQuery(c, {
        sql,
        params,
        purpose: `reading held runs from ${held}`,
        table: tables.heldRunEvents,
        maximumBytesBilled: limit,
      });
      // This log's own holds and releases count before queries show them: a worker resumes what its guard held.
      return own
        .overlay(
          rows.map(heldFromRow),
          (h) => [h.processorName, h.runDate],
          (h) =>
            (q.processorName === undefined || h.processorName === q.processorName) && (q.status === undefined || h.status === q.status),
        )
        .sort((a, b) =>
          a.runDate < b.runDate
            ? -1
            : a.runDate > b.runDate
              ? 1
              : a.processorName < b.processorName
                ? -1
                : a.processorName > b.processorName
                  ? 1
                  : 0,
        );
    },

    async release(processorName: string, runDate: IsoDate, status: 'resumed' | 'cancelled', at: number): Promise<boolean> {
      checkInput(releaseStatusProblem, status, 'release.status');
      checkDateInput(runDate, 'release.runDate');
      const key: HeldKey = [processorName, runDate];
      return lock(JSON.stringify(key), () =>
        mutate<HeldRun, HeldKey, boolean>(
          c,
          heldTable,
          key,
          (cur) => {
            if (cur === undefined || cur.state.status !== 'held') return { _tag: 'Done', value: false };
            return {
              _tag: 'Write',
              next: { ...cur.state, status, releasedAt: at },
              event: status === 'resumed' ? 'resume' : 'cancel',
              at,
              result: () => true,
            };
          },
          { verify, maxTries: 5 },
        ),
      );
    },

    async claimResume(processorName, runDate, { claimant, at, leaseMs }): Promise<ResumeClaim | null> {
      checkDateInput(runDate, 'claimResume.runDate');
      if (typeof claimant !== 'string' || claimant === '') throw inputError('claimant', 'claimResume: claimant must be a non-empty string');
      if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0)
        throw inputError('leaseMs', `claimResume: leaseMs must be > 0, got ${String(leaseMs)}`);
      const key: HeldKey = [processorName, runDate];
      return lock(JSON.stringify(key), () =>
        mutate<HeldRun, HeldKey, ResumeClaim | null>(
          c,
          heldTable,
          key,
          (cur) => {
            if (cur === undefined) return { _tag: 'Done', value: null };
            const s = cur.state;
            const lapsed = s.status === 'resuming' && s.leaseUntil !== null && s.leaseUntil <= at;
            if (s.status !== 'held' && !lapsed) return { _tag: 'Done', value: null };
            const next: HeldRun = {
              ...s,
              status: 'resuming',
              claimedBy: claimant,
              claimedAt: at,
              leaseUntil: at + leaseMs,
              claims: s.claims + 1,
            };
            return {
              _tag: 'Write',
              next,
              event: 'claim',
              at,
              result: () => {
                return { processorName, runDate, claimant, attempt: next.claims, claimedAt: at, leaseUntil: at + leaseMs };
              },
            };
          },
          // The read-back decides the single winner: a loser decides again from the winner's row (a live claim: null).
          { verify: true, maxTries: 5 },
        ),
      );
    },

    async finishResume(claim: ResumeClaim, done: { readonly runId: string; readonly at: number }): Promise<boolean> {
      if (typeof done?.runId !== 'string' || done.runId === '') throw inputError('runId', 'finishResume: runId must be a non-empty string');
      const key: HeldKey = [claim.processorName, claim.runDate];
      return lock(JSON.stringify(key), () =>
        mutate<HeldRun, HeldKey, boolean>(
          c,
          heldTable,
          key,
          (cur) => {
            if (cur === undefined || cur.state.status !== 'resuming' || cur.state.claims !== claim.attempt)
              return { _tag: 'Done', value: false };
            return {
              _tag: 'Write',
              next: { ...cur.state, status: 'resumed', releasedAt: done.at, resumeRunId: done.runId },
              event: 'resume',
              at: done.at,
              result: () => true,
            };
          },
          { verify, maxTries: 5 },
        ),
      );
    },
  };
};
