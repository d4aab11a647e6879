import type { ChannelConfig } from '@smart-backfill/alerts';
import type { GapPolicy, IsoDate, PipelineGraph, PolicyPresetName, RunTrigger } from '@smart-backfill/core';

/** The embedded default: one SQLite file holds the requests, the queue, the run log and the alert log. */
export interface SqliteStoreConfig {
  readonly type: 'sqlite';
  /** The tracking file (smart-backfill's own tables). Relative paths are resolved against the config file's folder. */
  readonly path: string;
  /**
   * The file holding your schedule and target tables, opened read-only: no command writes to it
   * or changes its journal mode. Without it, those tables are read from `path`.
   */
  readonly warehouse?: { readonly path: string };
  /** How long a command waits for another process's lock before giving up with exit 1. Default 60 000 ms; a notice after 2 s. */
  readonly busyTimeoutMs?: number;
  /** `PRAGMA quick_check` when the store opens (and over each user table before its first read). Default true. */
  readonly integrityCheck?: boolean;
}

/** Extension point: loads `@smart-backfill/bigquery` (and the Google SDK) only when configured. */
export interface BigQueryStoreConfig {
  readonly type: 'bigquery';
  readonly projectId?: string;
  /** Dataset holding the request tracker, run log and alert log tables. */
  readonly dataset: string;
  readonly location?: string;
  /** Service-account key file (default: Application Default Credentials). Relative paths are resolved against the config file's folder. */
  readonly keyFilename?: string;
  /** Upper bound on bytes billed per query; a query that would scan more fails, nothing billed. A string for values past 2^53. */
  readonly maximumBytesBilled?: number | string;
  /** Labels on every query job (BigQuery's rules: lowercase keys and values), to find them in billing exports. */
  readonly labels?: Readonly<Record<string, string>>;
}

export type StoreConfig = SqliteStoreConfig | BigQueryStoreConfig;

/**
 * A Google Pub/Sub queue (`@smart-backfill/pubsub`, loaded lazily). The resource
 * settings are what `smart-backfill init --pubsub` prints or creates; the adapter
 * validates them (names, ranges) when the config is loaded.
 */
export interface PubSubQueueConfig {
  readonly type: 'pubsub';
  /** Short name or `projects/<p>/topics/<t>`. */
  readonly topic: string;
  /** Short name or `projects/<p>/subscriptions/<s>`. */
  readonly subscription: string;
  readonly projectId?: string;
  /** 10–600. Default 540 (the seed's). */
  readonly ackDeadlineSeconds?: number;
  /** `false` for none. Default: topic `smart-backfill-dead-letters`, 5 attempts (5–100), subscription `<topic>-sub`. */
  readonly deadLetter?: { readonly topic?: string; readonly maxDeliveryAttempts?: number; readonly subscription?: string } | false;
  /** Redelivery backoff, 0–600 s each; `false` for the service default. Default 10 s → 600 s. */
  readonly retryPolicy?: { readonly minimumBackoffSeconds?: number; readonly maximumBackoffSeconds?: number } | false;
  readonly exactlyOnce?: boolean;
  readonly orderingKeys?: boolean;
  /** `host:port` of an emulator (plain text, no credentials), or a URL. */
  readonly apiEndpoint?: string;
  /**
   * How long a publish may wait for Pub/Sub's confirmation before the request is left
   * in the outbox for the relay (100–600,000 ms; default 30,000). The whole wait of
   * `run` or `backfill` on an unreachable Pub/Sub.
   */
  readonly publishTimeoutMs?: number;
}

/** `store`: the queue lives in the store (SQLite table). `pubsub`: Google Pub/Sub, loaded lazily. */
export type QueueConfig = { readonly type: 'store' } | PubSubQueueConfig;

/** The table that says which dates should have data (the seed's `nba_raw.game_schedule`). */
export interface ScheduleConfig {
  readonly table: string;
  readonly dateColumn: string;
  /** With `statuses`: only rows whose status is one of them count (the seed: `game_status IN ('Final','Completed')`). */
  readonly statusColumn?: string;
  readonly statuses?: readonly string[];
  /** For tables shared by several processors: a column holding the processor name. */
  readonly processorColumn?: string;
  /** How dates are stored: `date` (`YYYY-MM-DD` text, the default), `datetime`, `epoch-seconds`, `epoch-millis`. */
  readonly dateColumnType?: DateColumnType;
}

/** The table the processor fills (the seed's `nba_analytics.player_game_summary`). */
export interface TargetConfig {
  readonly table: string;
  readonly dateColumn: string;
  readonly processorColumn?: string;
  readonly dateColumnType?: DateColumnType;
}

