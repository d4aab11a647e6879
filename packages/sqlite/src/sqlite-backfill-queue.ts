import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import type { BackfillQueue, Clock, Delivery, PublishOutcome, QueueMessage, ReceiveOptions } from '@smart-backfill/core';
import { statementCache } from './statement-cache.js';
import { withBusyRetry, type BusyRetryOptions } from './busy.js';
import { SqliteInputError, SqliteStoreError } from './errors.js';
import { checkInstant, checkLimit, checkNonEmpty, checkString, fromJson, toJson } from './values.js';

export interface SqliteBackfillQueueOptions {
  /** Time for visibility and leases. */
  readonly clock: Clock;
  /** How often `receive` with `waitMs > 0` looks again for messages (real time). Default 25 ms. */
  readonly pollIntervalMs?: number;
  readonly busy?: BusyRetryOptions;
}

/** `ready`: waiting (maybe delayed); `leased`: delivered, not yet acked; `acked`: done; `dead`: parked for a person. */
export type QueueMessageState = 'ready' | 'leased' | 'acked' | 'dead';
const STATES: readonly string[] = ['ready', 'leased', 'acked', 'dead'];

/** A queue row as stored, for status pages and the CLI. */
export interface StoredQueueMessage {
  /** Transport message id (publish order). */
  readonly messageId: string;
  readonly message: QueueMessage;
  readonly state: QueueMessageState;
  readonly deliveryAttempt: number;
  readonly visibleAt: number;
  readonly leaseExpiresAt: number | null;
  readonly publishedAt: number;
  readonly updatedAt: number;
  readonly deadReason: string | null;
}

export interface QueueDepth {
  readonly ready: number;
  readonly leased: number;
  readonly acked: number;
  readonly dead: number;
}

/**
 * The durable queue, plus what a person needs to look after it: depth, the
 * dead-letter list, redrive, and pruning acked rows.
 */
export interface SqliteBackfillQueue extends BackfillQueue {
  depth(): Promise<QueueDepth>;
  /** Newest first. */
  messages(query: {
    readonly state?: QueueMessageState | undefined;
    readonly limit?: number | undefined;
  }): Promise<readonly StoredQueueMessage[]>;
  /** Move a dead (or acked) message back to `ready`, delivery count reset. `false` if there was none or an active copy already exists. */
  redrive(messageId: string): Promise<boolean>;
  /** Delete acked messages last updated before `olderThan`; returns how many. */
  pruneAcked(olderThan: number): Promise<number>;
  close(): Promise<void>;
}

interface Row {
  seq: number;
  message_key: string;
  data: string;
  attributes: string;
  ordering_key: string | null;
  state: QueueMessageState;
  delivery_attempt: number;
  delivery_id: string | null;
  visible_at: number;
  lease_expires_at: number | null;
  published_at: number;
  updated_at: number;
  dead_reason: string | null;
}

const toMessage = (r: Row): QueueMessage => {
  const attributes = fromJson<Record<string, string>>(r.attributes, `backfill_queue.attributes of message ${r.seq}`);
  return r.ordering_key === null
    ? { id: r.message_key, data: r.data, attributes }
    : { id: r.message_key, data: r.data, attributes, orderingKey: r.ordering_key };
};

/** The full error message (`[smart-backfill] [sqlite] messages[i]...`) of an unusable message, else undefined. */
const checkMessage = (m: QueueMessage, i: number): string | undefined => {
  if (typeof m !== 'object' || m === null) return new SqliteInputError(`messages[${i}]`, 'expected a QueueMessage').message;
  if (typeof m.attributes !== 'object' || m.attributes === null || Array.isArray(m.attributes))
    return new SqliteInputError(`messages[${i}].attributes`, 'expected an object of strings').message;
  try {
    checkNonEmpty(m.id, `messages[${i}].id`);
    checkString(m.data, `messages[${i}].data`);
    for (const [k, v] of Object.entries(m.attributes)) checkString(v, `messages[${i}].attributes.${k}`);
    if (m.orderingKey !== undefined) checkString(m.orderingKey, `messages[${i}].orderingKey`);
  } catch (e) {
    if (e instanceof SqliteInputError) return e.message;
    throw e;
  }
  return undefined;
};

