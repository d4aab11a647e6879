import type Database from 'better-sqlite3';
import {
  err,
  ok,
  transition,
  type BackfillRequest,
  type CreateRequestsResult,
  type IsoDate,
  type NewBackfillRequest,
  type RequestEvent,
  type RequestListQuery,
  type RequestPriority,
  type RequestStatus,
  type RequestTracker,
  type RequestType,
  type Result,
  type TrackerError,
  type WindowQuery,
} from '@smart-backfill/core';
import { Filters } from './filters.js';
import { statementCache } from './statement-cache.js';
import { withBusyRetry, type BusyRetryOptions } from './busy.js';
import { writeBatchFor } from './write-batch.js';
import { SqliteInputError, SqliteStoreError } from './errors.js';
import { checkDate, checkInstant, checkLimit, checkNonEmpty, checkObject, checkString, fromJson, toJson } from './values.js';

export interface SqliteRequestTrackerOptions {
  readonly busy?: BusyRetryOptions;
}

interface Row {
  request_id: string;
  processor_name: string;
  game_date: string;
  request_type: string;
  priority: string;
  requested_at: number;
  requested_by: string;
  trigger_reason: string;
  status: string;
  attempt: number;
  failures: number;
  gave_up: number;
  started_at: number | null;
  completed_at: number | null;
  error_message: string | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  published_at: number | null;
  not_before: number | null;
  metadata: string;
  updated_at: number;
  version: number;
}

const COLUMNS =
  'request_id, processor_name, game_date, request_type, priority, requested_at, requested_by, trigger_reason, status, attempt, failures, gave_up, started_at, completed_at, error_message, lease_owner, lease_expires_at, published_at, not_before, metadata, updated_at, version';

const toRequest = (r: Row): BackfillRequest => ({
  requestId: r.request_id,
  processorName: r.processor_name,
  date: r.game_date as IsoDate,
  requestType: r.request_type as RequestType,
  priority: r.priority as RequestPriority,
  requestedAt: r.requested_at,
  requestedBy: r.requested_by,
  triggerReason: r.trigger_reason,
  metadata: fromJson<Record<string, unknown>>(r.metadata, `backfill_requests.metadata of ${r.request_id}`),
  status: r.status as RequestStatus,
  attempt: r.attempt,
  failures: r.failures,
  gaveUp: r.gave_up === 1,
  startedAt: r.started_at,
  completedAt: r.completed_at,
  errorMessage: r.error_message,
  leaseOwner: r.lease_owner,
  leaseExpiresAt: r.lease_expires_at,
  publishedAt: r.published_at,
  notBefore: r.not_before,
  updatedAt: r.updated_at,
});

const REQUEST_TYPES: readonly string[] = ['auto', 'manual'];
const PRIORITIES: readonly string[] = ['high', 'normal', 'low'];
const STATUSES: readonly string[] = ['queued', 'processing', 'completed', 'failed'];

const checkNew = (r: NewBackfillRequest, i: number): void => {
  const f = (name: string): string => `requests[${i}].${name}`;
  if (typeof r !== 'object' || r === null) throw new SqliteInputError(`requests[${i}]`, 'expected a request object');
  checkNonEmpty(r.requestId, f('requestId'));
  checkNonEmpty(r.processorName, f('processorName'));
  checkDate(r.date, f('date'));
  if (!REQUEST_TYPES.includes(r.requestType))
    throw new SqliteInputError(f('requestType'), `expected one of ${REQUEST_TYPES.join(', ')}, got ${JSON.stringify(r.requestType)}`);
  if (!PRIORITIES.includes(r.priority))
    throw new SqliteInputError(f('priority'), `expected one of ${PRIORITIES.join(', ')}, got ${JSON.stringify(r.priority)}`);
  checkInstant(r.requestedAt, f('requestedAt'));
  checkString(r.requestedBy, f('requestedBy'));
  checkString(r.triggerReason, f('triggerReason'));
  if (typeof r.metadata !== 'object' || r.metadata === null || Array.isArray(r.metadata))
    throw new SqliteInputError(f('metadata'), 'expected an object');
};

/**
 * The request tracker (and outbox) over `backfill_requests`. Every read-modify-write
 * runs in a `BEGIN IMMEDIATE` transaction, and the partial unique index
 * `backfill_requests_one_active` keeps one active request per (processor, date)
 * across processes sharing the file.
 */
