/**
 * A BigQuery REST fake whose query jobs are answered by ZetaSQL's reference
 * evaluator, the open-source implementation of BigQuery's SQL: the REST plumbing
 * (routes, auth, recorded requests, pagination, scripted failures) is the hand
 * fake's; the SQL is run, not recognised.
 *
 * - Tables exist once DDL (a query job, or `createTable`) creates them; insertAll into
 *   a missing table is a 404, as on BigQuery. CREATE TABLE / VIEW [IF NOT EXISTS],
 *   CREATE OR REPLACE VIEW, ALTER TABLE ADD COLUMN, DROP are kept as the catalog.
 * - Queries go to `EvaluateQuery` with the tables' rows as `table_content`. A view is
 *   evaluated from its SQL when a statement names it, so it sees current rows.
 * - DML goes to `EvaluateModify`; the rows it touched are written back (for UPDATE and
 *   DELETE a hidden row id column is the primary key that tells which).
 * - A job is a script: its statements run one after another. Each statement outside
 *   BEGIN TRANSACTION … COMMIT, and each transaction, reads a snapshot of every table
 *   it touches (taken at first touch) and commits its writes at its end; ROLLBACK or
 *   an error discards them. Jobs run concurrently, with BigQuery's rule for DML
 *   conflicts: a transaction whose UPDATE, DELETE or MERGE touched a table that another
 *   transaction's UPDATE, DELETE or MERGE changed after it began is aborted at commit
 *   (a lone DML statement is run again, up to three times, as BigQuery queues it);
 *   INSERT never conflicts. (Per table, where BigQuery goes per partition: stricter.)
 * - `CURRENT_TIMESTAMP()` / `CURRENT_DATE()` are the fake's clock (`now`), so views
 *   with a look-back window are deterministic under a manual clock.
 * - `streamingVisibilityMs`: insertAll rows become visible to queries that long after
 *   they arrive (BigQuery: "within a few seconds"); DML rows are visible at once.
 */
import { apiError, FakeBigQuery, JobError, type Json, type JobResult, type UserTableConfig } from '../fake-bigquery-server.js';
import {
  analyzerOptions,
  BigQueryCatalog,
  catalogProto,
  typeOfRestParameter,
  type CatalogTable,
  type Column,
  type RestParameterType,
  type TypeProto,
} from './analyzer.js';
import { splitScript, stripComments } from './script.js';
import type { ZetaSqlServer } from './server.js';
import { parameterValue, toCell, toField, toJson, toValue, type RestParameterValue, type ValueProto } from './values.js';

export interface ZetaSqlBigQueryOptions {
  /** How long after insertAll its rows show up in queries (ms). Default 0. */
  readonly streamingVisibilityMs?: number;
  /** The fake's clock: streaming visibility and CURRENT_TIMESTAMP(). Default `Date.now`. */
  readonly now?: () => number;
}

interface StoredRow {
  readonly id: number;
  readonly cells: readonly ValueProto[];
  readonly visibleAt: number;
}

/** What one transaction (or one statement outside BEGIN … COMMIT) reads and writes. */
interface Tx {
  /** The commit sequence number when it began. */
  readonly startSeq: number;
  /** Rows as it sees them, per table, copied when it first touches the table. */
  readonly view: Map<string, StoredRow[]>;
  /** Ids of the rows each table had at that first touch. */
  readonly base: Map<string, Set<number>>;
  /** Rows it inserted, per table. */
  readonly inserted: Map<string, StoredRow[]>;
  /** Tables it ran UPDATE, DELETE or MERGE on. */
  readonly mutated: Set<string>;
}

interface StoredTable {
  readonly name: string;
  columns: Column[];
  rows: StoredRow[];
  readonly insertIds: Set<string>;
}

type Params = { readonly types: { name: string; type: TypeProto }[]; readonly values: { name: string; value: ValueProto }[] };

const ROW_ID = '__fake_row_id';
const INT64: TypeProto = { type_kind: 'TYPE_INT64' };

const grpcDetails = (e: unknown): string | undefined => {
  const d = (e as { details?: unknown }).details;
  return typeof d === 'string' && typeof (e as { code?: unknown }).code === 'number' ? d : undefined;
};

