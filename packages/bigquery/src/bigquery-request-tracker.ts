import { randomUUID } from 'node:crypto';
import {
  err,
  isActive,
  isIsoDate,
  isSmartBackfillError,
  newRequest,
  ok,
  transition,
  type BackfillRequest,
  type CreateRequestsResult,
  type IsoDate,
  type NewBackfillRequest,
  type RequestEvent,
  type RequestListQuery,
  type RequestTracker,
  type Result,
  type TrackerError,
  type WindowQuery,
} from '@smart-backfill/core';
import { bytesLimit, connect, insertRows, p, runQuery, type BigQueryConnectionOptions, type Connection, type Param } from './client.js';
import {
  readBool,
  readDate,
  readInt,
  readJsonObject,
  readMillis,
  readMillisOrNull,
  readString,
  readStringOrNull,
  tsOut,
} from './decode.js';
import { checkWindow } from './date-column.js';
import { corruptError, inputError } from './errors.js';
import { quoteTable, type TableRef } from './identifiers.js';
import {
  insertIdOf,
  keyedLock,
  metaColumns,
  dmlWrite,
  insertFromJson,
  knownRow,
  mutate,
  ownWrites,
  stampedOf,
  type OwnWrites,
  type EventMeta,
  type EventTable,
  type Stamped,
  type Echoes,
} from './event-table.js';
import { LATEST_ORDER, REQUEST_EVENTS, columnList } from './schema.js';
import { resolveTracking, type BigQueryTrackingOptions } from './tracking.js';

export interface BigQueryRequestTrackerOptions {
  readonly tracking?: BigQueryTrackingOptions | undefined;
  /**
   * Read back every `apply` to detect a lost race (default true): two workers
   * claiming one request both see which claim won. Off saves one query per change.
   */
  readonly verifyWrites?: boolean | undefined;
  readonly maximumBytesBilled?: number | string | undefined;
}

const STATUSES = new Set(['queued', 'processing', 'completed', 'failed']);

interface Row {
  readonly stamped: Stamped<BackfillRequest>;
  /** The request that won a create race against this one; such a request is invisible to every read. */
  readonly supersededBy: string | null;
}

const rowOf = (r: Record<string, unknown>): Row => ({
  stamped: fromRow(r),
  supersededBy: readStringOrNull('superseded_by', r['superseded_by']),
});

export const fromRow = (r: Record<string, unknown>): Stamped<BackfillRequest> => {
  const status = readString('status', r['status']);
  if (!STATUSES.has(status)) throw corruptError(`request ${String(r['request_id'])} has unknown status ${JSON.stringify(status)}`);
  const request: BackfillRequest = {
    requestId: readString('request_id', r['request_id']),
    processorName: readString('processor_name', r['processor_name']),
    date: readDate('game_date', r['game_date']),
    requestType: readString('request_type', r['request_type']) as BackfillRequest['requestType'],
    priority: readString('priority', r['priority']) as BackfillRequest['priority'],
    requestedAt: readMillis('requested_at', r['requested_at']),
    requestedBy: readString('requested_by', r['requested_by']),
    triggerReason: readString('trigger_reason', r['trigger_reason']),
    metadata: readJsonObject('metadata', r['metadata']),
    status: status as BackfillRequest['status'],
    attempt: readInt('attempt', r['attempt']),
    failures: readInt('failures', r['failures']),
    gaveUp: readBool('gave_up', r['gave_up']),
    startedAt: readMillisOrNull('started_at', r['started_at']),
    completedAt: readMillisOrNull('completed_at', r['completed_at']),
    errorMessage: readStringOrNull('error_message', r['error_message']),
    leaseOwner: readStringOrNull('lease_owner', r['lease_owner']),
    leaseExpiresAt: readMillisOrNull('lease_expires_at', r['lease_expires_at']),
    publishedAt: readMillisOrNull('published_at', r['published_at']),
    notBefore: readMillisOrNull('not_before', r['not_before']),
    updatedAt: readMillis('event_time', r['event_time']),
  };
  return stampedOf(request, r);
};

