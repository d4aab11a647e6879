import {
  isSmartBackfillError,
  type AlertLog,
  type BackfillQueue,
  type Clock,
  type RequestTracker,
  type RunLog,
  type WindowReader,
} from '@smart-backfill/core';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { CliError, messageOf } from '../cli-error.js';
import type { ResolvedConfig, ResolvedProcessor } from '../config/config-types.js';
import { ExitCode } from '../exit-codes.js';
import { loadExtension } from './extensions.js';
import { pubSubOptionsOf } from '../config/pubsub-queue.js';
import { pubSubQueueReport, type PubSubQueueReport } from './pubsub-status.js';

/** Every port the commands need, whatever the store. */
export interface StoreHandle {
  readonly tracker: RequestTracker;
  readonly queue: BackfillQueue;
  readonly runLog: RunLog;
  readonly alertLog: AlertLog;
  /** Schedule and counts for one processor's tables. */
  windowFor(processor: ResolvedProcessor): WindowReader;
  /** Reads of many windows that should see one state of the tables (plan), when the store can give it. */
  readSnapshot?<A>(fn: () => Promise<A>): Promise<A>;
  /** The SQLite connection when the store is SQLite (the demo writes its tables through it). */
  readonly db?: Database.Database | undefined;
  /**
   * The first write lost to another writer (`contention`: a lock wait that ran out) in any store call, even one the
   * guard caught and logged (a lost run record must not read as a clean run).
   */
  lockError?(): Error | undefined;
  /** Queue depth when the queue can tell (status). */
  queueDepth?(): Promise<{ ready: number; leased: number; dead: number }>;
  /** What status can report about an external queue (Pub/Sub), which has no depth to read. */
  queueReport?(): Promise<PubSubQueueReport>;
  /** Why a publish to an external queue failed this time (one line), if one did. */
  publishProblem?(): string | undefined;
  close(): Promise<void>;
}

/** How a command opens the store. */
export interface OpenStoreOptions {
  /** A dry run (`check`): nothing is created, migrated or written. */
  readonly readOnly?: boolean | undefined;
  /** Where to say that the command waits for another process's lock (stderr). */
  readonly notice?: ((line: string) => void) | undefined;
}

/** Default bound on waiting for another process's lock (`store.busyTimeoutMs`). */
export const DEFAULT_LOCK_WAIT_MS = 60_000;

/** A damaged file is not bad input: the config is right, the file is not (exit 1, the adapter's one-line hint). */
const isDamaged = (e: unknown): boolean => isSmartBackfillError(e, 'corrupt');
const plain = (e: unknown): string => messageOf(e).replace(/^\[smart-backfill\] \[sqlite\] /, '');

/** Wrap every method of `port` so a busy error is remembered before it is rethrown. */
const watched = <P extends object>(port: P, seen: (e: Error) => void): P =>
  new Proxy(port, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const note = (e: unknown): never => {
          if (e instanceof Error && isSmartBackfillError(e, 'contention')) seen(e);
          throw e;
        };
        try {
          const r = (v as (...a: unknown[]) => unknown).apply(target, args);
          return r instanceof Promise ? r.catch(note) : r;
        } catch (e) {
          return note(e);
        }
      };
    },
  });

/**
 * One window reader per processor, built on first use; the adapter's complaint about a
 * processor's tables (a bad name, a date type it cannot read) is bad input naming the processor.
 */
const windowsOnce = (build: (p: ResolvedProcessor) => WindowReader): ((p: ResolvedProcessor) => WindowReader) => {
  const readers = new Map<string, WindowReader>();
  return (p) => {
    let r = readers.get(p.name);
    if (r === undefined) {
      try {
        r = build(p);
      } catch (e) {
        if (isDamaged(e)) throw new CliError(`processor "${p.name}": ${plain(e)}`, ExitCode.error, { cause: e });
        throw new CliError(`processor "${p.name}": ${messageOf(e)}`, ExitCode.badInput, { cause: e });
      }
      readers.set(p.name, r);
    }
    return r;
  };
};

