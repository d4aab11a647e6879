/**
 * A local stand-in for the BigQuery REST API (v2), on 127.0.0.1, for the real
 * `@google-cloud/bigquery` client. It records every request, answers in the
 * server's own shapes (schema + `f`/`v` rows, int64-microsecond TIMESTAMPs,
 * `jobComplete`, page tokens, `insertErrors`, error bodies) and can be told to fail.
 *
 * It is not a SQL engine. It recognises which of smart-backfill's statements it
 * was sent by the marker comment each one starts with (`-- smart-backfill:window`)
 * and answers from in-memory tables using the statement's query parameters. That
 * proves the wire protocol and our decoding; it cannot prove BigQuery's SQL
 * semantics — `zetasql/zetasql-bigquery.ts` does (it keeps this REST plumbing and
 * overrides `runJob` and `insertAll` to run the SQL on ZetaSQL), and the live tests.
 * This one stays for fault injection: scripted errors, ambiguous inserts, latency.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { TABLE_DEFS, type ColumnDef, type TableDef } from '../src/schema.js';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly search: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: unknown;
}

/** What a test says about a schedule or target table it seeds. */
export interface UserTableConfig {
  readonly dateColumn: string;
  readonly dateColumnType?: 'DATE' | 'TIMESTAMP' | 'DATETIME';
  readonly statusColumn?: string;
  readonly processorColumn?: string;
  readonly partitionColumn?: string;
  readonly partitionColumnType?: 'DATE' | 'TIMESTAMP' | 'DATETIME';
}

export interface ScriptedFailure {
  /** Which requests it applies to. */
  readonly match: (r: RecordedRequest) => boolean;
  /** Answer with this HTTP status and body... */
  readonly status?: number;
  readonly body?: unknown;
  /** ...or, for insertAll, accept the request but report these rows as failed. */
  readonly insertErrors?: ReadonlyArray<{
    readonly index: number;
    readonly errors: ReadonlyArray<{ readonly reason: string; readonly message?: string }>;
  }>;
  /** How many matching requests fail (default 1). */
  times?: number;
}

export type Json = Record<string, unknown>;
type ParamValue = string | null | readonly (string | null)[];

export interface Field {
  readonly name: string;
  readonly type: string;
  readonly mode?: string;
  readonly fields?: readonly Field[];
}

/** What a query job returns: its schema and its rows already in the REST `f`/`v` shape. */
export interface JobResult {
  readonly fields: readonly Field[];
  readonly rows: readonly Json[];
  /** For DML: rows inserted, updated or deleted (a string, as the API sends it). */
  readonly numDmlAffectedRows?: string;
}

/** An error a job answers with: HTTP status, Google's `reason` (`invalidQuery`, `notFound`) and message. */
export class JobError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface Result {
  readonly fields: readonly Field[];
  readonly rows: readonly (readonly unknown[])[];
}

/** Google's error body: `{ error: { code, message, errors: [{ reason, message, domain }], status } }`. */
export const apiError = (code: number, reason: string, message: string): Json => ({
  error: {
    code,
    message,
    errors: [{ message, domain: 'global', reason }],
    status: code === 400 ? 'INVALID_ARGUMENT' : code === 403 ? 'PERMISSION_DENIED' : code === 404 ? 'NOT_FOUND' : 'INTERNAL',
  },
});

const EVENT_ORDER = (a: Json, b: Json): number => {
  // version DESC, event_time DESC, event_id DESC, writer_id DESC — the adapters' LATEST_ORDER.
  const num = (x: unknown): number => Number(x);
  const cmp = (x: string | number, y: string | number): number => (x < y ? -1 : x > y ? 1 : 0);
  return (
    cmp(num(b['version']), num(a['version'])) ||
    cmp(Date.parse(String(b['event_time'])), Date.parse(String(a['event_time']))) ||
    cmp(String(b['event_id']), String(a['event_id'])) ||
    cmp(String(b['writer_id']), String(a['writer_id']))
  );
};

const latestBy = (rows: readonly Json[], key: (r: Json) => string): Json[] => {
  const groups = new Map<string, Json[]>();
  for (const r of rows) {
    const k = key(r);
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [r]);
    else g.push(r);
  }
  return [...groups.values()].map((g) => [...g].sort(EVENT_ORDER)[0]!);
};

const ms = (v: unknown): number => (v === null || v === undefined ? NaN : Date.parse(String(v)));
const cmpStr = (a: unknown, b: unknown): number => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);

/** UTC date of a stored DATE / TIMESTAMP / DATETIME value. */
const dateOf = (v: unknown, type: string): string => {
  const s = String(v);
  if (type === 'TIMESTAMP') return new Date(Date.parse(s)).toISOString().slice(0, 10);
  return s.slice(0, 10);
};

