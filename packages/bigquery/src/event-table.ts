import { createHash, randomUUID } from 'node:crypto';
import { insertRows, type Connection } from './client.js';
import { readInt, readMillis, readString, tsOut } from './decode.js';
import { BigQueryAdapterError } from './errors.js';
import { tableName, type TableRef } from './identifiers.js';

/**
 * Optimistic concurrency on an append-only table. BigQuery has no row-level
 * compare-and-set, and rows streamed with insertAll cannot be UPDATEd for up to
 * ~90 minutes, so every change is a new row carrying the full state and a
 * `version` (previous + 1). A write is: read the latest row, decide, append, read
 * back. Two writers racing on one version either collapse into one row (same
 * deterministic insertId: BigQuery keeps the first) or both land and the view's
 * fixed order picks one; reading back tells each writer whether it won, and a
 * loser decides again from the winner's state. Best effort: it relies on streamed
 * rows being visible to queries at once, which BigQuery does not promise.
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
    }
  | { readonly _tag: 'Done'; readonly value: R };

export interface EventTable<S, K> {
  readonly table: TableRef;
  /** What the row is for in messages: `request r1`. */
  describe(key: K): string;
  readLatest(key: K): Promise<Stamped<S> | undefined>;
  /** Every row of the key with `version >= version` (not just the latest): the read-back. */
  readSince(key: K, version: number): Promise<readonly Stamped<S>[]>;
  /** The deterministic insertId for this transition. */
  eventId(key: K, next: S, version: number, event: string): string;
  toRow(next: S, meta: EventMeta): Record<string, unknown>;
}

export interface MutateOptions<S = unknown, K = unknown> {
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

export const mutate = async <S, K, R>(
  conn: Connection,
  t: EventTable<S, K>,
  key: K,
  /** `lost`: a concurrent writer's row beat ours; `current` is the winner. */
  decide: (current: Stamped<S> | undefined, lost: boolean) => Decision<S, R>,
  opts: MutateOptions<S, K>,
): Promise<R> => {
  let current = opts.known !== undefined ? opts.known.row : await t.readLatest(key);
  let lost = false;
  for (let tryNo = 1; tryNo <= opts.maxTries; tryNo++) {
    const d = decide(current, lost);
    if (d._tag === 'Done') return d.value;
    const version = (current?.version ?? -1) + 1;
    const eventId = t.eventId(key, d.next, version, d.event);
    const writerId = randomUUID();
    await insertRows(
      conn,
      t.table,
      [{ insertId: eventId, json: t.toRow(d.next, { version, event: d.event, eventTime: d.at, eventId, writerId }) }],
      `appending ${d.event} for ${t.describe(key)} to \`${tableName(t.table)}\``,
    );
    if (!opts.verify || d.unverified === true) return d.result(d.next, version);
    const since = [...(await t.readSince(key, version))].sort(latestFirst);
    const winner = since.filter((r) => r.version === version)[0];
    // Not visible yet: nothing contradicts the write; take it as written (best effort).
    if (winner === undefined) return d.result(d.next, version);
    // Ours won its version; later rows (someone building on it) do not undo that.
    if (winner.eventId === eventId && winner.writerId === writerId) return d.result(d.next, version);
    current = since[0];
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
