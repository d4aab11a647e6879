import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { badInput } from '../cli-error.js';
import { resolveConfig } from '../config/load-config.js';
import type { SmartBackfillConfig } from '../config/config-types.js';
import { configOption, switchOption, textOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';

/** Where `init` puts smart-backfill's own tables: a file of its own, never the user's. */
export const DEFAULT_TRACKING_PATH = './.smart-backfill/tracking.db';
/** Where the starter config looks for the user's schedule and target tables (read-only). */
export const DEFAULT_WAREHOUSE_PATH = './warehouse.db';

/** The starter config `init` writes: the seed's NBA processor and constants. */
export const starterConfig = (dbPath: string, warehousePath: string = DEFAULT_WAREHOUSE_PATH): SmartBackfillConfig => ({
  store: { type: 'sqlite', path: dbPath, warehouse: { path: warehousePath } },
  processors: [
    {
      name: 'player_game_summary',
      schedule: { table: 'game_schedule', dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final', 'Completed'] },
      target: { table: 'player_game_summary', dateColumn: 'game_date' },
      policy: { lookbackDays: 30, criticalLookbackDays: 10, minRecordsPerDate: 100, autoBackfillThreshold: 3 },
      command: 'node build-summary.js --date {date}',
    },
  ],
  worker: { concurrency: 1 },
  alerts: [{ type: 'log' }],
});

/** `init`'s options; `--bigquery`/`--pubsub` and the ones after them are `init-cloud.ts`'s. */
export interface InitCommandOptions extends ConfigOption {
  readonly force: boolean;
  readonly db: string | undefined;
  readonly warehouse: string | undefined;
  readonly bigquery: boolean;
  readonly pubsub: boolean;
  readonly apply: boolean;
  readonly project: string | undefined;
  readonly dataset: string | undefined;
  readonly location: string | undefined;
  readonly topic: string | undefined;
  readonly subscription: string | undefined;
  readonly deadLetterTopic: string | undefined;
  /** As given: checked (a whole number) by `--pubsub`, the only mode that reads it, so elsewhere it fails as out of place. */
  readonly maxDeliveryAttempts: string | undefined;
  readonly apiEndpoint: string | undefined;
}

const initOptions = (raw: RawOptions): InitCommandOptions => ({
  ...configOption(raw),
  force: switchOption(raw, 'force'),
  db: textOption(raw, 'db'),
  warehouse: textOption(raw, 'warehouse'),
  bigquery: switchOption(raw, 'bigquery'),
  pubsub: switchOption(raw, 'pubsub'),
  apply: switchOption(raw, 'apply'),
  project: textOption(raw, 'project'),
  dataset: textOption(raw, 'dataset'),
  location: textOption(raw, 'location'),
  topic: textOption(raw, 'topic'),
  subscription: textOption(raw, 'subscription'),
  deadLetterTopic: textOption(raw, 'deadLetterTopic'),
  maxDeliveryAttempts: textOption(raw, 'maxDeliveryAttempts'),
  apiEndpoint: textOption(raw, 'apiEndpoint'),
});

/** `init`: write `smart-backfill.config.json` and create the store's tables. */
export const initCommand = async (out: Output, raw: RawOptions): Promise<number> => {
  const opts = initOptions(raw);
  if (opts.bigquery || opts.pubsub) {
    if (opts.force || opts.db !== undefined)
      throw badInput(`${opts.force ? '--force' : '--db'}: init --bigquery/--pubsub writes no config file and no SQLite file`);
    return (await import('./init-cloud.js')).initCloudCommand(out, opts);
  }
  const cloudOnly = (
    ['apply', 'project', 'dataset', 'location', 'topic', 'subscription', 'deadLetterTopic', 'maxDeliveryAttempts', 'apiEndpoint'] as const
  ).find((k) => opts[k] !== undefined && opts[k] !== false);
  if (cloudOnly !== undefined) {
    throw badInput(
      `--${cloudOnly.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)} goes with --bigquery or --pubsub (init alone writes a starter SQLite config)`,
    );
  }
  const file = join(out.io.cwd, 'smart-backfill.config.json');
  if (existsSync(file) && !opts.force) throw badInput(`${file} already exists (use --force to overwrite it)`);
  const dbPath = opts.db ?? DEFAULT_TRACKING_PATH;
  const config = starterConfig(dbPath, opts.warehouse ?? DEFAULT_WAREHOUSE_PATH);
  const resolved = resolveConfig(config, { file, baseDir: out.io.cwd });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  if (resolved.store.type === 'sqlite') {
    const { openSqliteStore } = await import('@smart-backfill/sqlite');
    if (resolved.store.path !== ':memory:') mkdirSync(dirname(resolved.store.path), { recursive: true });
    // The tracking tables only: the warehouse is never opened for writing.
    const store = openSqliteStore({ path: resolved.store.path });
    await store.close();
  }
  if (out.json) out.printJson({ config: file, store: resolved.store });
  else {
    out.line(`wrote ${relative(out.io.cwd, file) || file}`);
    if (resolved.store.type === 'sqlite') {
      out.line(`created the smart-backfill tables in ${relative(out.io.cwd, resolved.store.path) || resolved.store.path}`);
      if (resolved.store.warehouse !== undefined)
        out.line(
          `your schedule and target tables are read, read-only, from ${relative(out.io.cwd, resolved.store.warehouse.path) || resolved.store.warehouse.path} (store.warehouse.path)`,
        );
    }
    out.line('next: point "schedule" and "target" at your tables and "command" at your processor, then:');
    out.line('  smart-backfill check player_game_summary --date YYYY-MM-DD');
  }
  return 0;
};
