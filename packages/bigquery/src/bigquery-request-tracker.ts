import { randomUUID } from 'node:crypto';
import {
  err,
  isIsoDate,
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
import { configError } from './errors.js';
import { quoteTable, type TableRef } from './identifiers.js';
import { insertIdOf, keyedLock, metaColumns, mutate, stampedOf, type EventMeta, type EventTable, type Stamped } from './event-table.js';
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
  if (!STATUSES.has(status)) throw configError(`request ${String(r['request_id'])} has unknown status ${JSON.stringify(status)}`);
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
  if (typeof r.requestId !== 'string' || r.requestId.length === 0) throw configError(`${where}.requestId must be a non-empty string`);
  if (typeof r.processorName !== 'string' || r.processorName.length === 0)
    throw configError(`${where}.processorName must be a non-empty string`);
  if (!isIsoDate(r.date)) throw configError(`${where}.date must be a YYYY-MM-DD date, got ${JSON.stringify(r.date)}`);
  if (!Number.isFinite(r.requestedAt)) throw configError(`${where}.requestedAt must be epoch milliseconds`);
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

  /** Latest state per request, superseded ones left out: what every read of the port sees. */
  const select = async (
    op: string,
    where: string,
    params: Record<string, Param>,
    purpose: string,
    outer = '',
  ): Promise<BackfillRequest[]> =>
    (await selectRows(op, where, params, purpose, `WHERE superseded_by IS NULL${outer === '' ? '' : ` AND ${outer}`}`)).map(
      (r) => r.stamped.state,
    );

  const lock = keyedLock();

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

  const table: EventTable<BackfillRequest, string> = {
    table: events,
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

  /** Every request (superseded too) of the inputs' processors and dates. */
  const readKeys = (
    op: string,
    inputs: readonly { readonly processorName: string; readonly date: IsoDate }[],
    purpose: string,
  ): Promise<Row[]> => {
    const dates = [...new Set(inputs.map((r) => r.date))].sort();
    return selectRows(
      op,
      // Parenthesised: node-sql-parser misreads `IN UNNEST(@x)` directly before QUALIFY (same meaning in BigQuery).
      'game_date BETWEEN @min_date AND @max_date AND (game_date IN UNNEST(@dates)) AND (processor_name IN UNNEST(@processors))',
      {
        min_date: p.date(dates[0]!),
        max_date: p.date(dates[dates.length - 1]!),
        dates: p.dates(dates),
        processors: p.strings([...new Set(inputs.map((r) => r.processorName))]),
      },
      purpose,
      '',
    );
  };

  /** What `create` builds on: the caller's read of these dates (a check's `requests`), else a read. */
  const existingFor = async (
    inputs: readonly NewBackfillRequest[],
    seen: readonly BackfillRequest[] | undefined,
  ): Promise<readonly Row[]> =>
    seen !== undefined
      ? seen.map((r) => ({ stamped: { state: r, version: -1, eventTime: r.updatedAt, eventId: '', writerId: '' }, supersededBy: null }))
      : readKeys('existing', inputs, 'reading active requests');

  const isLive = (r: BackfillRequest): boolean => r.status === 'queued' || r.status === 'processing';
  const before = (a: BackfillRequest, b: BackfillRequest): boolean =>
    a.requestedAt < b.requestedAt || (a.requestedAt === b.requestedAt && a.requestId < b.requestId);

  /**
   * Read back after inserting: a concurrent `create` may have added another active
   * request for one of our dates. A request seen before our insert always wins; among
   * requests that did not see each other, the earliest (requestedAt, requestId) wins,
   * so every racer picks the same one. Losers get a `Superseded` event.
   */
  const settleRace = async (created: readonly BackfillRequest[], seen: ReadonlySet<string>): Promise<Map<string, BackfillRequest>> => {
    const lostTo = new Map<string, BackfillRequest>();
    if (!verify || created.length === 0) return lostTo;
    const rows = await readKeys('settle', created, 'reading back new requests');
    const live = rows.filter((r) => r.supersededBy === null && isLive(r.stamped.state)).map((r) => r.stamped.state);
    for (const mine of created) {
      const rivals = live.filter((r) => r.processorName === mine.processorName && r.date === mine.date && r.requestId !== mine.requestId);
      const old = rivals.find((r) => seen.has(r.requestId));
      const winner = old ?? rivals.filter((r) => before(r, mine)).sort((a, b) => (before(a, b) ? -1 : 1))[0];
      if (winner !== undefined) lostTo.set(mine.requestId, winner);
    }
    if (lostTo.size > 0) {
      await insertRows(
        c,
        events,
        created
          .filter((r) => lostTo.has(r.requestId))
          .map((r) => {
            const eventId = eventIdOf(r, 1, 'Superseded');
            return {
              insertId: eventId,
              json: toRow(
                r,
                { version: 1, event: 'Superseded', eventTime: r.updatedAt, eventId, writerId: eventId },
                lostTo.get(r.requestId)!.requestId,
              ),
            };
          }),
        `marking ${lostTo.size} raced requests superseded in ${from}`,
      );
    }
    return lostTo;
  };

  const createLocked = async (
    inputs: readonly NewBackfillRequest[],
    seen: readonly BackfillRequest[] | undefined,
  ): Promise<CreateRequestsResult> => {
    const known = await existingFor(inputs, seen);
    const byId = new Map<string, Row>(known.map((r) => [r.stamped.state.requestId, r]));
    const active = new Map<string, BackfillRequest>();
    for (const r of known)
      if (r.supersededBy === null && isLive(r.stamped.state))
        active.set(keyOf(r.stamped.state.processorName, r.stamped.state.date), r.stamped.state);
    const created: BackfillRequest[] = [];
    // Per input: the request to report as existing, or undefined when it is ours.
    const outcome: (BackfillRequest | undefined)[] = [];
    for (const input of inputs) {
      const same = byId.get(input.requestId);
      if (same !== undefined) {
        outcome.push(
          same.supersededBy === null ? same.stamped.state : (active.get(keyOf(input.processorName, input.date)) ?? same.stamped.state),
        );
        continue;
      }
      const winner = active.get(keyOf(input.processorName, input.date));
      if (winner !== undefined) {
        outcome.push(winner);
        continue;
      }
      const r = newRequest(input);
      created.push(r);
      outcome.push(undefined);
      byId.set(r.requestId, { stamped: { state: r, version: 0, eventTime: r.updatedAt, eventId: '', writerId: '' }, supersededBy: null });
      active.set(keyOf(r.processorName, r.date), r);
    }
    await insertRows(
      c,
      events,
      created.map((r) => {
        const eventId = eventIdOf(r, 0, 'Create');
        return { insertId: eventId, json: toRow(r, { version: 0, event: 'Create', eventTime: r.requestedAt, eventId, writerId: eventId }) };
      }),
      `recording ${created.length} backfill requests in ${from}`,
    );
    const lostTo = await settleRace(created, new Set(known.map((r) => r.stamped.state.requestId)));
    const existing: BackfillRequest[] = [];
    const kept: BackfillRequest[] = [];
    let i = 0;
    for (const o of outcome) {
      if (o !== undefined) {
        existing.push(o);
        continue;
      }
      const mine = created[i++]!;
      const winner = lostTo.get(mine.requestId);
      // Version 0, as written: a change right after (MarkPublished) builds on it without reading.
      if (winner === undefined) kept.push({ ...mine, revision: 0 });
      else existing.push(winner);
    }
    return { created: kept, existing };
  };

  /**
   * MarkPublished calls made together (the guard marks every request it published at
   * once) share one read of their latest rows and one insertAll. Like a single
   * MarkPublished, they are not read back: a lost one only means the relay publishes again.
   */
  let publishBatch: {
    readonly requestId: string;
    readonly event: Extract<RequestEvent, { _tag: 'MarkPublished' }>;
    readonly current: BackfillRequest | undefined;
    readonly done: (r: Promise<Result<TrackerError, BackfillRequest>>) => void;
  }[] = [];
  const markPublished = (
    requestId: string,
    event: Extract<RequestEvent, { _tag: 'MarkPublished' }>,
    current: BackfillRequest | undefined,
  ): Promise<Result<TrackerError, BackfillRequest>> =>
    new Promise((resolve) => {
      if (publishBatch.length === 0) setImmediate(flushPublished);
      publishBatch.push({ requestId, event, current, done: resolve });
    });

  const withLocks = <T>(ids: readonly string[], fn: () => Promise<T>): Promise<T> =>
    ids.length === 0 ? fn() : lock(`apply:${ids[0]!}`, () => withLocks(ids.slice(1), fn));

  const flushPublished = (): void => {
    const batch = publishBatch;
    publishBatch = [];
    // Sorted: two batches sharing ids take their locks in one order.
    const ids = [...new Set(batch.map((b) => b.requestId))].sort();
    // Requests handed over with their revision (just created) build on it; only the others are read.
    const handed = new Map<string, Stamped<BackfillRequest>>();
    for (const b of batch)
      if (b.current?.revision !== undefined && b.current.requestId === b.requestId)
        handed.set(b.requestId, {
          state: b.current,
          version: b.current.revision,
          eventTime: b.current.updatedAt,
          eventId: '',
          writerId: '',
        });
    const toRead = ids.filter((id) => !handed.has(id));
    const work = withLocks(ids, async () => {
      // Parenthesised for node-sql-parser (see readKeys).
      const rows =
        toRead.length === 0
          ? []
          : await runQuery(c, {
              sql: `-- smart-backfill:tracker.getMany\nSELECT ${cols}\nFROM ${from}\nWHERE (request_id IN UNNEST(@request_ids))\n${latest}`,
              params: { request_ids: p.strings(toRead) },
              purpose: `reading ${toRead.length} requests from ${from}`,
              table: events,
              maximumBytesBilled: limit,
            });
      const current = new Map<string, Stamped<BackfillRequest>>(handed);
      for (const r of rows.map(rowOf)) if (r.supersededBy === null) current.set(r.stamped.state.requestId, r.stamped);
      const results: Result<TrackerError, BackfillRequest>[] = [];
      const writes: { insertId: string; json: Record<string, unknown> }[] = [];
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
        const version = cur.version + 1;
        const eventId = eventIdOf(next.value, version, 'MarkPublished');
        writes.push({
          insertId: eventId,
          json: toRow(next.value, { version, event: 'MarkPublished', eventTime: next.value.updatedAt, eventId, writerId: randomUUID() }),
        });
        // A second MarkPublished of the same request in this batch builds on this one.
        current.set(b.requestId, { state: next.value, version, eventTime: next.value.updatedAt, eventId, writerId: '' });
        results.push(ok({ ...next.value, revision: version }));
      }
      await insertRows(c, events, writes, `marking ${writes.length} requests published in ${from}`);
      return results;
    });
    batch.forEach((b, i) => b.done(work.then((r) => r[i]!)));
  };

  return {
    async create(inputs: readonly NewBackfillRequest[], options = {}): Promise<CreateRequestsResult> {
      if (!Array.isArray(inputs)) throw configError('create() takes a list of requests');
      inputs.forEach(checkNew);
      if (inputs.length === 0) return { created: [], existing: [] };
      // One create at a time per tracker: in-process races are exact; cross-process ones are settled by read-back.
      return lock('create', () => createLocked(inputs, options.seen));
    },

    async get(requestId: string): Promise<BackfillRequest | undefined> {
      return (await table.readLatest(requestId))?.state;
    },

    async forWindow(q: WindowQuery): Promise<readonly BackfillRequest[]> {
      checkWindow(q, 'forWindow');
      const where = 'processor_name = @processor AND game_date BETWEEN @start_date AND @end_date';
      const params = { processor: p.string(q.processorName), start_date: p.date(q.start), end_date: p.date(q.end) };
      const purpose = `reading requests of ${JSON.stringify(q.processorName)} ${q.start}..${q.end}`;
      return select('forWindow', where, params, purpose);
    },

    async apply(requestId: string, event: RequestEvent, options = {}): Promise<Result<TrackerError, BackfillRequest>> {
      if (event._tag === 'MarkPublished') return markPublished(requestId, event, options.current);
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
            return { _tag: 'Write', next: next.value, event: event._tag, at: next.value.updatedAt, result: (w) => ok(w) };
          },
          { verify, maxTries: 5 },
        ),
      );
    },

    async unpublished(q: { readonly olderThan: number; readonly limit: number }): Promise<readonly BackfillRequest[]> {
      return select(
        'unpublished',
        'requested_at <= @older_than',
        { older_than: p.timestamp(q.olderThan), max_rows: p.int(q.limit) },
        'reading unpublished requests',
        "status = 'queued' AND published_at IS NULL\nORDER BY requested_at, request_id\nLIMIT @max_rows",
      );
    },

    async expiredLeases(q: { readonly now: number; readonly limit: number }): Promise<readonly BackfillRequest[]> {
      return select(
        'expiredLeases',
        'TRUE',
        { now: p.timestamp(q.now), max_rows: p.int(q.limit) },
        'reading expired leases',
        "status = 'processing' AND lease_expires_at <= @now\nORDER BY lease_expires_at, request_id\nLIMIT @max_rows",
      );
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
      return select('list', where.join(' AND '), params, 'listing requests', tail);
    },
  };
};