/** A ZetaSQL error as the API would report it: a missing table is a 404, anything else an invalid query. */
const asJobError = (e: unknown, sql: string): never => {
  if (e instanceof JobError) throw e;
  const details = grpcDetails(e);
  if (details === undefined) throw e;
  const missing = /Table not found: (\S+)/.exec(details);
  if (missing !== null) throw new JobError(404, 'notFound', `Not found: Table ${missing[1]!.replace(/[`;]/g, '')}`);
  throw new JobError(400, 'invalidQuery', `${details}\n${sql.split('\n').slice(0, 3).join(' ')}`);
};

const quoted = (sql: string): Set<string> => new Set([...sql.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.toLowerCase()));

export class ZetaSqlBigQuery extends FakeBigQuery {
  override streamingVisibilityMs: number;
  override now: () => number;
  /** BigQuery's insertId de-duplication is best effort; turn it off to model a retry it missed. */
  dedupeInsertIds = true;
  /** Jobs that failed, with the error the API answered (a caller may swallow it; a test should not). */
  readonly jobErrors: { readonly sql: string; readonly message: string }[] = [];
  /** Every statement a job ran, in order (scripts split). */
  readonly statementsRun: string[] = [];
  private readonly catalog: BigQueryCatalog;
  private readonly data = new Map<string, StoredTable>();
  private readonly views = new Map<string, string>();
  private readonly datasets = new Set<string>();
  private nextRowId = 1;

  constructor(
    private readonly zetasql: ZetaSqlServer,
    options: ZetaSqlBigQueryOptions = {},
  ) {
    super();
    this.catalog = new BigQueryCatalog(zetasql);
    this.streamingVisibilityMs = options.streamingVisibilityMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  // ------------------------------------------------------------- seeding and inspection

  /** Create a user table from its column list (`(day DATE, state STRING)`); `pseudo` adds ingestion-time pseudo-columns. */
  async createTable(fullName: string, columns: string, pseudo: readonly { name: string; type: string }[] = []): Promise<void> {
    this.datasets.add(fullName.split('.').slice(0, 2).join('.').toLowerCase());
    const extra = pseudo.map((c) => ({ name: c.name, type: { type_kind: `TYPE_${c.type}` } as TypeProto, pseudo: true }));
    const a = await this.catalog.create(`CREATE TABLE \`${fullName}\` ${columns}`, extra);
    if (!a.ok) throw new Error(`fake: cannot create ${fullName}: ${a.error}`);
    this.register(fullName);
  }

  override defineUserTable(fullName: string, _config: UserTableConfig): void {
    throw new Error(`the ZetaSQL fake needs column types: use createTable(${JSON.stringify(fullName)}, '(col TYPE, ...)')`);
  }

  /** Rows a test seeds into a table, visible at once (as if loaded, not streamed). */
  override addUserRows(fullName: string, rows: readonly Json[]): void {
    const t = this.table(fullName);
    for (const r of rows) t.rows.push({ id: this.nextRowId++, cells: this.cellsOf(t, r), visibleAt: -Infinity });
  }

  /** Every stored row (visible or not), as insertAll JSON. */
  override rows(fullName: string): Json[] {
    const t = this.data.get(fullName.toLowerCase());
    if (t === undefined) return [];
    return t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c.name, toJson(c.type, r.cells[i] ?? {})])));
  }

  // ------------------------------------------------------------------------ insertAll

  protected override insertAll(table: string, body: { rows: { insertId: string; json: Json }[] }): [number, unknown] {
    const t = this.data.get(table.toLowerCase());
    if (t === undefined || this.views.has(table.toLowerCase())) return [404, apiError(404, 'notFound', `Not found: Table ${table}`)];
    const converted: (ValueProto[] | Error)[] = body.rows.map((r) => {
      try {
        return this.cellsOf(t, r.json);
      } catch (e) {
        return e as Error;
      }
    });
    const bad = converted.flatMap((c, index) => (c instanceof Error ? [{ index, message: c.message }] : []));
    if (bad.length > 0)
      // BigQuery inserts none of the request's rows when one is invalid (without skipInvalidRows).
      return [
        200,
        {
          kind: 'bigquery#tableDataInsertAllResponse',
          insertErrors: body.rows.map((_, index) => {
            const b = bad.find((x) => x.index === index);
            return { index, errors: [b === undefined ? { reason: 'stopped', message: '' } : { reason: 'invalid', message: b.message }] };
          }),
        },
      ];
    const visibleAt = this.now() + this.streamingVisibilityMs;
    for (const [i, r] of body.rows.entries()) {
      if (this.dedupeInsertIds && r.insertId !== undefined) {
        if (t.insertIds.has(r.insertId)) continue;
        t.insertIds.add(r.insertId);
      }
      t.rows.push({ id: this.nextRowId++, cells: converted[i] as ValueProto[], visibleAt });
    }
    return [200, { kind: 'bigquery#tableDataInsertAllResponse' }];
  }

  private cellsOf(t: StoredTable, json: Json): ValueProto[] {
    const known = new Set(t.columns.map((c) => c.name.toLowerCase()));
    for (const k of Object.keys(json)) if (!known.has(k.toLowerCase())) throw new Error(`no such field: ${k}.`);
    const byLower = new Map(Object.entries(json).map(([k, v]) => [k.toLowerCase(), v]));
    return t.columns.map((c) => toValue(c.type, byLower.get(c.name.toLowerCase())));
  }

  // ----------------------------------------------------------------------------- jobs

  /**
   * Called before each statement of a job runs, with the job's SQL: a test can hold a
   * job there (to interleave two transactions deterministically).
   */
  beforeStatement: ((jobSql: string, statement: string) => Promise<void>) | undefined;

  protected override runJob(body: Json): Promise<JobResult> {
    return this.script(body).catch((e: unknown) => {
      this.jobErrors.push({ sql: String(body['query'] ?? ''), message: (e as Error).message });
      throw e;
    });
  }

  private newTx(): Tx {
    return { startSeq: this.commits, view: new Map(), base: new Map(), inserted: new Map(), mutated: new Set() };
  }

  /** A table's rows as the transaction sees them. */
  private rowsIn(tx: Tx, key: string): StoredRow[] {
    let rows = tx.view.get(key);
    if (rows === undefined) {
      rows = [...this.data.get(key)!.rows];
      tx.view.set(key, rows);
      tx.base.set(key, new Set(rows.map((r) => r.id)));
    }
    return rows;
  }

  private commit(tx: Tx): void {
    this.commitMutations(tx.startSeq, new Map([...tx.mutated].map((key) => [key, this.data.get(key)?.name ?? key])));
    for (const [key, rows] of tx.view) {
      const t = this.data.get(key);
      if (t === undefined) continue;
      if (tx.mutated.has(key)) {
        const base = tx.base.get(key)!;
        const mine = new Set(rows.map((r) => r.id));
        // Rows others added since (streamed or inserted) stay; the rest is as this transaction left it.
        t.rows = [...rows, ...t.rows.filter((r) => !base.has(r.id) && !mine.has(r.id))];
      } else t.rows.push(...(tx.inserted.get(key) ?? []));
    }
  }

  private async script(body: Json): Promise<JobResult> {
    const sql = String(body['query'] ?? '');
    const params = this.params(body);
    const statements = splitScript(sql);
    // The open transaction; an error anywhere discards it with its writes.
    let tx: Tx | undefined;
    let result: JobResult = { fields: [], rows: [] };
    let affected: bigint | undefined;
    for (const st of statements) {
      await this.beforeStatement?.(sql, st);
      this.statementsRun.push(st);
      const head = stripComments(st).toUpperCase();
      if (/^BEGIN(\s+TRANSACTION)?\s*$/.test(head)) {
        if (tx !== undefined) throw new JobError(400, 'invalidQuery', 'Transaction is already in progress');
        tx = this.newTx();
      } else if (/^COMMIT(\s+TRANSACTION)?\s*$/.test(head)) {
        if (tx === undefined) throw new JobError(400, 'invalidQuery', 'There is no active transaction');
        this.commit(tx);
        tx = undefined;
      } else if (/^ROLLBACK(\s+TRANSACTION)?\s*$/.test(head)) {
        if (tx === undefined) throw new JobError(400, 'invalidQuery', 'There is no active transaction');
        tx = undefined;
      } else if (/^(CREATE|ALTER|DROP)\b/.test(head)) {
        await this.ddl(st, head);
        result = { fields: [], rows: [] };
      } else if (/^(INSERT|UPDATE|DELETE|MERGE)\b/.test(head)) {
        let n: bigint;
        if (tx !== undefined) n = await this.modify(st, params, tx);
        else
          for (let attempt = 1; ; attempt++) {
            // A DML statement outside a transaction that conflicts is queued and run again by BigQuery, not failed at once.
            const own = this.newTx();
            n = await this.modify(st, params, own);
            try {
              this.commit(own);
              break;
            } catch (e) {
              if (attempt >= 3) throw e;
            }
          }
        affected = (affected ?? 0n) + n;
        result = { fields: [], rows: [], numDmlAffectedRows: String(affected) };
      } else if (/^(SELECT|WITH|\()/.test(head)) {
        result = await this.select(st, params, tx ?? this.newTx());
      } else throw new JobError(400, 'invalidQuery', `fake: statement not supported: ${head.split('\n')[0]}`);
    }
    if (tx !== undefined) throw new JobError(400, 'invalidQuery', 'Transaction was never committed');
    return result;
  }

  private params(body: Json): Params {
    const qps =
      (body['queryParameters'] as { name: string; parameterType: RestParameterType; parameterValue?: RestParameterValue }[] | undefined) ??
      [];
    const types = qps.map((q) => ({ name: q.name, type: typeOfRestParameter(q.parameterType) }));
    const values = qps.map((q, i) => ({ name: q.name, value: parameterValue(q.parameterType, q.parameterValue, types[i]!.type) }));
    return { types, values };
  }

  /** CURRENT_TIMESTAMP() and CURRENT_DATE() as the fake's clock reads now. */
  private pinNow(sql: string): string {
    const iso = new Date(this.now()).toISOString();
    return sql
      .replace(/\bCURRENT_TIMESTAMP\(\s*\)/gi, `TIMESTAMP '${iso}'`)
      .replace(/\bCURRENT_DATE\(\s*\)/gi, `DATE '${iso.slice(0, 10)}'`);
  }

  private table(name: string): StoredTable {
    const t = this.data.get(name.toLowerCase());
    if (t === undefined) throw new JobError(404, 'notFound', `Not found: Table ${name}`);
    return t;
  }

  /** After the catalog learned a table's columns: keep its rows in step (new columns are NULL). */
  private register(name: string): void {
    const key = name.toLowerCase();
    const cat = this.catalog.tables.get(key)!;
    const t = this.data.get(key);
    if (t === undefined) {
      this.data.set(key, { name: cat.name, columns: [...cat.columns], rows: [], insertIds: new Set() });
      return;
    }
    const added = cat.columns.length - t.columns.length;
    t.columns = [...cat.columns];
    if (added > 0) t.rows = t.rows.map((r) => ({ ...r, cells: [...r.cells, ...Array.from({ length: added }, () => ({}))] }));
  }

  private async ddl(sql: string, head: string): Promise<void> {
    const m =
      /^(CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+)?(SCHEMA|TABLE|VIEW|MATERIALIZED\s+VIEW)\s+(IF\s+(?:NOT\s+)?EXISTS\s+)?`?([^`\s(]+)`?/.exec(
        head,
      );
    if (m === null) throw new JobError(400, 'invalidQuery', `fake: DDL not supported: ${head.split('\n')[0]}`);
    const [, verb, kind, ifClause] = m;
    const name = stripComments(sql).slice(head.indexOf(m[4]!), head.indexOf(m[4]!) + m[4]!.length);
    const key = name.toLowerCase();
    const dataset = key.split('.').slice(0, 2).join('.');
    if (kind === 'SCHEMA') {
      const a = await this.catalog.analyze(sql);
      if (!a.ok) throw new JobError(400, 'invalidQuery', a.error!);
      if (verb === 'CREATE') this.datasets.add(key);
      return;
    }
    if (verb === 'DROP') {
      if (!this.data.has(key) && !this.views.has(key) && ifClause === undefined)
        throw new JobError(404, 'notFound', `Not found: Table ${name}`);
      this.data.delete(key);
      this.views.delete(key);
      this.catalog.tables.delete(key);
      return;
    }
    if (verb === 'ALTER') {
      const t = this.table(name);
      const a = await this.catalog.analyze(sql);
      if (!a.ok) throw new JobError(400, 'invalidQuery', a.error!);
      for (const add of stripComments(sql).matchAll(/ADD\s+COLUMN\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s+([^,]+?)\s*(?=,|$)/gi)) {
        if (t.columns.some((c) => c.name.toLowerCase() === add[2]!.toLowerCase())) {
          if (add[1] === undefined) throw new JobError(400, 'invalidQuery', `Column already exists: ${add[2]!}`);
          continue;
        }
        const probe = await this.catalog.analyze(`SELECT CAST(NULL AS ${add[3]!}) AS c`);
        const type = ((probe.resolved as Json | undefined) === undefined ? undefined : findType(probe.resolved)) ?? undefined;
        if (type === undefined) throw new JobError(400, 'invalidQuery', `fake: cannot resolve type ${add[3]!}`);
        this.catalog.add({ name: t.name, columns: [...this.catalog.tables.get(key)!.columns, { name: add[2]!, type }] });
      }
      this.register(name);
      return;
    }
    if (!this.datasets.has(dataset)) throw new JobError(404, 'notFound', `Not found: Dataset ${dataset.replace('.', ':')}`);
    const exists = this.data.has(key) || this.views.has(key);
    if (exists && /IF\s+NOT\s+EXISTS/.test(ifClause ?? '')) return;
    if (exists && !/^CREATE\s+OR\s+REPLACE/.test(head)) throw new JobError(409, 'duplicate', `Already Exists: Table ${name}`);
    // A view's columns come from analyzing its query against the catalog (which holds the other views as tables).
    const a = await this.catalog.create(this.pinNow(sql));
    if (!a.ok) throw new JobError(400, 'invalidQuery', `${a.error!}\n${head.split('\n')[0]}`);
    if (kind === 'TABLE') this.register(name);
    else {
      const body = /\bAS\b([\s\S]*)$/i.exec(stripComments(sql).slice(head.indexOf(m[4]!) + m[4]!.length));
      this.views.set(key, body![1]!);
      this.data.delete(key);
    }
  }

  /**
   * The catalog and `table_content` for a statement: every table it names, and every
   * view it names evaluated now (recursively), as a table of its rows.
   */
  private async inputs(
    sql: string,
    tx: Tx,
    rowIdFor?: string,
  ): Promise<{ tables: Map<string, CatalogTable>; catalog: unknown; content: Record<string, unknown> }> {
    const now = this.now();
    const tables = new Map<string, CatalogTable>();
    const content: Record<string, unknown> = {};
    const visit = async (names: Set<string>): Promise<void> => {
      for (const key of names) {
        if (tables.has(key)) continue;
        const cat = this.catalog.tables.get(key);
        if (cat === undefined) continue;
        const view = this.views.get(key);
        if (view !== undefined) {
          await visit(quoted(view));
          const r = await this.evaluateSql(this.pinNow(view), [], tables, content);
          tables.set(key, cat);
          content[cat.name] = { table_data: { row: r.rows.map((cells) => ({ cell: cells })) } };
          continue;
        }
        const rows = this.rowsIn(tx, key);
        const withId = key === rowIdFor;
        tables.set(key, withId ? { ...cat, columns: [...cat.columns, { name: ROW_ID, type: INT64 }] } : cat);
        content[cat.name] = {
          table_data: {
            row: rows
              .filter((r) => r.visibleAt <= now)
              .map((r) => ({ cell: withId ? [...r.cells, { int64_value: String(r.id) }] : r.cells })),
          },
        };
      }
    };
    await visit(quoted(sql));
    return {
      tables,
      catalog: catalogProto([...tables.values()], (t) =>
        t.columns.some((c) => c.name === ROW_ID) ? { primary_key_column_index: [t.columns.length - 1] } : {},
      ),
      content,
    };
  }

  private async evaluateSql(
    sql: string,
    params: Params['values'] | [],
    tables: Map<string, CatalogTable>,
    content: Record<string, unknown>,
    types: Params['types'] = [],
  ): Promise<{ columns: { name: string; type: TypeProto }[]; rows: ValueProto[][] }> {
    try {
      const r = await this.zetasql.call<{
        content?: { table_data?: { row?: { cell?: ValueProto[] }[] } };
        prepared?: { columns?: { name: string; type: TypeProto }[] };
      }>('EvaluateQuery', {
        sql,
        options: analyzerOptions(types),
        simple_catalog: catalogProto([...tables.values()]),
        table_content: content,
        params,
      });
      const columns = r.prepared?.columns ?? [];
      return { columns, rows: (r.content?.table_data?.row ?? []).map((row) => row.cell ?? []) };
    } catch (e) {
      return asJobError(e, sql);
    }
  }

  private async select(sql: string, params: Params, tx: Tx): Promise<JobResult> {
    const pinned = this.pinNow(sql);
    const { tables, content } = await this.inputs(pinned, tx);
    const r = await this.evaluateSql(pinned, params.values, tables, content, params.types);
    return {
      fields: r.columns.map((c) => toField(c.name, c.type)),
      rows: r.rows.map((cells) => ({ f: r.columns.map((c, i) => ({ v: toCell(c.type, cells[i] ?? {}) })) })),
    };
  }

  private async modify(sql: string, params: Params, tx: Tx): Promise<bigint> {
    const pinned = this.pinNow(sql);
    const target = /^(?:INSERT(?:\s+INTO)?|UPDATE|DELETE(?:\s+FROM)?|MERGE(?:\s+INTO)?)\s+`?([^`\s(]+)`?/i.exec(stripComments(pinned))?.[1];
    if (target === undefined) throw new JobError(400, 'invalidQuery', 'fake: DML without a target table');
    const t = this.table(target);
    if (this.views.has(target.toLowerCase())) throw new JobError(400, 'invalidQuery', `${target} is a view; DML needs a table`);
    // UPDATE and DELETE report the rows they touched by primary key: a hidden row id column is that key. (INSERT
    // needs none, and a pseudo-column key crashes the server's INSERT.)
    const keyed = /^(UPDATE|DELETE|MERGE)\b/i.test(stripComments(pinned));
    const key = target.toLowerCase();
    const { catalog, content } = await this.inputs(pinned, tx, keyed ? key : undefined);
    let r: { content?: { operation?: string; cell?: ValueProto[]; old_primary_key?: ValueProto[] }[] };
    try {
      r = await this.zetasql.call('EvaluateModify', {
        sql: pinned,
        options: analyzerOptions(params.types),
        simple_catalog: catalog,
        table_content: content,
        params: params.values,
      });
    } catch (e) {
      return asJobError(e, sql);
    }
    const width = t.columns.length;
    const rows = this.rowsIn(tx, key);
    const byId = new Map(rows.map((row, i) => [row.id, i]));
    const drop = new Set<number>();
    const added: StoredRow[] = [];
    for (const row of r.content ?? []) {
      const cells = (row.cell ?? []).slice(0, width);
      const old = row.old_primary_key?.[0]?.['int64_value'];
      if (row.operation === 'INSERT') added.push({ id: this.nextRowId++, cells, visibleAt: -Infinity });
      else if (old !== undefined && byId.has(Number(old))) {
        const i = byId.get(Number(old))!;
        if (row.operation === 'DELETE') drop.add(i);
        else rows[i] = { ...rows[i]!, cells };
      }
    }
    tx.view.set(key, [...rows.filter((_, i) => !drop.has(i)), ...added]);
    tx.inserted.set(key, [...(tx.inserted.get(key) ?? []), ...added]);
    if (keyed) tx.mutated.add(key);
    return BigInt((r.content ?? []).length);
  }
}

/** The type of the first output column of a resolved query. */
const findType = (node: unknown): TypeProto | undefined => {
  if (typeof node !== 'object' || node === null) return undefined;
  const o = node as Record<string, unknown>;
  if (Array.isArray(o['output_column_list'])) {
    const first = (o['output_column_list'] as { column?: { type?: TypeProto } }[])[0];
    return first?.column?.type;
  }
  for (const v of Object.values(o)) {
    const hit = findType(v);
    if (hit !== undefined) return hit;
  }
  return undefined;
};