export const sqliteRequestTracker = (db: Database.Database, options: SqliteRequestTrackerOptions = {}): RequestTracker => {
  const busy = options.busy ?? {};
  const prepared = statementCache(db);
  const insert = db.prepare(
    `INSERT INTO backfill_requests (${COLUMNS}) VALUES (@request_id, @processor_name, @game_date, @request_type, @priority, @requested_at, @requested_by, @trigger_reason, 'queued', 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, @metadata, @requested_at, 0)
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
  );
  const byId = db.prepare(`SELECT ${COLUMNS} FROM backfill_requests WHERE request_id = ?`);
  const activeFor = db.prepare(
    `SELECT ${COLUMNS} FROM backfill_requests WHERE processor_name = ? AND game_date = ? AND status IN ('queued','processing')`,
  );
  const inWindow = db.prepare(
    `SELECT ${COLUMNS} FROM backfill_requests WHERE processor_name = ? AND game_date BETWEEN ? AND ? ORDER BY game_date, requested_at, rowid`,
  );
  const update = db.prepare(
    `UPDATE backfill_requests SET status = @status, attempt = @attempt, failures = @failures, gave_up = @gave_up, started_at = @started_at, completed_at = @completed_at,
       error_message = @error_message, lease_owner = @lease_owner, lease_expires_at = @lease_expires_at,
       published_at = @published_at, not_before = @not_before, updated_at = @updated_at, version = version + 1
     WHERE request_id = @request_id AND version = @version`,
  );
  const unpublished = db.prepare(
    `SELECT ${COLUMNS} FROM backfill_requests WHERE status = 'queued' AND published_at IS NULL AND requested_at <= ? ORDER BY requested_at, rowid LIMIT ?`,
  );
  const expired = db.prepare(
    `SELECT ${COLUMNS} FROM backfill_requests WHERE status = 'processing' AND lease_expires_at <= ? ORDER BY lease_expires_at, rowid LIMIT ?`,
  );

  const createTx = db.transaction((requests: readonly NewBackfillRequest[]): CreateRequestsResult => {
    const created: BackfillRequest[] = [];
    const existing: BackfillRequest[] = [];
    for (const r of requests) {
      const inserted = insert.get({
        request_id: r.requestId,
        processor_name: r.processorName,
        game_date: r.date,
        request_type: r.requestType,
        priority: r.priority,
        requested_at: r.requestedAt,
        requested_by: r.requestedBy,
        trigger_reason: r.triggerReason,
        metadata: toJson(r.metadata, 'metadata'),
      }) as Row | undefined;
      if (inserted !== undefined) {
        created.push(toRequest(inserted));
        continue;
      }
      // Either the id exists (idempotent replay) or another request is active for the date.
      const same = byId.get(r.requestId) as Row | undefined;
      const winner = same ?? (activeFor.get(r.processorName, r.date) as Row | undefined);
      if (winner === undefined)
        throw new SqliteStoreError(
          `request ${JSON.stringify(r.requestId)} was neither inserted nor found; the table may have an extra constraint`,
        );
      existing.push(toRequest(winner));
    }
    return { created, existing };
  });

  // Runs inside a transaction of the write batch (see write-batch.ts).
  const applyNow = (requestId: string, event: RequestEvent): Result<TrackerError, BackfillRequest> => {
    const row = byId.get(requestId) as Row | undefined;
    if (row === undefined) return err({ _tag: 'NotFound', requestId, message: `no backfill request with id ${JSON.stringify(requestId)}` });
    const next = transition(toRequest(row), event);
    if (next._tag === 'Err') return next;
    const n = next.value;
    const info = update.run({
      request_id: requestId,
      version: row.version,
      status: n.status,
      attempt: n.attempt,
      failures: n.failures,
      gave_up: n.gaveUp ? 1 : 0,
      started_at: n.startedAt,
      completed_at: n.completedAt,
      error_message: n.errorMessage,
      lease_owner: n.leaseOwner,
      lease_expires_at: n.leaseExpiresAt,
      published_at: n.publishedAt,
      not_before: n.notBefore,
      updated_at: n.updatedAt,
    });
    // Inside an immediate transaction nobody else can write; the version check guards the unexpected.
    if (info.changes !== 1)
      throw new SqliteStoreError(`request ${JSON.stringify(requestId)} changed under a write lock (version ${row.version})`, {
        code: 'contention',
      });
    return ok(n);
  };
  const writes = writeBatchFor(db, busy);

  const checkEvent = (event: RequestEvent): void => {
    if (typeof event !== 'object' || event === null || typeof event._tag !== 'string')
      throw new SqliteInputError('event', 'expected a RequestEvent');
    checkInstant(event.at, 'event.at');
    const e = event as unknown as Record<string, unknown>;
    if ('owner' in e) checkString(e['owner'], 'event.owner');
    if ('error' in e) checkString(e['error'], 'event.error');
    if ('leaseMs' in e) checkInstant(e['leaseMs'], 'event.leaseMs');
    if ('attempt' in e) checkInstant(e['attempt'], 'event.attempt');
    if ('notBefore' in e) checkInstant(e['notBefore'], 'event.notBefore');
    if ('final' in e && e['final'] !== undefined && typeof e['final'] !== 'boolean')
      throw new SqliteInputError('event.final', `expected a boolean, got ${JSON.stringify(e['final'])}`);
  };

  return {
    // `async`, so a refused input reaches the caller as a rejection, as the port promises.
    create: async (requests) => {
      if (!Array.isArray(requests)) throw new SqliteInputError('requests', 'expected an array');
      requests.forEach(checkNew);
      if (requests.length === 0) return { created: [], existing: [] };
      return withBusyRetry('tracker.create', () => createTx.immediate(requests), busy);
    },

    get: (requestId) =>
      withBusyRetry(
        'tracker.get',
        () => {
          checkString(requestId, 'requestId');
          const row = byId.get(requestId) as Row | undefined;
          return row === undefined ? undefined : toRequest(row);
        },
        busy,
      ),

    forWindow: (query: WindowQuery) =>
      withBusyRetry(
        'tracker.forWindow',
        () => {
          checkObject(query, 'query');
          checkString(query.processorName, 'processorName');
          const start = checkDate(query.start, 'start');
          const end = checkDate(query.end, 'end');
          return (inWindow.all(query.processorName, start, end) as Row[]).map(toRequest);
        },
        busy,
      ),

    apply: async (requestId, event) => {
      checkString(requestId, 'requestId');
      checkEvent(event);
      // Transitions of backfills in flight together share one commit.
      return writes.run('tracker.apply', () => applyNow(requestId, event));
    },

    unpublished: (query) =>
      withBusyRetry(
        'tracker.unpublished',
        () => {
          checkObject(query, 'query');
          const olderThan = checkInstant(query.olderThan, 'olderThan');
          const limit = checkLimit(query.limit, 'limit', 100);
          return (unpublished.all(olderThan, limit) as Row[]).map(toRequest);
        },
        busy,
      ),

    expiredLeases: (query) =>
      withBusyRetry(
        'tracker.expiredLeases',
        () => {
          checkObject(query, 'query');
          const now = checkInstant(query.now, 'now');
          const limit = checkLimit(query.limit, 'limit', 100);
          return (expired.all(now, limit) as Row[]).map(toRequest);
        },
        busy,
      ),

    list: (query: RequestListQuery) =>
      withBusyRetry(
        'tracker.list',
        () => {
          checkObject(query, 'query');
          const f = new Filters();
          if (query.processorName !== undefined) f.add('processor_name = ?', checkString(query.processorName, 'processorName'));
          if (query.statuses !== undefined) {
            if (!Array.isArray(query.statuses)) throw new SqliteInputError('statuses', 'expected an array');
            for (const s of query.statuses)
              if (!STATUSES.includes(s))
                throw new SqliteInputError('statuses', `expected values among ${STATUSES.join(', ')}, got ${JSON.stringify(s)}`);
            if (query.statuses.length === 0) return [];
            // Deduplicated: the statement text depends only on how many distinct statuses there are (at most four).
            const statuses = [...new Set(query.statuses)];
            f.add(`status IN (${statuses.map(() => '?').join(', ')})`, ...statuses);
          }
          if (query.since !== undefined) f.add('requested_at >= ?', checkInstant(query.since, 'since'));
          const limit = checkLimit(query.limit, 'limit', -1);
          const sql = `SELECT ${COLUMNS} FROM backfill_requests${f.sql} ORDER BY requested_at DESC, rowid DESC LIMIT ?`;
          return (prepared(sql).all(...f.params, limit) as Row[]).map(toRequest);
        },
        busy,
      ),
  };
};