const toRow = (r: BackfillRequest, meta: EventMeta, supersededBy: string | null = null): Record<string, unknown> => ({
  request_id: r.requestId,
  processor_name: r.processorName,
  game_date: r.date,
  request_type: r.requestType,
  priority: r.priority,
  requested_at: tsOut(r.requestedAt),
  requested_by: r.requestedBy,
  trigger_reason: r.triggerReason,
  status: r.status,
  attempt: r.attempt,
  failures: r.failures,
  gave_up: r.gaveUp,
  started_at: tsOut(r.startedAt),
  completed_at: tsOut(r.completedAt),
  error_message: r.errorMessage,
  lease_owner: r.leaseOwner,
  lease_expires_at: tsOut(r.leaseExpiresAt),
  published_at: tsOut(r.publishedAt),
  not_before: tsOut(r.notBefore),
  metadata: JSON.stringify(r.metadata),
  superseded_by: supersededBy,
  ...metaColumns(meta),
  // The state's own updatedAt, so a read returns exactly what transition() produced.
  event_time: tsOut(r.updatedAt),
});

/** `request_id:version:attempt:status:event`: the same transition retried gets the same insertId. */
const eventIdOf = (r: BackfillRequest, version: number, event: string): string =>
  insertIdOf(`${r.requestId}:${version}:${r.attempt}:${r.status}:${event}`);

const checkNew = (r: NewBackfillRequest, i: number): void => {
  const where = `requests[${i}]`;
  if (typeof r.requestId !== 'string' || r.requestId.length === 0)
    throw inputError(`${where}.requestId`, `${where}.requestId must be a non-empty string`);
  if (typeof r.processorName !== 'string' || r.processorName.length === 0)
    throw inputError(`${where}.processorName`, `${where}.processorName must be a non-empty string`);
  if (!isIsoDate(r.date)) throw inputError(`${where}.date`, `${where}.date must be a YYYY-MM-DD date, got ${JSON.stringify(r.date)}`);
  if (!Number.isFinite(r.requestedAt)) throw inputError(`${where}.requestedAt`, `${where}.requestedAt must be epoch milliseconds`);
};

const keyOf = (processorName: string, date: IsoDate): string => JSON.stringify([processorName, date]);

/**
 * The seed's `backfill_requests`, rebuilt as an append-only event table
 * (`backfill_request_events`) plus a latest-state view (`backfill_requests`).
 * Guarantees are weaker than SQL stores: see docs/bigquery.md, "What BigQuery cannot guarantee".
 */
