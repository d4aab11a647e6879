import { createHash, randomUUID } from 'node:crypto';
import { insertRows, p, runQuery, type Connection } from './client.js';
import { readInt, readMillis, readString, tsOut } from './decode.js';
import { BigQueryAdapterError } from './errors.js';
import { quoteTable, tableName, type TableRef } from './identifiers.js';
import { columnList, type TableDef } from './schema.js';

/**
 * Optimistic concurrency on an append-only table. BigQuery has no row-level
 * compare-and-set, and rows streamed with insertAll cannot be UPDATEd for up to
 * ~90 minutes, so every change is a new row carrying the full state and a
 * `version` (previous + 1). A write is: read the latest row, decide, append, read
 * back. Two writers racing on one version both land and the view's fixed order
 * picks one; reading back tells each writer whether it won, and a loser decides
 * again from the winner's state. The read-back sees the other writer's row when
 * rows are written by DML (`EventTable.write`); streamed rows may show up seconds
 * late, so a process's own writes count for itself meanwhile (`OwnWrites`).
 * Request creation does not go through here: it is one atomic transaction.
 */
export interface Stamped<S> {
  readonly state: S;
  readonly version: number;
  readonly eventTime: number;
  readonly eventId: string;
  readonly writerId: string;
}

/** What `mutate` stamps on each row it appends. */
export interface EventMeta {
  readonly version: number;
  readonly event: string;
  readonly eventTime: number;
  readonly eventId: string;
  readonly writerId: string;
}

/** The stamp columns every event table has, for insertAll. */
export const metaColumns = (meta: EventMeta): Record<string, unknown> => ({
  version: meta.version,
  event: meta.event,
  event_time: tsOut(meta.eventTime),
  event_id: meta.eventId,
  writer_id: meta.writerId,
});

/** A decoded state with the stamp columns of its row. */
export const stampedOf = <S>(state: S, r: Record<string, unknown>): Stamped<S> => ({
  state,
  version: readInt('version', r['version']),
  eventTime: readMillis('event_time', r['event_time']),
  eventId: readString('event_id', r['event_id']),
  writerId: readString('writer_id', r['writer_id']),
});

/** BigQuery orders STRING by UTF-8 bytes; so do we, to pick the same winner as the views. */
const bytesCmp = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** `LATEST_ORDER` in JS: negative when `a` is later (wins). */
export const latestFirst = <S>(a: Stamped<S>, b: Stamped<S>): number =>
  b.version - a.version || b.eventTime - a.eventTime || bytesCmp(b.eventId, a.eventId) || bytesCmp(b.writerId, a.writerId);

export type Decision<S, R> =
  | {
      readonly _tag: 'Write';
      readonly next: S;
      readonly event: string;
      readonly at: number;
      /** `version`: the row's, for a record handed back with its `revision`. */
      readonly result: (written: S, version: number) => R;
      /** Skip the read-back for this write (it is harmless to lose, e.g. MarkPublished). */
      readonly unverified?: boolean;
      /** Also hand the streamed row to `EventTable.echoes`: the next create script writes it again, by DML. */
      readonly echo?: boolean;
    }
  | { readonly _tag: 'Done'; readonly value: R };

export interface EventTable<S, K> {
  readonly table: TableRef;
  /**
   * Writes a row another way than insertAll (DML, which the next query sees).
   * Absent, or for an `echo` write: insertAll, with the row's deterministic insertId.
   */
  readonly write?: ((row: Record<string, unknown>, purpose: string) => Promise<void>) | undefined;
  /** Where `echo` writes go (this table's entry in the store's `Echoes`, shared with its tracker). */
  readonly echoes?: EchoSink | undefined;
  /** This process's own writes, merged into what `mutate` reads until queries show them (see `OwnWrites`). */
  readonly own?: OwnWrites<S, K> | undefined;
  /** What the row is for in messages: `request r1`. */
  describe(key: K): string;
  readLatest(key: K): Promise<Stamped<S> | undefined>;
  /** Every row of the key with `version >= version` (not just the latest): the read-back. */
  readSince(key: K, version: number): Promise<readonly Stamped<S>[]>;
  /** The deterministic insertId for this transition. */
  eventId(key: K, next: S, version: number, event: string): string;
  toRow(next: S, meta: EventMeta): Record<string, unknown>;
}

export interface MutateOptions<S = unknown> {
  /** Read back after writing (default true). Off: one query and one insert per change, no race detection. */
  readonly verify: boolean;
  readonly maxTries: number;
  /**
   * The latest row as the caller read it moments ago (a check's read, an earlier change's
   * result), handed in explicitly; used instead of reading it. `row` undefined: known absent.
   */
  readonly known?: { readonly row: Stamped<S> | undefined } | undefined;
}