const wellFormedText = (s: string): string =>
  s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

const checkDuration = (value: unknown, field: string): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new SqliteInputError(field, `expected milliseconds >= 0, got ${String(value)}`);
  return Math.round(value);
};

/**
 * An at-least-once queue in the `backfill_queue` table. A receive leases rows in
 * one `BEGIN IMMEDIATE` transaction, so no two consumers — threads or processes —
 * get the same lease. A lapsed lease makes the row deliverable again with a
 * higher `deliveryAttempt`; ack, nack and extendLease carry the lease's
 * `delivery_id`, so a consumer whose lease lapsed cannot ack another's delivery.
 */
export const sqliteBackfillQueue = (db: Database.Database, options: SqliteBackfillQueueOptions): SqliteBackfillQueue => {
  const { clock } = options;
  const busy = options.busy ?? {};
  const prepared = statementCache(db);
  const pollMs = options.pollIntervalMs ?? 25;
  let closed = false;

  const insert = db.prepare(
    `INSERT INTO backfill_queue (message_key, data, attributes, ordering_key, state, delivery_attempt, visible_at, published_at, updated_at)
     VALUES (?, ?, ?, ?, 'ready', 0, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const pending = db.prepare(`SELECT seq, state FROM backfill_queue WHERE message_key = ? AND state IN ('ready','leased')`);
  // A publish for a leased message takes it back from its holder: see `publishTx`.
  const renew = db.prepare(
    `UPDATE backfill_queue SET data = ?, attributes = ?, ordering_key = ?, state = 'ready', delivery_id = NULL, lease_expires_at = NULL, visible_at = ?, updated_at = ?
     WHERE seq = ? AND state = 'leased'`,
  );
  // Ready rows that are due, then leases that lapsed; publish order within each.
  const due = db.prepare(
    `SELECT seq, message_key, data, attributes, ordering_key, delivery_attempt FROM (
       SELECT * FROM (SELECT * FROM backfill_queue WHERE state = 'ready' AND visible_at <= @now ORDER BY visible_at, seq LIMIT @max)
       UNION ALL
       SELECT * FROM (SELECT * FROM backfill_queue WHERE state = 'leased' AND lease_expires_at <= @now ORDER BY lease_expires_at, seq LIMIT @max)
     ) ORDER BY seq LIMIT @max`,
  );
  const lease = db.prepare(
    `UPDATE backfill_queue SET state = 'leased', delivery_attempt = delivery_attempt + 1, delivery_id = ?, lease_expires_at = ?, updated_at = ? WHERE seq = ?`,
  );
  const ack = db.prepare(
    `UPDATE backfill_queue SET state = 'acked', delivery_id = NULL, lease_expires_at = NULL, updated_at = ? WHERE seq = ? AND delivery_id = ? AND state = 'leased'`,
  );
  const nack = db.prepare(
    `UPDATE backfill_queue SET state = 'ready', delivery_id = NULL, lease_expires_at = NULL, visible_at = ?, updated_at = ? WHERE seq = ? AND delivery_id = ? AND state = 'leased'`,
  );
  const extend = db.prepare(
    `UPDATE backfill_queue SET lease_expires_at = ?, updated_at = ? WHERE seq = ? AND delivery_id = ? AND state = 'leased'`,
  );
  const dead = db.prepare(
    `UPDATE backfill_queue SET state = 'dead', dead_reason = ?, delivery_id = NULL, lease_expires_at = NULL, updated_at = ? WHERE seq = ? AND delivery_id = ? AND state = 'leased'`,
  );
  const depth = db.prepare(`SELECT state, COUNT(*) AS n FROM backfill_queue GROUP BY state`);
  const redrive = db.prepare(
    `UPDATE backfill_queue SET state = 'ready', delivery_attempt = 0, delivery_id = NULL, lease_expires_at = NULL, dead_reason = NULL, visible_at = ?, updated_at = ?
     WHERE seq = ? AND state IN ('dead','acked') AND NOT EXISTS (SELECT 1 FROM backfill_queue q WHERE q.message_key = backfill_queue.message_key AND q.state IN ('ready','leased'))`,
  );
  const prune = db.prepare(`DELETE FROM backfill_queue WHERE state = 'acked' AND updated_at < ?`);

  const publishTx = db.transaction((messages: readonly QueueMessage[], now: number): PublishOutcome[] =>
    messages.map((m) => {
      const info = insert.run(m.id, m.data, toJson(m.attributes, 'attributes'), m.orderingKey ?? null, now, now, now);
      if (info.changes === 1) return { _tag: 'Published', id: m.id, messageId: String(info.lastInsertRowid) };
      // Already waiting: publishing again (an outbox replay) must not duplicate it.
      const row = pending.get(m.id) as { seq: number; state: QueueMessageState } | undefined;
      if (row === undefined) throw new SqliteStoreError(`message ${JSON.stringify(m.id)} was neither inserted nor found pending`);
      // Already leased: the publisher (the sweeper after a lapsed claim) wants it delivered
      // again, and the holder may be a stalled worker whose late ack would otherwise delete
      // the only message of a requeued request. The row becomes deliverable under no lease;
      // the old holder's ack, nack and extendLease carry a delivery id that no longer matches.
      if (row.state === 'leased') renew.run(m.data, toJson(m.attributes, 'attributes'), m.orderingKey ?? null, now, now, row.seq);
      return { _tag: 'Published', id: m.id, messageId: String(row.seq) };
    }),
  );

  type Leased = { seq: number; message: QueueMessage; attempt: number; deliveryId: string };
  const receiveTx = db.transaction((max: number, leaseMs: number, now: number): Leased[] => {
    const rows = due.all({ now, max }) as Array<
      Pick<Row, 'seq' | 'message_key' | 'data' | 'attributes' | 'ordering_key' | 'delivery_attempt'>
    >;
    return rows.map((r) => {
      const deliveryId = randomUUID();
      lease.run(deliveryId, now + leaseMs, now, r.seq);
      return { seq: r.seq, message: toMessage(r as Row), attempt: r.delivery_attempt + 1, deliveryId };
    });
  });

  const toDelivery = (l: Leased): Delivery => {
    const write = (what: string, fn: () => void): Promise<void> => withBusyRetry(`queue.${what}`, fn, busy);
    return {
      deliveryId: `${l.seq}:${l.deliveryId}`,
      message: l.message,
      deliveryAttempt: l.attempt,
      // A stale lease (it lapsed and someone else holds the message now) changes nothing:
      // the new holder decides, and consumers dedupe on the request id anyway.
      ack: () => write('ack', () => void ack.run(clock.now(), l.seq, l.deliveryId)),
      nack: (delayMs = 0) => {
        const d = checkDuration(delayMs, 'delayMs');
        return write('nack', () => {
          const now = clock.now();
          nack.run(now + d, now, l.seq, l.deliveryId);
        });
      },
      extendLease: (ms) => {
        const d = checkDuration(ms, 'ms');
        return write('extendLease', () => {
          const now = clock.now();
          const info = extend.run(now + d, now, l.seq, l.deliveryId);
          if (info.changes !== 1)
            throw new SqliteStoreError(
              `cannot extend the lease of message ${l.seq} (${l.message.id}): it lapsed, or the message was acked, nacked or redelivered`,
              { code: 'contention' },
            );
        });
      },
      // The reason is diagnostic text: an unpaired surrogate in it (V8's JSON errors quote
      // single UTF-16 units) is replaced, never a cause to keep a poison message deliverable.
      deadLetter: (reason) => write('deadLetter', () => void dead.run(wellFormedText(String(reason)), clock.now(), l.seq, l.deliveryId)),
    };
  };

  const notClosed = (): void => {
    if (closed) throw new SqliteStoreError('the queue is closed');
  };

  return {
    publish: async (messages) => {
      notClosed();
      if (!Array.isArray(messages)) throw new SqliteInputError('messages', 'expected an array');
      const outcomes: PublishOutcome[] = [];
      const good: QueueMessage[] = [];
      const problems = new Map<number, string>();
      messages.forEach((m, i) => {
        const p = checkMessage(m, i);
        if (p === undefined) good.push(m);
        else problems.set(i, p);
      });
      const published = good.length === 0 ? [] : await withBusyRetry('queue.publish', () => publishTx.immediate(good, clock.now()), busy);
      let j = 0;
      messages.forEach((m, i) => {
        const p = problems.get(i);
        if (p !== undefined) outcomes.push({ _tag: 'PublishFailed', id: typeof m?.id === 'string' ? m.id : '', error: p });
        else outcomes.push(published[j++]!);
      });
      return outcomes;
    },

    receive: async (opts: ReceiveOptions) => {
      notClosed();
      const max = checkLimit(opts.max, 'max', 1);
      const leaseMs = checkDuration(opts.leaseMs, 'leaseMs');
      const waitMs = checkDuration(opts.waitMs ?? 0, 'waitMs');
      if (max === 0) return [];
      const deadline = performance.now() + waitMs;
      for (;;) {
        opts.signal?.throwIfAborted();
        if (closed) return []; // closed while this receive was waiting
        const leased = await withBusyRetry('queue.receive', () => receiveTx.immediate(max, leaseMs, clock.now()), busy);
        if (leased.length > 0) return leased.map(toDelivery);
        const left = deadline - performance.now();
        if (left <= 0) return [];
        // Other processes publish into the same file, so there is nothing to wait on but time.
        try {
          await delay(Math.min(pollMs, left), undefined, opts.signal === undefined ? undefined : { signal: opts.signal });
        } catch (e) {
          if (opts.signal?.aborted === true) throw opts.signal.reason ?? e;
          throw e;
        }
      }
    },

    depth: () =>
      withBusyRetry(
        'queue.depth',
        () => {
          const out = { ready: 0, leased: 0, acked: 0, dead: 0 };
          for (const r of depth.all() as Array<{ state: QueueMessageState; n: number }>) out[r.state] = r.n;
          return out;
        },
        busy,
      ),

    messages: (query) =>
      withBusyRetry(
        'queue.messages',
        () => {
          const limit = checkLimit(query.limit, 'limit', 100);
          if (query.state !== undefined && !STATES.includes(query.state))
            throw new SqliteInputError('state', `expected one of ${STATES.join(', ')}, got ${JSON.stringify(query.state)}`);
          const rows = (
            query.state === undefined
              ? prepared('SELECT * FROM backfill_queue ORDER BY seq DESC LIMIT ?').all(limit)
              : prepared('SELECT * FROM backfill_queue WHERE state = ? ORDER BY seq DESC LIMIT ?').all(query.state, limit)
          ) as Row[];
          return rows.map((r) => ({
            messageId: String(r.seq),
            message: toMessage(r),
            state: r.state,
            deliveryAttempt: r.delivery_attempt,
            visibleAt: r.visible_at,
            leaseExpiresAt: r.lease_expires_at,
            publishedAt: r.published_at,
            updatedAt: r.updated_at,
            deadReason: r.dead_reason,
          }));
        },
        busy,
      ),

    redrive: (messageId) =>
      withBusyRetry(
        'queue.redrive',
        () => {
          const seq = typeof messageId === 'string' && /^[1-9][0-9]{0,15}$/.test(messageId) ? Number(messageId) : NaN;
          if (!Number.isSafeInteger(seq))
            throw new SqliteInputError('messageId', `expected a queue message id (a number), got ${JSON.stringify(messageId)}`);
          const now = clock.now();
          return redrive.run(now, now, seq).changes === 1;
        },
        busy,
      ),

    pruneAcked: (olderThan) => withBusyRetry('queue.pruneAcked', () => prune.run(checkInstant(olderThan, 'olderThan')).changes, busy),

    close: async () => {
      closed = true;
    },
  };
};
