import { readFile } from 'node:fs/promises';
import { SmartBackfillError } from '@smart-backfill/core';

/** The origin every error of this adapter names: `[smart-backfill] [jsonl] …`. */
export const ORIGIN = 'jsonl';

/**
 * The complete lines of a JSON-lines file, parsed, with their 1-based line numbers.
 *
 * A missing file reads as empty: the first write creates it. The text after the last
 * newline is a write still in progress (or one a crash cut short), never a record, so it
 * is left out rather than reported: a reader racing an append must not call the file damaged.
 */
export const readLines = async (path: string): Promise<readonly { readonly line: number; readonly value: unknown }[]> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SmartBackfillError('unavailable', `could not read ${path}: ${(e as Error).message}`, { origin: ORIGIN, cause: e });
  }
  const complete = text.slice(0, text.lastIndexOf('\n') + 1).split('\n');
  const out: { line: number; value: unknown }[] = [];
  complete.forEach((raw, i) => {
    if (raw.trim() === '') return;
    try {
      out.push({ line: i + 1, value: JSON.parse(raw) });
    } catch (e) {
      throw new SmartBackfillError('corrupt', `${path}:${i + 1} is not a JSON line; nothing was changed`, { origin: ORIGIN, cause: e });
    }
  });
  return out;
};

/**
 * Run `fn` after every earlier call through the same lock has finished. Appends to one
 * file from one process go through it, so a check-then-append is never interleaved.
 */
export const createLock = (): (<A>(fn: () => Promise<A>) => Promise<A>) => {
  let tail: Promise<unknown> = Promise.resolve();
  return <A>(fn: () => Promise<A>): Promise<A> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
};