/** SQLite: `date` (`YYYY-MM-DD` text, default), `datetime`, `epoch-seconds`, `epoch-millis`. BigQuery: `DATE` (default), `TIMESTAMP`, `DATETIME`. */
export type DateColumnType = 'date' | 'datetime' | 'epoch-seconds' | 'epoch-millis' | 'DATE' | 'TIMESTAMP' | 'DATETIME';

/** What a processor declared as a JS/TS module (or an inline `run` in a JS/TS config) receives. */
export interface ProcessorRunOptions {
  readonly date: IsoDate;
  readonly processorName: string;
  readonly isBackfill: boolean;
  readonly trigger: RunTrigger;
  readonly requestId?: string | undefined;
  readonly attempt?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** The store as configured (paths absolute), so a processor can open the same database. */
  readonly store: StoreConfig;
  /** The folder of the config file. */
  readonly baseDir: string;
}

export type ProcessorRunFunction = (opts: ProcessorRunOptions) => unknown;

export interface ProcessorConfig {
  /** Letters, digits, `_`, `.`, `-`; starts with a letter. Used in requests, messages and printed commands. */
  readonly name: string;
  readonly schedule: ScheduleConfig;
  readonly target: TargetConfig;
  /** A preset (`conservative`, `balanced`, `aggressive`) or any policy fields; the rest default as in core. */
  readonly policy?: Partial<GapPolicy> | PolicyPresetName;
  /**
   * A command run without a shell: a string split into words (quotes group, nothing else is special)
   * or an argv array. `{date}` and `{processor}` are substituted inside words.
   */
  readonly command?: string | readonly string[];
  /** A JS/TS module exporting `run(opts: ProcessorRunOptions)`; relative to the config file. */
  readonly module?: string;
  /** JS/TS configs only: the processor itself. */
  readonly run?: ProcessorRunFunction;
  /** Extra environment for `command`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill a `command` that runs longer than this. */
  readonly timeoutMs?: number;
  /**
   * The processors whose output this one reads, and how far back: a run for D reads their
   * dates `D − lookbackDays .. D`. Unknown names and cycles are refused when the config loads.
   */
  readonly dependsOn?: readonly { readonly processor: string; readonly lookbackDays: number }[];
}

export interface WorkerConfig {
  /** Backfills processed at once (default 1). */
  readonly concurrency?: number;
  /** How long the worker waits between empty polls (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** Lease per claimed request and its message (default 60 s, renewed by heartbeats every 20 s while a backfill runs). */
  readonly leaseMs?: number;
  /** How often the outbox relay republishes unconfirmed requests (default 30 s). */
  readonly relayIntervalMs?: number;
  /** How often expired leases are swept back to queued (default 30 s). */
  readonly sweepIntervalMs?: number;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
}

/** An alert channel, as `@smart-backfill/alerts` defines it (`log`, `webhook`, `slack`; secrets only from the environment). */
export type AlertConfig = ChannelConfig;

/** `smart-backfill.config.json`, or the default export of `smart-backfill.config.{ts,js,mjs}`. */
export interface SmartBackfillConfig {
  readonly store: StoreConfig;
  readonly queue?: QueueConfig;
  readonly processors: readonly ProcessorConfig[];
  readonly worker?: WorkerConfig;
  readonly alerts?: readonly AlertConfig[];
  /**
   * The longest a run waits for an alert notice to be delivered (ms, default 5000):
   * past it the run goes on, the notice counts as undelivered and the worker retries it.
   */
  readonly alertDeadlineMs?: number;
  /** The zone `--date today|yesterday|-N` is counted in (an IANA name; default `UTC`). */
  readonly timeZone?: string;
}

/**
 * Identity, for type-checked `smart-backfill.config.ts` files.
 * @public
 */
export const defineConfig = <C extends SmartBackfillConfig>(config: C): C => config;

/** A processor after validation: policy resolved to a full `GapPolicy`. */
export interface ResolvedProcessor extends Omit<ProcessorConfig, 'policy'> {
  readonly policy: GapPolicy;
}

/** A config after validation: paths absolute, policies resolved. */
export interface ResolvedConfig extends Omit<SmartBackfillConfig, 'processors'> {
  readonly processors: readonly ResolvedProcessor[];
  readonly queue: QueueConfig;
  /** The processors' dependency graph (`dependsOn`), built once when the config was loaded. */
  readonly graph: PipelineGraph;
  /** The config file, or `undefined` for a config built in code. */
  readonly file: string | undefined;
  readonly baseDir: string;
}