const openSqlite = async (config: ResolvedConfig, clock: Clock, opts: OpenStoreOptions): Promise<StoreHandle> => {
  if (config.store.type !== 'sqlite') throw new Error('unreachable');
  const sqlite = await import('@smart-backfill/sqlite');
  const waitMs = config.store.busyTimeoutMs ?? DEFAULT_LOCK_WAIT_MS;
  const path = config.store.path;
  let store: ReturnType<typeof sqlite.openSqliteStore>;
  try {
    // The tracking file's folder (init's default is .smart-backfill/): a dry run creates nothing.
    if (opts.readOnly !== true && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    store = sqlite.openSqliteStore({
      path: config.store.path,
      warehouse: config.store.warehouse,
      readOnly: opts.readOnly,
      integrityCheck: config.store.integrityCheck,
      clock,
      // SQLite's own wait blocks the process; a short one leaves the rest of the wait to the
      // adapter's retry loop, which can say what it waits for.
      busyTimeoutMs: Math.min(waitMs, 500),
      busy: {
        maxWaitMs: waitMs,
        onWait: ({ file }) =>
          opts.notice?.(
            `waiting for the write lock on ${file ?? path} (another process holds it); giving up after ${waitMs / 1000} s (store.busyTimeoutMs)`,
          ),
      },
    });
  } catch (e) {
    if (isDamaged(e)) throw new CliError(`store: ${plain(e)}`, ExitCode.error, { cause: e });
    // A bad option, and a file written by a newer schema: retrying cannot help, a person must act (exit 2).
    if (isSmartBackfillError(e, 'invalid_config')) throw new CliError(`store: ${plain(e)}`, ExitCode.badInput, { cause: e });
    throw new CliError(`store: cannot open SQLite file ${config.store.path} (${messageOf(e)})`, ExitCode.error, { cause: e });
  }
  let lockError: Error | undefined;
  const seen = (e: Error): void => void (lockError ??= e);
  return {
    tracker: watched(store.tracker, seen),
    queue: watched(store.queue, seen),
    runLog: watched(store.runLog, seen),
    alertLog: watched(store.alertLog, seen),
    lockError: () => lockError,
    db: store.db,
    windowFor: windowsOnce((p) =>
      store.windowReader(p.schedule as Parameters<typeof store.windowReader>[0], p.target as Parameters<typeof store.windowReader>[1]),
    ),
    readSnapshot: (fn) => store.readSnapshot(fn),
    queueDepth: async () => store.queue.depth(),
    close: () => store.close(),
  };
};

type OpenBigQueryStore = typeof import('@smart-backfill/bigquery').openBigQueryStore;
type OpenPubSubQueue = typeof import('@smart-backfill/pubsub').openPubSubQueue;

const openBigQuery = async (config: ResolvedConfig): Promise<Omit<StoreHandle, 'queue'>> => {
  if (config.store.type !== 'bigquery') throw new Error('unreachable');
  const open = await loadExtension<OpenBigQueryStore>('@smart-backfill/bigquery', 'openBigQueryStore', 'store.type "bigquery"');
  const { projectId, location, dataset, keyFilename, maximumBytesBilled, labels } = config.store;
  let store: ReturnType<OpenBigQueryStore>;
  try {
    store = open({ projectId, location, keyFilename, maximumBytesBilled, labels, tracking: { dataset } });
  } catch (e) {
    // The Google client's placeholder when it found no project anywhere.
    if (messageOf(e).includes('{{projectId}}')) {
      throw new CliError(
        'store.projectId: no Google Cloud project found; set it in the config or GOOGLE_CLOUD_PROJECT',
        ExitCode.badInput,
        { cause: e },
      );
    }
    throw new CliError(`store: ${messageOf(e)}`, ExitCode.badInput, { cause: e });
  }
  return {
    tracker: store.tracker,
    runLog: store.runLog,
    alertLog: store.alertLog,
    windowFor: windowsOnce((p) =>
      store.window(p.schedule as Parameters<typeof store.window>[0], p.target as Parameters<typeof store.window>[1]),
    ),
    close: () => store.close(),
  };
};

/**
 * The configured store. SQLite is the default; `bigquery` and a `pubsub` queue
 * load their packages (and the Google SDKs) lazily, only when configured.
 */
export const openStore = async (config: ResolvedConfig, clock: Clock, opts: OpenStoreOptions = {}): Promise<StoreHandle> => {
  if (config.store.type === 'sqlite' && config.queue.type === 'store') return openSqlite(config, clock, opts);
  if (config.store.type === 'bigquery' && config.queue.type === 'store') {
    throw new CliError(
      'store.type "bigquery" keeps no queue: add "queue": { "type": "pubsub", "topic": "...", "subscription": "..." }',
      ExitCode.badInput,
    );
  }
  const base: Omit<StoreHandle, 'queue'> =
    config.store.type === 'sqlite' ? await openSqlite(config, clock, opts) : await openBigQuery(config);
  if (config.queue.type !== 'pubsub') throw new Error('unreachable');
  const openQueue = await loadExtension<OpenPubSubQueue>('@smart-backfill/pubsub', 'openPubSubQueue', 'queue.type "pubsub"');
  let queue: Awaited<ReturnType<OpenPubSubQueue>>;
  try {
    queue = await openQueue(pubSubOptionsOf(config.queue));
  } catch (e) {
    await base.close();
    throw new CliError(`queue: ${messageOf(e)}`, ExitCode.badInput, { cause: e });
  }
  // Remember why a publish failed, so the command can say it once, naming the setting that bounds the wait.
  let publishProblem: string | undefined;
  const publish: typeof queue.publish = async (messages) => {
    const outcomes = await queue.publish(messages);
    for (const o of outcomes) if (o._tag === 'PublishFailed') publishProblem ??= o.error;
    return outcomes;
  };
  const timeoutMs = queue.options.publishTimeoutMs;
  return {
    tracker: base.tracker,
    runLog: base.runLog,
    alertLog: base.alertLog,
    db: base.db,
    ...(base.lockError !== undefined ? { lockError: base.lockError } : {}),
    windowFor: (p) => base.windowFor(p),
    queue: { publish, receive: (o) => queue.receive(o), close: () => queue.close() },
    queueReport: () => pubSubQueueReport(queue, base.tracker),
    publishProblem: () =>
      publishProblem === undefined
        ? undefined
        : `Pub/Sub did not confirm a publish within ${timeoutMs} ms (queue.publishTimeoutMs): ${publishProblem}; the request stays in the outbox and the worker's relay publishes it`,
    close: async () => {
      await queue.close?.();
      await base.close();
    },
  };
};