/** An `ARRAY<STRING>` parameter of JSON rows (`UNNEST(@rows) AS j`), parsed. */
const jsonRows = (v: ParamValue | undefined): Json[] => ((v as readonly string[] | undefined) ?? []).map((j) => JSON.parse(j) as Json);

export class FakeBigQuery {
  readonly requests: RecordedRequest[] = [];
  /**
   * Rows per `project.dataset.table`, as sent (the insertAll `json`, or a DML row), deduplicated
   * on insertId. `visibleAt`: when queries start to see the row (streamed rows late, DML rows at once).
   */
  readonly tables = new Map<string, { readonly insertId: string; readonly json: Json; readonly visibleAt: number }[]>();
  /**
   * How long a row streamed with insertAll stays invisible to queries (BigQuery documents
   * streamed rows as available "within a few seconds"). Rows written by DML are visible at once.
   * Applies to the tracking tables, not to seeded user tables.
   */
  streamingVisibilityMs = 0;
  /** The fake's clock for `streamingVisibilityMs`: a test passes a ManualClock's `now` so it never sleeps. */
  now: () => number = () => Date.now();
  readonly userTables = new Map<string, { readonly config: UserTableConfig; readonly rows: Json[] }>();
  /** Rows per page before a `pageToken` is returned. */
  pageSize = 500;
  /**
   * Also answer requests that carry no Authorization header, as the client sends
   * them when `BIGQUERY_EMULATOR_HOST` points it here (`emulatorHost`). A wrong
   * token is refused all the same. Off by default.
   */
  allowNoAuth = false;
  private readonly failures: ScriptedFailure[] = [];
  /** BigQuery's conflict rule (`commitMutations`, both fakes): commits so far, and per table the commit that last mutated it. */
  private commitSeq = 0;
  private readonly lastMutation = new Map<string, number>();
  /** Commits held back by `pauseCommits`. */
  private commitsPaused = false;
  private readonly heldCommits: (() => void)[] = [];
  private readonly heldWaiters: { readonly n: number; readonly resolve: () => void }[] = [];
  /** Transactions cancelled because a concurrent one mutated the same table. */
  abortedTransactions = 0;
  private readonly pages = new Map<string, { fields: readonly Field[]; rows: readonly Json[] }[]>();
  private server: http.Server | undefined;
  private jobCounter = 0;
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const rec: RecordedRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          search: url.searchParams,
          headers: req.headers,
          body: text === '' ? undefined : (JSON.parse(text) as unknown),
        };
        this.requests.push(rec);
        void this.handle(rec)
          .catch((e: unknown): [number, unknown] => [500, apiError(500, 'backendError', `fake: ${(e as Error).message}`)])
          .then(([status, body]) => {
            res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
            res.end(JSON.stringify(body));
          });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /**
   * The real client, pointed here, with a fixed OAuth token: no credential lookup,
   * no metadata server, no token endpoint. (A service-account `credentials` object
   * would make the client fetch a token from oauth2.googleapis.com.)
   */
  client(projectId = 'test-project'): BigQuery {
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: 'fake-token-for-tests', expiry_date: Date.now() + 24 * 3600_000 });
    return new BigQuery({
      projectId,
      apiEndpoint: this.url,
      authClient: auth,
      retryOptions: { maxRetryDelay: 0.01, retryDelayMultiplier: 1.1 },
    });
  }

  fail(f: ScriptedFailure): void {
    this.failures.push({ ...f, times: f.times ?? 1 });
  }

  defineUserTable(fullName: string, config: UserTableConfig): void {
    if (!this.userTables.has(fullName)) this.userTables.set(fullName, { config, rows: [] });
  }

  addUserRows(fullName: string, rows: readonly Json[]): void {
    const t = this.userTables.get(fullName);
    if (t === undefined) throw new Error(`fake: define ${fullName} first`);
    t.rows.push(...rows);
  }

  /** The value for `BIGQUERY_EMULATOR_HOST` (the client appends no `/bigquery/v2` in that mode); set `allowNoAuth` with it. */
  get emulatorHost(): string {
    return `${this.url}/bigquery/v2`;
  }

  /** Every stored row, visible to queries or not (the test's backdoor). */
  rows(fullName: string): Json[] {
    return (this.tables.get(fullName) ?? []).map((r) => r.json);
  }

  /** The rows a query sees now. */
  visibleRows(fullName: string): Json[] {
    const now = this.now();
    return (this.tables.get(fullName) ?? []).filter((r) => r.visibleAt <= now).map((r) => r.json);
  }

  /** The snapshot a transaction starting now reads: the commits so far. */
  protected get commits(): number {
    return this.commitSeq;
  }

  /**
   * BigQuery's conflict rule, for both fakes: commit a transaction that took its snapshot at
   * `since` and ran UPDATE, DELETE or MERGE on `tables` (key → name for the message), unless
   * another transaction mutated one of them after that snapshot: then it is cancelled.
   */
  protected commitMutations(since: number, tables: ReadonlyMap<string, string>): void {
    for (const [key, name] of tables)
      if ((this.lastMutation.get(key) ?? 0) > since) {
        this.abortedTransactions++;
        throw new JobError(400, 'invalidQuery', `Transaction is aborted due to concurrent update against table ${name}.`);
      }
    this.commitSeq++;
    for (const key of tables.keys()) this.lastMutation.set(key, this.commitSeq);
  }

  /**
   * Hold every transaction's commit (its snapshot is already taken) until `resumeCommits`:
   * a test makes racing transactions overlap for certain, without timing.
   */
  pauseCommits(): void {
    this.commitsPaused = true;
  }

  resumeCommits(): void {
    this.commitsPaused = false;
    for (const commit of this.heldCommits.splice(0)) commit();
  }

  /** Resolves once `n` transactions wait for `resumeCommits`. */
  heldTransactions(n: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.heldCommits.length >= n) resolve();
      else this.heldWaiters.push({ n, resolve });
    });
  }

  /** Bodies of jobs.query calls (the SQL and typed parameters the client sent). */
  queries(): { query: string; queryParameters?: ReadonlyArray<Json>; [k: string]: unknown }[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/queries')).map((r) => r.body as { query: string });
  }

  inserts(): { path: string; rows: { insertId: string; json: Json }[] }[] {
    return this.requests
      .filter((r) => r.path.endsWith('/insertAll'))
      .map((r) => ({ path: r.path, rows: (r.body as { rows: { insertId: string; json: Json }[] }).rows }));
  }

  // ---------------------------------------------------------------- routing

  private async handle(r: RecordedRequest): Promise<[number, unknown]> {
    const anonymous = this.allowNoAuth && r.headers.authorization === undefined;
    if (!anonymous && r.headers.authorization !== 'Bearer fake-token-for-tests')
      return [401, apiError(401, 'unauthorized', 'missing or wrong bearer token')];
    const scripted = this.failures.find((f) => (f.times ?? 0) > 0 && f.match(r));
    if (scripted !== undefined) {
      scripted.times = (scripted.times ?? 1) - 1;
      if (scripted.insertErrors !== undefined)
        return [200, { kind: 'bigquery#tableDataInsertAllResponse', insertErrors: scripted.insertErrors }];
      return [scripted.status ?? 500, scripted.body ?? apiError(500, 'backendError', 'scripted failure')];
    }
    let m = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)\/insertAll$/.exec(r.path);
    if (m !== null && r.method === 'POST')
      return this.insertAll(`${m[1]}.${m[2]}.${decodeURIComponent(m[3]!)}`, r.body as { rows: { insertId: string; json: Json }[] });
    m = /^\/bigquery\/v2\/projects\/([^/]+)\/queries$/.exec(r.path);
    if (m !== null && r.method === 'POST') return await this.query(m[1]!, r.body as Json);
    m = /^\/bigquery\/v2\/projects\/([^/]+)\/queries\/([^/]+)$/.exec(r.path);
    if (m !== null && r.method === 'GET') return this.page(m[1]!, m[2]!, r.search.get('pageToken'));
    return [404, apiError(404, 'notFound', `fake: no route for ${r.method} ${r.path}`)];
  }

  /** tabledata.insertAll: stores the rows (a subclass may store them its own way). */
  protected insertAll(table: string, body: { rows: { insertId: string; json: Json }[] }): [number, unknown] {
    const stored = this.tables.get(table) ?? [];
    this.tables.set(table, stored);
    for (const row of body.rows) {
      // BigQuery's best-effort dedupe on insertId, made exact here.
      if (row.insertId !== undefined && stored.some((s) => s.insertId === row.insertId)) continue;
      stored.push({ insertId: row.insertId, json: row.json, visibleAt: this.now() + this.streamingVisibilityMs });
      // A processor streaming into a seeded schedule/target table: its rows count from now on.
      this.userTables.get(table)?.rows.push(row.json);
    }
    return [200, { kind: 'bigquery#tableDataInsertAllResponse' }];
  }

  private page(projectId: string, jobId: string, token: string | null): [number, unknown] {
    const pages = this.pages.get(jobId);
    const idx = token === null ? 0 : Number(token);
    const p = pages?.[idx];
    if (p === undefined) return [404, apiError(404, 'notFound', `Not found: Job ${projectId}:${jobId}`)];
    return [
      200,
      this.resultBody(
        projectId,
        jobId,
        p.fields,
        p.rows,
        idx + 1 < pages!.length ? String(idx + 1) : undefined,
        pages!.reduce((n, x) => n + x.rows.length, 0),
      ),
    ];
  }

  private resultBody(
    projectId: string,
    jobId: string,
    fields: readonly Field[],
    rows: readonly Json[],
    pageToken: string | undefined,
    total: number,
  ): Json {
    return {
      kind: 'bigquery#getQueryResultsResponse',
      jobReference: { projectId, jobId, location: 'US' },
      jobComplete: true,
      totalRows: String(total),
      schema: { fields },
      rows,
      ...(pageToken === undefined ? {} : { pageToken }),
      totalBytesProcessed: '0',
      cacheHit: false,
    };
  }

  /** jobs.query: runs the job, keeps its result pages for getQueryResults, answers with the first. */
  private async query(projectId: string, body: Json): Promise<[number, unknown]> {
    let result: JobResult;
    try {
      result = await this.runJob(body);
    } catch (e) {
      if (e instanceof JobError) return [e.status, apiError(e.status, e.reason, e.message)];
      throw e;
    }
    const jobId = `job_${++this.jobCounter}`;
    const encoded = result.rows;
    const pages: { fields: readonly Field[]; rows: readonly Json[] }[] = [];
    for (let i = 0; i < Math.max(1, encoded.length); i += this.pageSize)
      pages.push({ fields: result.fields, rows: encoded.slice(i, i + this.pageSize) });
    this.pages.set(jobId, pages);
    const first = pages[0]!;
    return [
      200,
      {
        ...this.resultBody(projectId, jobId, result.fields, first.rows, pages.length > 1 ? '1' : undefined, encoded.length),
        kind: 'bigquery#queryResponse',
        ...(result.numDmlAffectedRows === undefined ? {} : { numDmlAffectedRows: result.numDmlAffectedRows }),
      },
    ];
  }

  /**
   * Evaluates one query job (the jobs.query body): here by recognising the statement's
   * marker and answering by hand. Throws `JobError` for an error the API would return.
   */
  protected async runJob(body: Json): Promise<JobResult> {
    const sql = String(body['query'] ?? '');
    const params = new Map<string, ParamValue>();
    for (const qp of (body['queryParameters'] as Json[] | undefined) ?? []) {
      const v = qp['parameterValue'] as { value?: unknown; arrayValues?: { value?: unknown }[] };
      params.set(
        String(qp['name']),
        v.arrayValues !== undefined
          ? v.arrayValues.map((x) => (x.value === undefined || x.value === null ? null : String(x.value)))
          : v.value === undefined || v.value === null
            ? null
            : String(v.value),
      );
    }
    const op = /^-- smart-backfill:(\S+)/.exec(sql)?.[1];
    if (op === undefined)
      throw new JobError(400, 'invalidQuery', 'fake: only smart-backfill statements (with their marker comment) are understood');
    if (op === 'tracker.create') return this.createTransaction(sql, params);
    if (op === 'tracker.apply' || op === 'held.apply') {
      this.insertDml(/INSERT INTO `([^`]+)`/.exec(sql)?.[1] ?? '', jsonRows(params.get('rows')));
      return { fields: [], rows: [] };
    }
    let result: Result;
    try {
      result = this.evaluate(op, sql, params);
    } catch (e) {
      throw new JobError(400, 'invalidQuery', `fake: ${(e as Error).message}`);
    }
    return this.jobResult(result);
  }

  private jobResult(result: Result): JobResult {
    return { fields: result.fields, rows: result.rows.map((row) => ({ f: row.map((v, i) => ({ v: encode(result.fields[i]!, v) })) })) };
  }

  // ---------------------------------------------------------------- evaluation

  private tablesIn(sql: string): string[] {
    return [...sql.matchAll(/FROM `([^`]+)`/g)].map((m) => m[1]!);
  }

  private visibleEvents(sql: string): Json[] {
    const name = this.tablesIn(sql)[0];
    if (name === undefined) throw new Error('no table');
    return this.visibleRows(name);
  }

  /** `INSERT … SELECT … FROM UNNEST(@rows)` of JSON rows: DML rows are visible to the next query. */
  private insertDml(table: string, rows: readonly Json[]): void {
    const stored = this.tables.get(table) ?? [];
    this.tables.set(table, stored);
    for (const json of rows) stored.push({ insertId: `dml:${String(json['event_id'])}`, json, visibleAt: -Infinity });
  }

  /**
   * The tracker's create script: `BEGIN TRANSACTION`, a row inserted into and deleted from
   * the lock table, `INSERT … SELECT … WHERE NOT EXISTS` (an active request for the date, or
   * the request id), `COMMIT`, then the latest rows of those dates. BigQuery's rule, kept here:
   * reads see the snapshot taken when the transaction starts; a transaction that mutates
   * (updates or deletes) rows of a table is cancelled when another transaction mutating that
   * table committed after its snapshot.
   */
  private createTransaction(sql: string, params: Map<string, ParamValue>): Promise<JobResult> {
    const lockTable = /DELETE FROM `([^`]+)`/.exec(sql)?.[1];
    const events = /INSERT INTO `([^`]+)`\s*\(request_id/.exec(sql)?.[1];
    if (lockTable === undefined || events === undefined)
      return Promise.reject(new JobError(400, 'invalidQuery', 'fake: tracker.create without its lock DELETE or its INSERT'));
    const snapshotSeq = this.commits;
    const snapshot = latestBy(this.visibleRows(events), (r) => String(r['request_id']));
    const inputs = jsonRows(params.get('rows'));
    const live = (r: Json): boolean => (r['superseded_by'] ?? null) === null && (r['status'] === 'queued' || r['status'] === 'processing');
    const keyOf = (r: Json): string => JSON.stringify([r['processor_name'], String(r['game_date'])]);
    const taken = new Set(snapshot.filter(live).map(keyOf));
    const ids = new Set(snapshot.map((r) => String(r['request_id'])));
    // INSERT … SELECT evaluates its WHERE against the snapshot only: two inputs of one date both pass.
    const inserts = inputs.filter((j) => !ids.has(String(j['request_id'])) && !taken.has(keyOf(j)));
    return new Promise((resolve, reject) => {
      const commit = (): void => {
        try {
          this.commitMutations(snapshotSeq, new Map([[lockTable, lockTable.replace('.', ':')]]));
        } catch (e) {
          reject(e as Error);
          return;
        }
        this.insertDml(events, inserts);
        // Rows the script writes again by DML (`INSERT INTO t (…) SELECT … FROM UNNEST(@echo_N)`).
        for (const m of sql.matchAll(/INSERT INTO `([^`]+)` \([^)]*\)\nSELECT[^;]*?FROM UNNEST\(@(echo_\d+)\) AS j;/g))
          this.insertDml(m[1]!, jsonRows(params.get(m[2]!)));
        const dates = new Set(inputs.map((j) => String(j['game_date'])));
        const procs = new Set(inputs.map((j) => String(j['processor_name'])));
        const after = latestBy(this.visibleRows(events), (r) => String(r['request_id'])).filter(
          (r) => dates.has(String(r['game_date'])) && procs.has(String(r['processor_name'])),
        );
        resolve(this.jobResult(this.project('requestEvents', after)));
      };
      if (!this.commitsPaused) {
        commit();
        return;
      }
      this.heldCommits.push(commit);
      for (const w of this.heldWaiters.filter((x) => this.heldCommits.length >= x.n)) {
        this.heldWaiters.splice(this.heldWaiters.indexOf(w), 1);
        w.resolve();
      }
    });
  }

  private evaluate(op: string, sql: string, params: Map<string, ParamValue>): Result {
    const str = (k: string): string | null => {
      const v = params.get(k);
      if (Array.isArray(v)) throw new Error(`@${k} is an array`);
      return (v as string | null | undefined) ?? null;
    };
    const need = (k: string): string => {
      const v = str(k);
      if (v === null) throw new Error(`Query parameter '${k}' not found or null`);
      return v;
    };
    const arr = (k: string): readonly string[] => {
      const v = params.get(k);
      if (!Array.isArray(v)) throw new Error(`@${k} is not an array`);
      return v as string[];
    };
    const limitOf = (): number => (params.has('max_rows') ? Number(need('max_rows')) : Infinity);
    switch (op) {
      case 'ddl':
        return { fields: [], rows: [] };
      case 'schedule':
      case 'counts':
      case 'window': {
        const names = this.tablesIn(sql);
        const out: unknown[][] = [];
        if (op !== 'counts') for (const d of this.scheduleDates(names[0]!, params)) out.push(op === 'window' ? ['expected', d, null] : [d]);
        if (op !== 'schedule')
          for (const [d, n] of this.counts(names[op === 'window' ? 1 : 0]!, params))
            out.push(op === 'window' ? ['count', d, String(n)] : [d, String(n)]);
        const fields: Field[] =
          op === 'window'
            ? [
                { name: 'kind', type: 'STRING', mode: 'NULLABLE' },
                { name: 'd', type: 'DATE', mode: 'NULLABLE' },
                { name: 'n', type: 'INTEGER', mode: 'NULLABLE' },
              ]
            : op === 'schedule'
              ? [{ name: 'd', type: 'DATE', mode: 'NULLABLE' }]
              : [
                  { name: 'd', type: 'DATE', mode: 'NULLABLE' },
                  { name: 'n', type: 'INTEGER', mode: 'NULLABLE' },
                ];
        return { fields, rows: out };
      }
      case 'schedule-describe': {
        // Rows in the window per status, before the status filter.
        const { rows, config } = this.windowRows(this.tablesIn(sql)[0]!, 's', params);
        const counts = new Map<string | null, number>();
        for (const r of rows) {
          const st = config.statusColumn === undefined ? null : ((r[config.statusColumn] ?? null) as string | null);
          counts.set(st, (counts.get(st) ?? 0) + 1);
        }
        const fields: Field[] = [
          { name: 'status', type: 'STRING', mode: 'NULLABLE' },
          { name: 'n', type: 'INTEGER', mode: 'NULLABLE' },
        ];
        return { fields, rows: [...counts].map(([st, n]) => [st, String(n)]) };
      }
      case 'check': {
        // The guard's combined read: `-- smart-backfill:check window+requests+alerts+held`, tables in that order.
        const parts = (/^-- smart-backfill:check (\S+)/.exec(sql)?.[1] ?? '').split('+');
        const names = this.tablesIn(sql);
        const out: unknown[][] = [];
        let at = 0;
        if (parts.includes('window')) {
          for (const d of this.scheduleDates(names[at]!, params)) out.push(['expected', d, null, null]);
          for (const [d, n] of this.counts(names[at + 1]!, params)) out.push(['count', d, String(n), null]);
          at += 2;
        }
        if (parts.includes('requests')) {
          const rows = latestBy(this.visibleRows(names[at++]!), (r) => String(r['request_id'])).filter(
            (r) =>
              (r['superseded_by'] ?? null) === null &&
              r['processor_name'] === need('r_processor') &&
              String(r['game_date']) >= need('r_start_date') &&
              String(r['game_date']) <= need('r_end_date'),
          );
          for (const r of rows) out.push(['request', null, null, toJsonString('requestEvents', r)]);
        }
        if (parts.includes('alerts')) {
          const rows = latestBy(this.visibleRows(names[at++]!), (r) => String(r['alert_key'])).filter(
            (r) =>
              r['processor_name'] === need('a_processor') &&
              ((r['resolved_at'] ?? null) === null ||
                (r['missing_dates'] as string[]).some((d) => d >= need('a_start_date') && d <= need('a_end_date'))),
          );
          for (const r of rows) out.push(['alert', null, null, toJsonString('alertEvents', r)]);
        }
        if (parts.includes('held')) {
          const rows = latestBy(this.visibleRows(names[at++]!), (r) => JSON.stringify([r['processor_name'], r['game_date']])).filter(
            (r) => r['processor_name'] === need('h_processor') && (r['status'] === 'held' || String(r['game_date']) === need('h_run_date')),
          );
          for (const r of rows) out.push(['held', null, null, toJsonString('heldRunEvents', r)]);
        }
        const fields: Field[] = [
          { name: 'kind', type: 'STRING', mode: 'NULLABLE' },
          { name: 'd', type: 'DATE', mode: 'NULLABLE' },
          { name: 'n', type: 'INTEGER', mode: 'NULLABLE' },
          { name: 'payload', type: 'STRING', mode: 'NULLABLE' },
        ];
        return { fields, rows: out };
      }
      case 'tracker.since':
        return this.project(
          'requestEvents',
          this.visibleEvents(sql).filter((r) => r['request_id'] === need('request_id') && Number(r['version']) >= Number(need('version'))),
        );
      case 'held.since':
        return this.project(
          'heldRunEvents',
          this.visibleEvents(sql).filter(
            (r) =>
              r['processor_name'] === need('processor') &&
              r['game_date'] === need('run_date') &&
              Number(r['version']) >= Number(need('version')),
          ),
        );
      case 'alerts.since':
        return this.project(
          'alertEvents',
          this.visibleEvents(sql).filter((r) => r['alert_key'] === need('alert_key') && Number(r['version']) >= Number(need('version'))),
        );
      case 'tracker.get':
      case 'tracker.getMany':
      case 'tracker.forWindow':
      case 'tracker.existing':
      case 'tracker.settle':
      case 'tracker.unpublished':
      case 'tracker.expiredLeases':
      case 'tracker.list': {
        let rows = latestBy(this.visibleEvents(sql), (r) => String(r['request_id']));
        const live = (r: Json): boolean => r['superseded_by'] === null || r['superseded_by'] === undefined;
        if (op === 'tracker.get') rows = rows.filter((r) => r['request_id'] === need('request_id'));
        if (op === 'tracker.getMany') rows = rows.filter((r) => arr('request_ids').includes(String(r['request_id'])));
        if (op === 'tracker.forWindow')
          rows = rows.filter(
            (r) =>
              live(r) &&
              r['processor_name'] === need('processor') &&
              String(r['game_date']) >= need('start_date') &&
              String(r['game_date']) <= need('end_date'),
          );
        if (op === 'tracker.existing' || op === 'tracker.settle') {
          const dates = arr('dates');
          const procs = arr('processors');
          rows = rows.filter(
            (r) =>
              dates.includes(String(r['game_date'])) &&
              procs.includes(String(r['processor_name'])) &&
              String(r['game_date']) >= need('min_date') &&
              String(r['game_date']) <= need('max_date'),
          );
        }
        if (op === 'tracker.unpublished') {
          rows = rows
            .filter(
              (r) => live(r) && ms(r['requested_at']) <= ms(need('older_than')) && r['status'] === 'queued' && r['published_at'] === null,
            )
            .sort((a, b) => ms(a['requested_at']) - ms(b['requested_at']) || cmpStr(a['request_id'], b['request_id']));
        }
        if (op === 'tracker.expiredLeases') {
          rows = rows
            .filter((r) => live(r) && r['status'] === 'processing' && ms(r['lease_expires_at']) <= ms(need('now')))
            .sort((a, b) => ms(a['lease_expires_at']) - ms(b['lease_expires_at']) || cmpStr(a['request_id'], b['request_id']));
        }
        if (op === 'tracker.list') {
          rows = rows
            .filter(
              (r) =>
                live(r) &&
                (!params.has('processor') || r['processor_name'] === need('processor')) &&
                (!params.has('since') || ms(r['requested_at']) >= ms(need('since'))) &&
                (!params.has('statuses') || arr('statuses').includes(String(r['status']))),
            )
            .sort((a, b) => ms(b['requested_at']) - ms(a['requested_at']) || cmpStr(b['request_id'], a['request_id']));
        }
        return this.project('requestEvents', rows.slice(0, limitOf()));
      }
      case 'runs.list': {
        const seen = new Set<string>();
        const rows = this.visibleEvents(sql)
          .filter((r) => {
            if (seen.has(String(r['run_id']))) return false;
            seen.add(String(r['run_id']));
            return true;
          })
          .filter(
            (r) =>
              ms(r['run_date']) >= ms(need('since')) &&
              (!params.has('until') || ms(r['run_date']) <= ms(need('until'))) &&
              (!params.has('processor') || r['processor_name'] === need('processor')) &&
              (!params.has('run_date_from') || String(r['game_date']) >= String(need('run_date_from'))) &&
              (!params.has('run_date_to') || String(r['game_date']) <= String(need('run_date_to'))),
          )
          .sort((a, b) => ms(a['run_date']) - ms(b['run_date']) || cmpStr(a['run_id'], b['run_id']));
        return this.project('runs', rows.slice(0, limitOf()));
      }
      case 'runs.lastBuilds': {
        const names = arr('processors');
        const last = new Map<string, Json>();
        for (const r of this.visibleEvents(sql)) {
          if (ms(r['run_date']) < ms(need('since')) || !names.includes(String(r['processor_name'])) || r['outcome'] !== 'succeeded')
            continue;
          const key = JSON.stringify([r['processor_name'], r['game_date']]);
          const b = last.get(key);
          const later = (col: string): unknown => (b === undefined || ms(r[col]) > ms(b[col]) ? r[col] : b[col]);
          last.set(key, { ...r, started_at: later('started_at'), finished_at: later('finished_at') } as Json);
        }
        const rows = [...last.values()].sort(
          (a, b) => cmpStr(a['processor_name'], b['processor_name']) || cmpStr(a['game_date'], b['game_date']),
        );
        return this.project('runs', rows);
      }
      case 'held.get':
      case 'held.list': {
        let rows = latestBy(this.visibleEvents(sql), (r) => JSON.stringify([r['processor_name'], r['game_date']]));
        if (op === 'held.get') rows = rows.filter((r) => r['processor_name'] === need('processor') && r['game_date'] === need('run_date'));
        else
          rows = rows
            .filter(
              (r) =>
                (!params.has('processor') || r['processor_name'] === need('processor')) &&
                (!params.has('status') || r['status'] === need('status')),
            )
            .sort((a, b) => cmpStr(a['game_date'], b['game_date']) || cmpStr(a['processor_name'], b['processor_name']));
        return this.project('heldRunEvents', rows);
      }
      case 'alerts.get':
      case 'alerts.list': {
        let rows = latestBy(this.visibleEvents(sql), (r) => String(r['alert_key']));
        if (op === 'alerts.get') rows = rows.filter((r) => r['alert_key'] === need('alert_key'));
        else
          rows = rows
            .filter(
              (r) =>
                (!params.has('processor') || r['processor_name'] === need('processor')) &&
                (!sql.includes('resolved_at IS NULL') || r['resolved_at'] === null),
            )
            .sort((a, b) => ms(b['opened_at']) - ms(a['opened_at']) || cmpStr(b['alert_key'], a['alert_key']));
        return this.project('alertEvents', rows);
      }
      default:
        throw new Error(`unknown statement ${op}`);
    }
  }

  private project(kind: TableDef['kind'], rows: readonly Json[]): Result {
    const def = TABLE_DEFS.find((t) => t.kind === kind)!;
    return { fields: def.columns.map(fieldOf), rows: rows.map((r) => def.columns.map((c) => r[c.name] ?? null)) };
  }

  /** Rows of a user table inside the window given by the `<prefix>_start/_end` or `_from/_until` parameters. */
  private windowRows(table: string, prefix: string, params: Map<string, ParamValue>): { rows: Json[]; config: UserTableConfig } {
    const t = this.userTables.get(table);
    if (t === undefined) throw new Error(`Not found: Table ${table}`);
    const get = (k: string): string | undefined => (params.get(k) as string | null | undefined) ?? undefined;
    const inRange = (value: unknown, type: string, pre: string): boolean => {
      const start = get(`${pre}_start`);
      if (start !== undefined) return String(value) >= start && String(value) <= get(`${pre}_end`)!;
      const from = get(`${pre}_from`);
      const until = get(`${pre}_until`);
      if (from === undefined || until === undefined) throw new Error(`no window parameters for ${pre}`);
      if (type === 'TIMESTAMP') return Date.parse(String(value)) >= Date.parse(from) && Date.parse(String(value)) < Date.parse(until);
      return String(value).replace(' ', 'T') >= from && String(value).replace(' ', 'T') < until;
    };
    const type = t.config.dateColumnType ?? 'DATE';
    let rows = t.rows.filter((r) => inRange(r[t.config.dateColumn], type, prefix));
    if (t.config.partitionColumn !== undefined) {
      // The adapter must also filter the partition column, or BigQuery scans every partition.
      if (!params.has(`${prefix}_part_start`) && !params.has(`${prefix}_part_from`))
        throw new Error(`query on ${table} has no filter on partition column ${t.config.partitionColumn}`);
      rows = rows.filter((r) => inRange(r[t.config.partitionColumn!], t.config.partitionColumnType ?? 'DATE', `${prefix}_part`));
    }
    if (t.config.processorColumn !== undefined) rows = rows.filter((r) => r[t.config.processorColumn!] === get('processor'));
    return { rows, config: t.config };
  }

  private scheduleDates(table: string, params: Map<string, ParamValue>): string[] {
    const { rows, config } = this.windowRows(table, 's', params);
    const statuses = params.get('s_statuses') as readonly string[] | undefined;
    const ok = rows.filter((r) => config.statusColumn === undefined || (statuses ?? []).includes(String(r[config.statusColumn])));
    return [...new Set(ok.map((r) => dateOf(r[config.dateColumn], config.dateColumnType ?? 'DATE')))];
  }

  private counts(table: string, params: Map<string, ParamValue>): Map<string, number> {
    const { rows, config } = this.windowRows(table, 't', params);
    const out = new Map<string, number>();
    for (const r of rows) {
      const d = dateOf(r[config.dateColumn], config.dateColumnType ?? 'DATE');
      out.set(d, (out.get(d) ?? 0) + 1);
    }
    return out;
  }
}

/** A stored row as BigQuery's `TO_JSON_STRING(row)` renders it: TIMESTAMP as RFC 3339 UTC, INT64 as a number, JSON embedded. */
const toJsonString = (kind: TableDef['kind'], r: Json): string => {
  const def = TABLE_DEFS.find((t) => t.kind === kind)!;
  const out: Json = {};
  for (const c of def.columns) {
    const v = r[c.name] ?? null;
    const one = (x: unknown): unknown => {
      if (x === null) return null;
      switch (c.type) {
        case 'TIMESTAMP':
          return new Date(Date.parse(String(x))).toISOString().replace('.000Z', 'Z');
        case 'INT64':
          return Number(x);
        case 'BOOL':
          return x === true || x === 'true';
        case 'JSON':
          return typeof x === 'string' ? (JSON.parse(x) as unknown) : x;
        case 'DATE':
        case 'STRING':
          return String(x);
      }
    };
    out[c.name] = c.mode === 'REPEATED' ? ((v as unknown[] | null) ?? []).map(one) : one(v);
  }
  return JSON.stringify(out);
};

const fieldOf = (c: ColumnDef): Field => ({
  name: c.name,
  type: c.type === 'INT64' ? 'INTEGER' : c.type === 'BOOL' ? 'BOOLEAN' : c.type,
  mode: c.mode,
});

/** A value as the REST API sends it: strings everywhere, TIMESTAMP as int64 microseconds, REPEATED as `[{ v }]`. */
const encode = (f: Field, v: unknown): unknown => {
  if (v === null || v === undefined) return f.mode === 'REPEATED' ? [] : null;
  if (f.mode === 'REPEATED') return (v as unknown[]).map((x) => ({ v: encode({ ...f, mode: 'NULLABLE' }, x) }));
  switch (f.type) {
    case 'TIMESTAMP':
      return String(BigInt(Date.parse(String(v))) * 1000n);
    case 'BOOLEAN':
      return v === true || v === 'true' ? 'true' : 'false';
    case 'JSON':
      return typeof v === 'string' ? v : JSON.stringify(v);
    default:
      return String(v);
  }
};