/** A record handed back with the `revision` a read gave it, as the row `mutate` builds on. */
export const knownRow = <S extends { readonly revision?: number | undefined }>(
  current: S | null | undefined,
): { readonly row: Stamped<S> | undefined } | undefined => {
  if (current === undefined) return undefined;
  if (current === null) return { row: undefined };
  if (current.revision === undefined) return undefined;
  return { row: { state: current, version: current.revision, eventTime: 0, eventId: '', writerId: '' } };
};

/**
 * The rows this process wrote, authoritative for itself until queries show them.
 * Rows streamed with insertAll reach queries "within a few seconds", not at once: a
 * worker that wrote Claim would otherwise read its request still queued and have its
 * Complete refused as stale, and an alert log would open (and send) an alert twice.
 * `merge` returns the later of the row a query returned and the row written here
 * (by `LATEST_ORDER`, as the views pick), and forgets ours once the query has caught up.
 */
export interface OwnWrites<S, K> {
  put(key: K, row: Stamped<S>): void;
  get(key: K): Stamped<S> | undefined;
  /** Rows held: a limited list asks for this many more, since `overlay` may drop some. */
  readonly size: number;
  merge(key: K, visible: Stamped<S> | undefined): Stamped<S> | undefined;
  /**
   * A list a query returned, with this process's later writes in it: each row replaced by
   * ours when ours is later, and ours added where `keep` takes them (the list's filter, in JS).
   */
  overlay(visible: readonly Stamped<S>[], keyOf: (s: S) => K, keep: (s: S) => boolean, addMissing?: boolean): S[];
  /** `overlay` with each row's stamp kept (a check hands records on with their `revision`). */
  overlayStamped(visible: readonly Stamped<S>[], keyOf: (s: S) => K, keep: (s: S) => boolean, addMissing?: boolean): Stamped<S>[];
}

/** At most `max` keys: the oldest writes are forgotten first (by then BigQuery shows them). */
export const ownWrites = <S, K>(max = 10_000): OwnWrites<S, K> => {
  const rows = new Map<string, Stamped<S>>();
  return {
    put(key, row) {
      const k = JSON.stringify(key);
      const cur = rows.get(k);
      if (cur !== undefined && latestFirst(cur, row) < 0) return;
      rows.delete(k);
      rows.set(k, row);
      if (rows.size > max) rows.delete(rows.keys().next().value!);
    },
    get: (key) => rows.get(JSON.stringify(key)),
    get size() {
      return rows.size;
    },
    merge(key, visible) {
      const k = JSON.stringify(key);
      const mine = rows.get(k);
      if (mine === undefined) return visible;
      if (visible !== undefined && latestFirst(visible, mine) <= 0) {
        rows.delete(k);
        return visible;
      }
      return mine;
    },
    overlay(visible, keyOf, keep, addMissing = true) {
      return this.overlayStamped(visible, keyOf, keep, addMissing).map((r) => r.state);
    },
    overlayStamped(visible, keyOf, keep, addMissing = true) {
      if (rows.size === 0) return [...visible];
      const out = new Map<string, Stamped<S>>();
      for (const r of visible) {
        const key = keyOf(r.state);
        const merged = this.merge(key, r)!;
        if (merged === r || keep(merged.state)) out.set(JSON.stringify(key), merged);
      }
      if (addMissing) for (const [k, mine] of rows) if (!out.has(k) && keep(mine.state)) out.set(k, mine);
      return [...out.values()];
    },
  };
};

export const mutate = async <S, K, R>(
  conn: Connection,
  t: EventTable<S, K>,
  key: K,
  /** `lost`: a concurrent writer's row beat ours; `current` is the winner. */
  decide: (current: Stamped<S> | undefined, lost: boolean) => Decision<S, R>,
  opts: MutateOptions<S>,
): Promise<R> => {
  const read = opts.known !== undefined ? opts.known.row : await t.readLatest(key);
  let current = t.own === undefined ? read : t.own.merge(key, read);
  let lost = false;
  for (let tryNo = 1; tryNo <= opts.maxTries; tryNo++) {
    const d = decide(current, lost);
    if (d._tag === 'Done') return d.value;
    const version = (current?.version ?? -1) + 1;
    const eventId = t.eventId(key, d.next, version, d.event);
    const writerId = randomUUID();
    const json = t.toRow(d.next, { version, event: d.event, eventTime: d.at, eventId, writerId });
    const purpose = `appending ${d.event} for ${t.describe(key)} to \`${tableName(t.table)}\``;
    // An echoed write is streamed (its DML copy rides in the next create script).
    if (t.write !== undefined && d.echo !== true) await t.write(json, purpose);
    else await insertRows(conn, t.table, [{ insertId: eventId, json }], purpose);
    if (d.echo === true) t.echoes?.add(json);
    const written: Stamped<S> = { state: d.next, version, eventTime: d.at, eventId, writerId };
    t.own?.put(key, written);
    if (!opts.verify || d.unverified === true) return d.result(d.next, version);
    const since = [...(await t.readSince(key, version))].sort(latestFirst);
    const winner = since.filter((r) => r.version === version)[0];
    // Not visible yet: nothing contradicts the write; take it as written (best effort).
    if (winner === undefined) return d.result(d.next, version);
    // Ours won its version; later rows (someone building on it) do not undo that.
    if (winner.eventId === eventId && winner.writerId === writerId) return d.result(d.next, version);
    current = since[0];
    if (current !== undefined) t.own?.put(key, current);
    lost = true;
  }
  throw new BigQueryAdapterError(
    'contention',
    `writing ${t.describe(key)} to \`${tableName(t.table)}\` lost to concurrent writers ${opts.maxTries} times; try again`,
    {
      table: tableName(t.table),
    },
  );
};

