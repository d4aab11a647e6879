import type { BigQuery, Query } from '@google-cloud/bigquery';
import type { IsoDate } from '@smart-backfill/core';
import { BigQueryAdapterError, configError, wrapClientError } from './errors.js';
import { tableName, validateProject, type TableRef } from './identifiers.js';

/**
 * A typed query parameter. Every value reaches BigQuery as one of these, never
 * as SQL text. Types are always sent explicitly: the 8.x client infers a type
 * from the value only for its own wrapper classes, and a plain string given the
 * type `DATE` is silently sent without a value — so dates go through `client.date()`.
 */
export type Param =
  | { readonly type: 'STRING'; readonly value: string | null }
  | { readonly type: 'INT64'; readonly value: number | null }
  | { readonly type: 'BOOL'; readonly value: boolean | null }
  | { readonly type: 'DATE'; readonly value: IsoDate | null }
  /** Epoch milliseconds. */
  | { readonly type: 'TIMESTAMP'; readonly value: number | null }
  /** `YYYY-MM-DDTHH:MM:SS`, no zone. */
  | { readonly type: 'DATETIME'; readonly value: string | null }
  | { readonly type: 'ARRAY<STRING>'; readonly value: readonly string[] }
  | { readonly type: 'ARRAY<DATE>'; readonly value: readonly IsoDate[] };

export const p = {
  string: (value: string | null): Param => ({ type: 'STRING', value }),
  int: (value: number | null): Param => ({ type: 'INT64', value }),
  bool: (value: boolean | null): Param => ({ type: 'BOOL', value }),
  date: (value: IsoDate | null): Param => ({ type: 'DATE', value }),
  timestamp: (value: number | null): Param => ({ type: 'TIMESTAMP', value }),
  datetime: (value: string | null): Param => ({ type: 'DATETIME', value }),
  strings: (value: readonly string[]): Param => ({ type: 'ARRAY<STRING>', value }),
  dates: (value: readonly IsoDate[]): Param => ({ type: 'ARRAY<DATE>', value }),
} as const;

/** Connection settings shared by every adapter of one store. */
export interface BigQueryConnectionOptions {
  /** Your client (`new BigQuery({ projectId, location })`). Its project is the default for every table. */
  readonly client: BigQuery;
  /** Default project for tables given as `dataset.table`; defaults to the client's. */
  readonly projectId?: string | undefined;
  /** Where jobs run (`US`, `EU`, `europe-west1`); defaults to the client's. */
  readonly location?: string | undefined;
  /**
   * Upper bound on bytes billed for every query this store runs; a query that would
   * scan more fails (nothing billed) instead of scanning a whole table. Default: no limit.
   */
  readonly maximumBytesBilled?: number | string | undefined;
  /** Job labels (e.g. `{ app: 'smart-backfill' }`) to find these jobs in billing exports. */
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /**
   * How many times the client re-sends only the failed rows of an insertAll that partly
   * failed (its `partialRetries`). Default 1. Whole-request failures (5xx, rate limits)
   * are retried by the client itself; deterministic insertIds make every retry safe.
   */
  readonly insertPartialRetries?: number | undefined;
}

/** Validated connection settings (what `connect` returns); adapters accept either form. */
export interface Connection {
  readonly _tag: 'Connection';
  readonly client: BigQuery;
  readonly projectId: string;
  readonly location: string | undefined;
  readonly maximumBytesBilled: string | undefined;
  readonly labels: Readonly<Record<string, string>> | undefined;
  readonly insertPartialRetries: number;
}

/** A `maximumBytesBilled` option (the connection's or one adapter's) as the digits the API takes. */
export const bytesLimit = (field: string, v: unknown): string | undefined => {
  if (v === undefined) return undefined;
  const s = typeof v === 'number' ? (Number.isSafeInteger(v) ? String(v) : '') : typeof v === 'string' ? v : '';
  if (!/^[1-9][0-9]{0,18}$/.test(s))
    throw configError(`${field} must be a positive whole number of bytes, got ${JSON.stringify(v) ?? String(v)}`);
  return s;
};

export const connect = (o: BigQueryConnectionOptions | Connection): Connection => {
  if ((o as Partial<Connection>)._tag === 'Connection') return o as Connection;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.client !== 'object' ||
    o.client === null ||
    typeof (o.client as { query?: unknown }).query !== 'function'
  ) {
    throw configError('client must be a BigQuery client from @google-cloud/bigquery (new BigQuery({ projectId }))');
  }
  const fromClient = (o.client as { projectId?: unknown }).projectId;
  // The client's placeholder until it discovers a project asynchronously; we need one up front to name tables.
  if (o.projectId === undefined && (fromClient === undefined || fromClient === '{{projectId}}')) {
    throw configError('projectId is required: pass projectId, or a client built with new BigQuery({ projectId })');
  }
  const projectId = validateProject('projectId', o.projectId ?? fromClient);
  if (o.insertPartialRetries !== undefined && (!Number.isInteger(o.insertPartialRetries) || o.insertPartialRetries < 0)) {
    throw configError(`insertPartialRetries must be a whole number >= 0, got ${String(o.insertPartialRetries)}`);
  }
  return {
    _tag: 'Connection',
    client: o.client,
    projectId,
    location: o.location ?? (o.client as { location?: string }).location,
    maximumBytesBilled: bytesLimit('maximumBytesBilled', o.maximumBytesBilled),
    labels: o.labels,
    insertPartialRetries: o.insertPartialRetries ?? 1,
  };
};

