/**
 * @smart-backfill/cli — the `smart-backfill` command, callable in-process with
 * `main(argv, io)`, and the config helpers (`defineConfig`) for typed config files.
 */
export { main, /** @public */ type GlobalOptions } from './main.js';
export { /** @public */ type CliIo, /** @public */ type OutStream } from './io.js';
export { /** @public */ ExitCode } from './exit-codes.js';

export {
  /** @public */ defineConfig,
  /** @public */ type SmartBackfillConfig,
  /** @public */ type StoreConfig,
  /** @public */ type SqliteStoreConfig,
  /** @public */ type BigQueryStoreConfig,
  /** @public */ type QueueConfig,
  /** @public */ type PubSubQueueConfig,
  /** @public */ type ScheduleConfig,
  /** @public */ type TargetConfig,
  /** @public */ type DateColumnType,
  /** @public */ type ProcessorConfig,
  /** @public */ type ProcessorRunOptions,
  /** @public */ type ProcessorRunFunction,
  /** @public */ type WorkerConfig,
  /** @public */ type AlertConfig,
  /** @public */ type ResolvedConfig,
  /** @public */ type ResolvedProcessor,
} from './config/config-types.js';
