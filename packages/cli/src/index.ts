/**
 * @smart-backfill/cli — the `smart-backfill` command, callable in-process with
 * `main(argv, io)`, and the config helpers (`defineConfig`) for typed config files.
 */
export { main, type GlobalOptions } from './main.js';
export { type CliIo, type OutStream, processIo } from './io.js';
export { ExitCode } from './exit-codes.js';
export { CliError } from './cli-error.js';
export {
  defineConfig,
  type SmartBackfillConfig,
  type StoreConfig,
  type SqliteStoreConfig,
  type BigQueryStoreConfig,
  type QueueConfig,
  type PubSubQueueConfig,
  type ScheduleConfig,
  type TargetConfig,
  type DateColumnType,
  type ProcessorConfig,
  type ProcessorRunOptions,
  type ProcessorRunFunction,
  type WorkerConfig,
  type AlertConfig,
  type ResolvedConfig,
  type ResolvedProcessor,
} from './config/config-types.js';
export { loadConfig, resolveConfig, findConfigFile, CONFIG_FILE_NAMES } from './config/load-config.js';
export { type CheckInput, type CheckResult, decodeCheckInput, checkPlain } from './commands/check-input.js';
export { splitCommand } from './runtime/split-command.js';