/** Each column of a row, typed, out of its JSON text `j` (one element of an `ARRAY<STRING>` parameter). */
export const jsonColumns = (def: TableDef): string =>
  def.columns
    .map((col) => {
      const v = `JSON_VALUE(j, '$.${col.name}')`;
      if (col.mode === 'REPEATED') return `ARRAY(SELECT CAST(x AS ${col.type}) FROM UNNEST(JSON_VALUE_ARRAY(j, '$.${col.name}')) AS x)`;
      switch (col.type) {
        case 'STRING':
          return v;
        case 'JSON':
          return `PARSE_JSON(${v})`;
        case 'BOOL':
        case 'DATE':
        case 'INT64':
        case 'TIMESTAMP':
          return `CAST(${v} AS ${col.type})`;
      }
    })
    .join(',\n  ');

/** `INSERT INTO t (…) SELECT <typed columns> FROM UNNEST(@param) AS j`: rows handed in as JSON text (`ARRAY<STRING>`), written by DML. */
export const insertFromJson = (table: TableRef, def: TableDef, param: string): string =>
  `INSERT INTO ${quoteTable(table)} (${columnList(def)})\nSELECT\n  ${jsonColumns(def)}\nFROM UNNEST(@${param}) AS j`;

/** An `EventTable.write` by DML (visible to the next query, unlike insertAll), its job marked `-- smart-backfill:<op>`. */
export const dmlWrite =
  (conn: Connection, table: TableRef, def: TableDef, op: string, maximumBytesBilled: string | undefined) =>
  async (row: Record<string, unknown>, purpose: string): Promise<void> => {
    await runQuery(conn, {
      sql: `-- smart-backfill:${op}\n${insertFromJson(table, def, 'rows')}`,
      params: { rows: p.strings([JSON.stringify(row)]) },
      purpose,
      table,
      maximumBytesBilled,
    });
  };

/**
 * Rows just streamed (a held run's hold) that another process must see before BigQuery's
 * "few seconds" are up: the store's next request-create script, which in a guard check
 * follows the hold at once, inserts them again by DML in its transaction, at no extra
 * job. The copy is the same row (same version, event_id and writer_id), so reads, which
 * keep one latest row per key, see one.
 */
export interface Echoes {
  /** Where rows of `table` (laid out as `def`) are handed in. */
  to(table: TableRef, def: TableDef): EchoSink;
  /** The statements and parameters to append to a script, and forgets the rows. */
  take(): { readonly sql: string[]; readonly params: Record<string, readonly string[]> };
}

export interface EchoSink {
  add(row: Record<string, unknown>): void;
}

export const echoes = (maxAgeMs = 30_000): Echoes => {
  let pending: { readonly table: TableRef; readonly def: TableDef; readonly json: string; readonly at: number }[] = [];
  return {
    to: (table, def) => ({
      add(row) {
        pending.push({ table, def, json: JSON.stringify(row), at: performance.now() });
      },
    }),
    take() {
      const now = performance.now();
      const fresh = pending.filter((e) => now - e.at <= maxAgeMs);
      pending = [];
      const byTable = new Map<string, { table: TableRef; def: TableDef; rows: string[] }>();
      for (const e of fresh) {
        const k = tableName(e.table);
        const g = byTable.get(k) ?? { table: e.table, def: e.def, rows: [] };
        g.rows.push(e.json);
        byTable.set(k, g);
      }
      const sql: string[] = [];
      const params: Record<string, readonly string[]> = {};
      [...byTable.values()].forEach((g, i) => {
        sql.push(`${insertFromJson(g.table, g.def, `echo_${i}`)};`);
        params[`echo_${i}`] = g.rows;
      });
      return { sql, params };
    },
  };
};

/**
 * insertIds are best kept short (BigQuery documents 128 characters); longer ids
 * (long request ids or alert keys) are replaced by their SHA-256, still deterministic.
 */
export const insertIdOf = (raw: string): string => (raw.length <= 128 ? raw : `sha256:${createHash('sha256').update(raw).digest('hex')}`);

/**
 * Serialises work per key within one adapter instance. Racing writers in one
 * process then never race in BigQuery at all; only writers in different processes
 * rely on the read-back above.
 */
export const keyedLock = (): (<T>(key: string, fn: () => Promise<T>) => Promise<T>) => {
  const tails = new Map<string, Promise<void>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = prev.then(() => mine);
    tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
};
