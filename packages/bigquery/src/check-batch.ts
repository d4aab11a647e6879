import { runQuery, type Connection, type Param } from './client.js';
import { corruptError } from './errors.js';
import type { TableRef } from './identifiers.js';
import type { WindowQuery } from '@smart-backfill/core';

/** The reads a guard check makes at once, in the order they appear in a combined statement. */
export type PartType = 'window' | 'requests' | 'alerts' | 'held';
const ORDER: readonly PartType[] = ['window', 'requests', 'alerts', 'held'];

/**
 * One read that can ride in a combined check statement. Its `selects` yield the
 * columns `kind STRING, d DATE, n INT64, payload STRING` and may use its `ctes`;
 * its parameter names are its own (prefixed), so parts never clash.
 */
export interface BatchPart<T> {
  readonly type: PartType;
  /** Reads of one processor only are combined. */
  readonly processor: string;
  readonly ctes: readonly string[];
  readonly selects: readonly string[];
  readonly params: Readonly<Record<string, Param>>;
  /** The `kind` values its rows carry. */
  readonly kinds: readonly string[];
  readonly table: TableRef;
  /** Its own bytes-billed limit, if any; the combined job takes the window's (the tracking tables add little), else the connection's. */
  readonly maximumBytesBilled?: string | undefined;
  /** The window it reads, if any (passengers size their reads from it). */
  readonly window?: WindowQuery | undefined;
  decode(rows: readonly Record<string, unknown>[]): T;
  /** Its own statement, when nothing else is read alongside it. */
  solo(): Promise<T>;
}

interface Pending {
  readonly part: BatchPart<unknown>;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

export interface CheckBatcher {
  /** Read `part`, together with the other reads of its processor submitted in the same turn of the event loop. */
  submit<T>(part: BatchPart<T>): Promise<T>;
  /**
   * Add a read to every combined check (two or more parts: a guard check, not a lone
   * window read) that has a window: what the rest of the check will read next (held runs).
   */
  passenger(make: (window: WindowQuery) => BatchPart<void>): void;
}

/**
 * Coalesces the reads a guard check issues together (window, the window's requests,
 * the processor's open alerts) into one query job. Nothing is cached: each caller gets
 * rows read by a job that started after its call, so no read is staler than its own
 * statement would have been. Reads are gathered until the current turn of the event
 * loop ends (`setImmediate`): the guard issues all three synchronously.
 */
export const checkBatcher = (c: Connection): CheckBatcher => {
  let pending: Pending[] = [];
  let scheduled = false;
  const passengers: ((window: WindowQuery) => BatchPart<void>)[] = [];

  const runSolo = (x: Pending): void => {
    x.part.solo().then(x.resolve, x.reject);
  };

  const runCombined = (batch: readonly Pending[]): void => {
    const window = batch.find((x) => x.part.window !== undefined)?.part.window;
    const riders: Pending[] =
      window === undefined
        ? []
        : passengers
            .map((make) => make(window))
            .filter((p) => !batch.some((x) => x.part.type === p.type))
            .map((part) => ({ part, resolve: () => undefined, reject: () => undefined }));
    const parts = [...batch, ...riders].sort((a, b) => ORDER.indexOf(a.part.type) - ORDER.indexOf(b.part.type));
    const ctes = parts.flatMap((x) => x.part.ctes);
    const selects = parts.flatMap((x) => x.part.selects);
    const sql = [
      `-- smart-backfill:check ${parts.map((x) => x.part.type).join('+')}`,
      ...(ctes.length === 0 ? [] : [`WITH ${ctes.join(',\n')}`]),
      selects.join('\nUNION ALL\n'),
    ].join('\n');
    const params: Record<string, Param> = {};
    for (const x of parts) Object.assign(params, x.part.params);
    const processor = parts[0]!.part.processor;
    runQuery(c, {
      sql,
      params,
      purpose: `reading the check of ${JSON.stringify(processor)} (${parts.map((x) => x.part.type).join(', ')})`,
      table: parts[0]!.part.table,
      maximumBytesBilled: parts.find((x) => x.part.maximumBytesBilled !== undefined)?.part.maximumBytesBilled,
    })
      .then((rows) => {
        const byKind = new Map<string, Record<string, unknown>[]>();
        for (const r of rows) {
          const k = r['kind'];
          if (typeof k !== 'string' || !parts.some((x) => x.part.kinds.includes(k)))
            throw corruptError(`check query returned an unexpected row kind ${JSON.stringify(k)}`);
          const list = byKind.get(k);
          if (list === undefined) byKind.set(k, [r]);
          else list.push(r);
        }
        for (const x of parts) {
          try {
            x.resolve(x.part.decode(x.part.kinds.flatMap((k) => byKind.get(k) ?? [])));
          } catch (e) {
            x.reject(e);
          }
        }
      })
      .catch(() => {
        // One failing part (a missing alerts table, say) must not fail the others: each
        // is read on its own, so the window's error is the window's and an alerts error
        // stays the soft failure the guard treats it as. Passengers are simply dropped.
        for (const x of batch) runSolo(x);
      });
  };

  const flush = (): void => {
    scheduled = false;
    const all = pending;
    pending = [];
    const byProcessor = new Map<string, Pending[][]>();
    for (const x of all) {
      // One part per type in a batch (their parameter names would clash); a second one opens another batch.
      const batches = byProcessor.get(x.part.processor) ?? [];
      byProcessor.set(x.part.processor, batches);
      const slot = batches.find((b) => !b.some((y) => y.part.type === x.part.type));
      if (slot === undefined) batches.push([x]);
      else slot.push(x);
    }
    for (const batches of byProcessor.values()) for (const b of batches) b.length === 1 ? runSolo(b[0]!) : runCombined(b);
  };

  return {
    passenger(make) {
      passengers.push(make);
    },
    submit<T>(part: BatchPart<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        pending.push({ part: part as BatchPart<unknown>, resolve: resolve as (v: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
};

/** A `TO_JSON_STRING` payload column as an object. */
export const payloadOf = (r: Record<string, unknown>): Record<string, unknown> => {
  const v = r['payload'];
  if (typeof v !== 'string') throw corruptError(`check query returned a ${String(r['kind'])} row without a payload`);
  const o = JSON.parse(v) as unknown;
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw corruptError(`check query returned a ${String(r['kind'])} row whose payload is not an object`);
  return o as Record<string, unknown>;
};