/** One statement: SQL text with `@name` placeholders (never a reserved word such as `@end` or `@limit`), its parameters, and what it is for (error messages). */
export interface Statement {
  readonly sql: string;
  readonly params: Readonly<Record<string, Param>>;
  /** `reading counts from \`p.d.t\``: completes "... failed: <why>". */
  readonly purpose: string;
  readonly table?: TableRef | undefined;
  readonly maximumBytesBilled?: string | undefined;
}

const toClientParams = (
  client: BigQuery,
  params: Readonly<Record<string, Param>>,
): { params: Record<string, unknown>; types: Record<string, string | string[]> } => {
  const values: Record<string, unknown> = {};
  const types: Record<string, string | string[]> = {};
  for (const [name, prm] of Object.entries(params)) {
    switch (prm.type) {
      case 'STRING':
      case 'BOOL':
        values[name] = prm.value;
        types[name] = prm.type;
        break;
      case 'INT64':
        values[name] = prm.value === null ? null : String(prm.value);
        types[name] = 'INT64';
        break;
      case 'DATE':
        values[name] = prm.value === null ? null : client.date(prm.value);
        types[name] = 'DATE';
        break;
      case 'TIMESTAMP':
        values[name] = prm.value === null ? null : client.timestamp(new Date(prm.value));
        types[name] = 'TIMESTAMP';
        break;
      case 'DATETIME':
        values[name] = prm.value === null ? null : client.datetime(prm.value);
        types[name] = 'DATETIME';
        break;
      case 'ARRAY<STRING>':
        values[name] = [...prm.value];
        types[name] = ['STRING'];
        break;
      case 'ARRAY<DATE>':
        values[name] = prm.value.map((d) => client.date(d));
        types[name] = ['DATE'];
        break;
    }
  }
  return { params: values, types };
};

/** Run one query job and return its rows (all pages), as the client decodes them. */
export const runQuery = async (conn: Connection, st: Statement): Promise<Record<string, unknown>[]> => {
  const query: Query = { query: st.sql, useLegacySql: false };
  if (Object.keys(st.params).length > 0) {
    const { params, types } = toClientParams(conn.client, st.params);
    query.params = params;
    query.types = types as NonNullable<Query['types']>;
  }
  if (conn.location !== undefined) query.location = conn.location;
  const limit = st.maximumBytesBilled ?? conn.maximumBytesBilled;
  if (limit !== undefined) query.maximumBytesBilled = limit;
  if (conn.labels !== undefined) query.labels = { ...conn.labels };
  try {
    const [rows] = await conn.client.query(query);
    return rows as Record<string, unknown>[];
  } catch (e) {
    throw wrapClientError('query_failed', st.purpose, st.table === undefined ? undefined : tableName(st.table), e);
  }
};

/** One row for insertAll: its dedupe id and its JSON body. */
export interface InsertRow {
  readonly insertId: string;
  readonly json: Record<string, unknown>;
}

interface PartialFailure {
  readonly errors?: ReadonlyArray<{ readonly reason?: string; readonly message?: string }>;
  readonly row?: { readonly insertId?: string };
}

/**
 * Stream rows with one insertAll call. `insertId`s are deterministic per event,
 * so a retried call (by the client or by us) is deduplicated by BigQuery (best effort,
 * about a minute) and, past that, by the latest-state views.
 */
export const insertRows = async (conn: Connection, table: TableRef, rows: readonly InsertRow[], purpose: string): Promise<void> => {
  if (rows.length === 0) return;
  try {
    await conn.client
      .dataset(table.datasetId, { projectId: table.projectId })
      .table(table.tableId)
      .insert(
        rows.map((r) => ({ insertId: r.insertId, json: r.json })),
        { raw: true, partialRetries: conn.insertPartialRetries },
      );
  } catch (e) {
    const failures = (
      typeof e === 'object' &&
      e !== null &&
      Array.isArray((e as { errors?: unknown }).errors) &&
      (e as { name?: unknown }).name === 'PartialFailureError'
        ? (e as { errors: PartialFailure[] }).errors
        : []
    ) as PartialFailure[];
    if (failures.length > 0) {
      const detail = failures
        .slice(0, 5)
        .map(
          (f) =>
            `${f.row?.insertId ?? '?'}: ${(f.errors ?? []).map((x) => `${x.reason ?? 'error'}${x.message ? ` ${x.message}` : ''}`).join('; ')}`,
        )
        .join(' | ');
      const reasons = [...new Set(failures.flatMap((f) => (f.errors ?? []).map((x) => x.reason ?? 'error')))];
      throw new BigQueryAdapterError(
        'query_failed',
        `${purpose} failed: ${failures.length} of ${rows.length} rows were rejected (${detail}${failures.length > 5 ? ' | ...' : ''}); ${
          failures.length === rows.length
            ? 'nothing of this batch was stored; rows marked "stopped" were valid but held back by an invalid one'
            : `the other ${rows.length - failures.length} rows were stored`
        }`,
        { cause: e, table: tableName(table), reasons, detail: 'insert_failed' },
      );
    }
    throw wrapClientError('insert_failed', purpose, tableName(table), e);
  }
};