export const bigQueryRequestTracker = (
  conn: BigQueryConnectionOptions | Connection,
  options: BigQueryRequestTrackerOptions = {},
  /** The store's: rows its run log just streamed, written again by the next create (see `Echoes`). */
  echo?: Echoes,
  /** The store's: its check reader overlays the same own writes. */
  shared?: { readonly own: OwnWrites<BackfillRequest, string> },
): RequestTracker => {
  const c = connect(conn);
  const tables = resolveTracking(options.tracking, c.projectId);
  const events: TableRef = tables.requestEvents;
  const limit = bytesLimit('maximumBytesBilled', options.maximumBytesBilled);
  const verify = options.verifyWrites ?? true;
  const from = quoteTable(events);
  const cols = columnList(REQUEST_EVENTS);
  const latest = `QUALIFY ROW_NUMBER() OVER (PARTITION BY request_id ORDER BY ${LATEST_ORDER}) = 1`;

  /** Latest state per request, superseded ones included (`create` needs them for idempotency). */
  const selectRows = async (op: string, where: string, params: Record<string, Param>, purpose: string, outer: string): Promise<Row[]> => {
    const sql = `-- smart-backfill:tracker.${op}\nSELECT * FROM (\nSELECT ${cols}\nFROM ${from}\nWHERE ${where}\n${latest}\n) AS latest\n${outer}`;
    const rows = await runQuery(c, { sql, params, purpose: `${purpose} from ${from}`, table: events, maximumBytesBilled: limit });
    return rows.map(rowOf);
  };

  /**
   * Latest state per request, superseded ones left out: what every read of the port sees,
   * with this tracker's later writes (a MarkPublished still streaming) in place of what the
   * query returned; `still` is the statement's filter, to drop a row our write moved out of it.
   */
  const select = async (
    op: string,
    where: string,
    params: Record<string, Param>,
    purpose: string,
    outer = '',
    still: (r: BackfillRequest) => boolean = () => true,
  ): Promise<BackfillRequest[]> =>
    own.overlay(
      (await selectRows(op, where, params, purpose, `WHERE superseded_by IS NULL${outer === '' ? '' : ` AND ${outer}`}`)).map(
        (r) => r.stamped,
      ),
      (r) => r.requestId,
      still,
      false,
    );

  const lock = keyedLock();
  const own = shared?.own ?? ownWrites<BackfillRequest, string>();

  const readRow = async (requestId: string): Promise<Row | undefined> => {
    const rows = await runQuery(c, {
      sql: `-- smart-backfill:tracker.get\nSELECT ${cols}\nFROM ${from}\nWHERE request_id = @request_id\n${latest}`,
      params: { request_id: p.string(requestId) },
      purpose: `reading request ${JSON.stringify(requestId)} from ${from}`,
      table: events,
      maximumBytesBilled: limit,
    });
    return rows.length === 0 ? undefined : rowOf(rows[0]!);
  };

  const locks = quoteTable(tables.requestLocks);
  const table: EventTable<BackfillRequest, string> = {
    table: events,
    own,
    // DML, not insertAll: a create (another process's too) decides on the request's status, so a Complete must be visible at once.
    write: dmlWrite(c, events, REQUEST_EVENTS, 'tracker.apply', limit),
    describe: (id) => `request ${JSON.stringify(id)}`,
    async readLatest(requestId) {
      const row = await readRow(requestId);
      return row === undefined || row.supersededBy !== null ? undefined : row.stamped;
    },
    async readSince(requestId, version) {
      const rows = await runQuery(c, {
        sql: `-- smart-backfill:tracker.since\nSELECT ${cols}\nFROM ${from}\nWHERE request_id = @request_id AND version >= @version`,
        params: { request_id: p.string(requestId), version: p.int(version) },
        purpose: `reading back request ${JSON.stringify(requestId)} from ${from}`,
        table: events,
        maximumBytesBilled: limit,
      });
      return rows.map(fromRow);
    },
    eventId: (_id, next, version, event) => eventIdOf(next, version, event),
    toRow: (next, meta) => toRow(next, meta),
  };

  const keysWhere = '(game_date IN UNNEST(@dates)) AND (processor_name IN UNNEST(@processors))';
  /**
   * One job for every date of a gap. Inside one transaction it deletes a row of the lock
   * table (so BigQuery cancels one of two concurrent creates: docs/bigquery.md, "Atomic
   * create"), then inserts each new request unless its id exists or its date already has an
   * active request, as of the transaction's snapshot. After the commit it returns the latest
   * rows of those dates, which tell which of ours went in and which existing ones won.
   */
  const createSql = (extra: readonly string[]): string =>
    [
      '-- smart-backfill:tracker.create',
      'BEGIN TRANSACTION;',
      `INSERT INTO ${locks} (lock_key, taken_at) VALUES (@lock_key, CURRENT_TIMESTAMP());`,
      `DELETE FROM ${locks} WHERE lock_key = @lock_key;`,
      insertFromJson(events, REQUEST_EVENTS, 'rows'),
      `WHERE NOT EXISTS (\n  SELECT 1 FROM ${from} AS e\n  WHERE (e.game_date IN UNNEST(@dates)) AND e.request_id = JSON_VALUE(j, '$.request_id')\n)`,
      `AND NOT EXISTS (\n  SELECT 1 FROM (\n    SELECT processor_name, game_date, status, superseded_by FROM ${from}\n    WHERE ${keysWhere}\n    ${latest}\n  ) AS l`,
      "  WHERE l.superseded_by IS NULL AND l.status IN ('queued', 'processing')",
      "    AND l.processor_name = JSON_VALUE(j, '$.processor_name') AND l.game_date = CAST(JSON_VALUE(j, '$.game_date') AS DATE)\n);",
      ...extra,
      'COMMIT TRANSACTION;',
      `SELECT ${cols}\nFROM ${from}\nWHERE ${keysWhere}\n${latest}`,
    ].join('\n');

  const createLocked = async (inputs: readonly NewBackfillRequest[]): Promise<CreateRequestsResult> => {
    // Two inputs for one date: the first is the one to create, the second reports it.
    const firstOf = new Map<string, NewBackfillRequest>();
    const seenIds = new Set<string>();
    const fresh: BackfillRequest[] = [];
    for (const input of inputs) {
      const k = keyOf(input.processorName, input.date);
      if (firstOf.has(k) || seenIds.has(input.requestId)) continue;
      firstOf.set(k, input);
      seenIds.add(input.requestId);
      fresh.push(newRequest(input));
    }
    const writerId = randomUUID();
    const json = fresh.map((r) => {
      const eventId = eventIdOf(r, 0, 'Create');
      return JSON.stringify(toRow(r, { version: 0, event: 'Create', eventTime: r.requestedAt, eventId, writerId }));
    });
    const dates = [...new Set(inputs.map((r) => r.date))].sort();
    const processors = [...new Set(inputs.map((r) => r.processorName))].sort();
    // Rows the store's other adapters just streamed (a guard's hold) ride in this transaction, written again by DML.
    const echoed = echo?.take() ?? { sql: [], params: {} };
    const echoParams = Object.fromEntries(Object.entries(echoed.params).map(([k, v]) => [k, p.strings(v)]));
    let rows: Row[] | undefined;
    for (let tryNo = 1; rows === undefined; tryNo++) {
      try {
        rows = (
          await runQuery(c, {
            sql: createSql(echoed.sql),
            params: {
              ...echoParams,
              lock_key: p.string(processors.join(',')),
              rows: p.strings(json),
              dates: p.dates(dates),
              processors: p.strings(processors),
            },
            purpose: `recording ${fresh.length} backfill requests in ${from}`,
            table: events,
            maximumBytesBilled: limit,
          })
        ).map(rowOf);
      } catch (e) {
        // The loser of a race: BigQuery rolled it back whole; the next try sees the winner's requests.
        if (!isSmartBackfillError(e, 'contention') || tryNo >= 8) throw e;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * tryNo));
      }
    }
    const byId = new Map(rows.map((r) => [r.stamped.state.requestId, r]));
    const active = new Map<string, BackfillRequest>();
    for (const r of rows) {
      if (r.supersededBy !== null || !isActive(r.stamped.state.status)) continue;
      const k = keyOf(r.stamped.state.processorName, r.stamped.state.date);
      const cur = active.get(k);
      // Rows from before atomic creates may hold two; reads pick the earliest, so do we.
      if (cur === undefined || r.stamped.state.requestedAt < cur.requestedAt) active.set(k, r.stamped.state);
    }
    const created: BackfillRequest[] = [];
    const existing: BackfillRequest[] = [];
    for (const input of inputs) {
      const row = byId.get(input.requestId);
      if (row !== undefined && row.stamped.writerId === writerId && row.stamped.version === 0) {
        // Version 0, as written: a change right after (MarkPublished) builds on it without reading.
        created.push({ ...row.stamped.state, revision: row.stamped.version });
        own.put(input.requestId, row.stamped);
        continue;
      }
      const winner = active.get(keyOf(input.processorName, input.date)) ?? row?.stamped.state;
      if (winner !== undefined) existing.push(winner);
    }
    return { created, existing };
  };

  /**
   * MarkPublished calls made together (the guard marks every request it published at
   * once) share one read of their latest rows and one insertAll. Like a single
   * MarkPublished, they are not read back: a lost one only means the relay publishes again.
   * Streamed, not DML: a DML mark would be a third query job in the check that queued them.
   */
  let publishBatch: {
    readonly requestId: string;
    readonly event: Extract<RequestEvent, { _tag: 'MarkPublished' }>;
    readonly done: (r: Promise<Result<TrackerError, BackfillRequest>>) => void;
  }[] = [];
  const markPublished = (
    requestId: string,
    event: Extract<RequestEvent, { _tag: 'MarkPublished' }>,
  ): Promise<Result<TrackerError, BackfillRequest>> =>
    new Promise((resolve) => {
      if (publishBatch.length === 0) setImmediate(flushPublished);
      publishBatch.push({ requestId, event, done: resolve });
    });

  const withLocks = <T>(ids: readonly string[], fn: () => Promise<T>): Promise<T> =>
    ids.length === 0 ? fn() : lock(`apply:${ids[0]!}`, () => withLocks(ids.slice(1), fn));

  const flushPublished = (): void => {
    const batch = publishBatch;
    publishBatch = [];
    // Sorted: two batches sharing ids take their locks in one order.
    const ids = [...new Set(batch.map((b) => b.requestId))].sort();
    const work = withLocks(ids, async () => {
      const current = new Map<string, Stamped<BackfillRequest>>();
      // Requests this tracker just created or changed need no read: the guard marks what it created.
      const unknown = ids.filter((id) => {
        const mine = own.get(id);
        if (mine !== undefined) current.set(id, mine);
        return mine === undefined;
      });
      if (unknown.length > 0) {
        // Parenthesised for node-sql-parser (`IN UNNEST(@x)` right before QUALIFY).
        const rows = await runQuery(c, {
          sql: `-- smart-backfill:tracker.getMany\nSELECT ${cols}\nFROM ${from}\nWHERE (request_id IN UNNEST(@request_ids))\n${latest}`,
          params: { request_ids: p.strings(unknown) },
          purpose: `reading ${unknown.length} requests from ${from}`,
          table: events,
          maximumBytesBilled: limit,
        });
        for (const r of rows.map(rowOf)) if (r.supersededBy === null) current.set(r.stamped.state.requestId, r.stamped);
      }
      const results: Result<TrackerError, BackfillRequest>[] = [];
      const writes: { insertId: string; json: Record<string, unknown> }[] = [];
      const mine: [string, Stamped<BackfillRequest>][] = [];
      for (const b of batch) {
        const cur = current.get(b.requestId);
        if (cur === undefined) {
          results.push(
            err({ _tag: 'NotFound', requestId: b.requestId, message: `no backfill request ${JSON.stringify(b.requestId)} in ${from}` }),
          );
          continue;
        }
        const next = transition(cur.state, b.event);
        if (next._tag === 'Err' || next.value === cur.state) {
          results.push(next._tag === 'Err' ? next : ok(cur.state));
          continue;
        }
        // At the version it marks, not the next: a worker that claimed before this streamed row
        // shows up built its Claim on the same row, one version up, so the mark can never
        // outrank it (two rows of one version, with the mark later, would undo the claim).
        // Over the row it marks it wins: same version, later or equal event_time, and its
        // event_id ("…:MarkPublished") sorts after "…:Create"; a loss only republishes.
        const version = cur.version;
        const eventId = eventIdOf(next.value, version, 'MarkPublished');
        writes.push({
          insertId: eventId,
          json: toRow(next.value, { version, event: 'MarkPublished', eventTime: next.value.updatedAt, eventId, writerId: randomUUID() }),
        });
        // A second MarkPublished of the same request in this batch builds on this one, and so do later transitions.
        const written = {
          state: next.value,
          version,
          eventTime: next.value.updatedAt,
          eventId,
          writerId: String(writes[writes.length - 1]!.json['writer_id']),
        };
        current.set(b.requestId, written);
        mine.push([b.requestId, written]);
        results.push(ok({ ...next.value, revision: version }));
      }
      await insertRows(c, events, writes, `marking ${writes.length} requests published in ${from}`);
      for (const [id, row] of mine) own.put(id, row);
      return results;
    });
    batch.forEach((b, i) => b.done(work.then((r) => r[i]!)));
  };

  return {
    // `seen` is not needed: the create script reads the dates' requests inside its own transaction.
    async create(inputs: readonly NewBackfillRequest[]): Promise<CreateRequestsResult> {
      if (!Array.isArray(inputs)) throw inputError('requests', 'create() takes a list of requests');
      inputs.forEach(checkNew);
      if (inputs.length === 0) return { created: [], existing: [] };
      // One create at a time per tracker; cross-process races are settled by the create's transaction.
      return lock('create', () => createLocked(inputs));
    },

    async get(requestId: string): Promise<BackfillRequest | undefined> {
      return own.merge(requestId, await table.readLatest(requestId))?.state;
    },

    async forWindow(q: WindowQuery): Promise<readonly BackfillRequest[]> {
      checkWindow(q, 'forWindow');
      const where = 'processor_name = @processor AND game_date BETWEEN @start_date AND @end_date';
      const params = { processor: p.string(q.processorName), start_date: p.date(q.start), end_date: p.date(q.end) };
      const purpose = `reading requests of ${JSON.stringify(q.processorName)} ${q.start}..${q.end}`;
      return select('forWindow', where, params, purpose);
    },

    async apply(requestId: string, event: RequestEvent, options = {}): Promise<Result<TrackerError, BackfillRequest>> {
      if (event._tag === 'MarkPublished') return markPublished(requestId, event);
      return lock(`apply:${requestId}`, () =>
        mutate<BackfillRequest, string, Result<TrackerError, BackfillRequest>>(
          c,
          table,
          requestId,
          (cur) => {
            if (cur === undefined)
              return {
                _tag: 'Done',
                value: err({ _tag: 'NotFound', requestId, message: `no backfill request ${JSON.stringify(requestId)} in ${from}` }),
              };
            const next = transition(cur.state, event);
            if (next._tag === 'Err') return { _tag: 'Done', value: next };
            if (next.value === cur.state) return { _tag: 'Done', value: ok(cur.state) };
            // (MarkPublished goes through markPublished above: batched, not read back.)
            return {
              _tag: 'Write',
              next: next.value,
              event: event._tag,
              at: next.value.updatedAt,
              result: (w, version) => ok({ ...w, revision: version }),
            };
          },
          // Built on the request the caller hands over with its revision (one `create` returned), else read.
          { verify, maxTries: 5, known: knownRow(options.current) },
        ),
      );
    },

    async unpublished(q: { readonly olderThan: number; readonly limit: number }): Promise<readonly BackfillRequest[]> {
      return (
        await select(
          'unpublished',
          'requested_at <= @older_than',
          { older_than: p.timestamp(q.olderThan), max_rows: p.int(q.limit + own.size) },
          'reading unpublished requests',
          "status = 'queued' AND published_at IS NULL\nORDER BY requested_at, request_id\nLIMIT @max_rows",
          (r) => r.status === 'queued' && r.publishedAt === null,
        )
      ).slice(0, q.limit);
    },

    async expiredLeases(q: { readonly now: number; readonly limit: number }): Promise<readonly BackfillRequest[]> {
      return (
        await select(
          'expiredLeases',
          'TRUE',
          { now: p.timestamp(q.now), max_rows: p.int(q.limit + own.size) },
          'reading expired leases',
          "status = 'processing' AND lease_expires_at <= @now\nORDER BY lease_expires_at, request_id\nLIMIT @max_rows",
          (r) => r.status === 'processing' && r.leaseExpiresAt !== null && r.leaseExpiresAt <= q.now,
        )
      ).slice(0, q.limit);
    },

    async list(q: RequestListQuery): Promise<readonly BackfillRequest[]> {
      const where: string[] = ['TRUE'];
      const outer: string[] = [];
      const params: Record<string, Param> = {};
      if (q.processorName !== undefined) {
        where.push('processor_name = @processor');
        params['processor'] = p.string(q.processorName);
      }
      if (q.since !== undefined) {
        where.push('requested_at >= @since');
        params['since'] = p.timestamp(q.since);
      }
      if (q.statuses !== undefined) {
        outer.push('status IN UNNEST(@statuses)');
        params['statuses'] = p.strings(q.statuses);
      }
      let tail = `${outer.length > 0 ? outer.join(' AND ') : 'TRUE'}\nORDER BY requested_at DESC, request_id DESC`;
      if (q.limit !== undefined) {
        tail += '\nLIMIT @max_rows';
        params['max_rows'] = p.int(q.limit);
      }
      return select(
        'list',
        where.join(' AND '),
        params,
        'listing requests',
        tail,
        (r) => q.statuses === undefined || q.statuses.includes(r.status),
      );
    },
  };
};
