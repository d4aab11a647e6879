import { CliError, badInput, messageOf } from '../cli-error.js';
import type { BigQueryStoreConfig, PubSubQueueConfig, ResolvedConfig } from '../config/config-types.js';
import { findConfigFile, loadConfig } from '../config/load-config.js';
import { pubSubOptionsOf, pubSubProblems, type PubSubOptionsInput } from '../config/pubsub-queue.js';
import { ExitCode } from '../exit-codes.js';
import { intOption } from '../options.js';
import type { Output } from '../output.js';
import type { InitCommandOptions } from './init.js';
import { loadPackage } from '../runtime/extensions.js';

type BigQueryModule = typeof import('@smart-backfill/bigquery');
type PubSubModule = typeof import('@smart-backfill/pubsub');

/** Flags of `init --bigquery` / `init --pubsub`, as commander names them. */
const BIGQUERY_FLAGS = { project: '--project', dataset: '--dataset', location: '--location' } as const;
const PUBSUB_FLAGS = {
  project: '--project',
  topic: '--topic',
  subscription: '--subscription',
  deadLetterTopic: '--dead-letter-topic',
  maxDeliveryAttempts: '--max-delivery-attempts',
  apiEndpoint: '--api-endpoint',
} as const;

const anyFlag = (opts: InitCommandOptions, flags: Readonly<Partial<Record<keyof InitCommandOptions, string>>>): boolean =>
  (Object.keys(flags) as (keyof InitCommandOptions)[]).some((k) => opts[k] !== undefined);

/** The config when there is one (`--config`, or a file in the working folder); these modes work without. */
const optionalConfig = async (out: Output, opts: InitCommandOptions): Promise<ResolvedConfig | undefined> => {
  const explicit = opts.config;
  return findConfigFile(out.io.cwd, explicit) === undefined ? undefined : loadConfig(out.io.cwd, explicit, out.io.env);
};

/** An adapter's message on one line (client errors list their details on later lines), without its `[smart-backfill] [pkg]` prefix. */
const oneLine = (e: unknown): string =>
  messageOf(e)
    .replace(/^\[smart-backfill\] \[[a-z]+\] /, '')
    .replace(/\s+/g, ' ')
    .trim();

// ---------------------------------------------------------------------------------------- BigQuery

interface BigQueryTarget {
  readonly projectId: string;
  readonly dataset: string;
  readonly location: string | undefined;
  /** From the config's store: credentials and job labels for `--apply`. */
  readonly connection: { readonly keyFilename?: string | undefined; readonly labels?: Readonly<Record<string, string>> | undefined };
  /** How the user named each setting (a flag, a config path, an environment variable), for errors. */
  readonly names: { readonly projectId: string; readonly dataset: string; readonly location: string };
}

/** Same rule as the config's `store.dataset`, so a flag fails the way a config value does. */
const DATASET = /^[A-Za-z0-9_]{1,1024}$/;

const bigQueryTarget = (
  config: ResolvedConfig | undefined,
  opts: InitCommandOptions,
  env: Readonly<Record<string, string | undefined>>,
): BigQueryTarget => {
  const store: BigQueryStoreConfig | undefined = config?.store.type === 'bigquery' ? config.store : undefined;
  if (config !== undefined && store === undefined && !anyFlag(opts, BIGQUERY_FLAGS)) {
    throw badInput(
      `store.type: ${config.file ?? 'the config'} has store.type ${JSON.stringify(config.store.type)}; init --bigquery prints the tables of store.type "bigquery" (set it, or pass --project and --dataset)`,
    );
  }
  const envProject = (['GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT'] as const).find((k) => (env[k] ?? '') !== '');
  const projectFlag = opts.project;
  const projectId = projectFlag ?? store?.projectId ?? (envProject === undefined ? undefined : env[envProject]);
  if (projectId === undefined) {
    throw badInput(
      '--project: the Google Cloud project of the tracking dataset is needed to name its tables (or set store.projectId in the config, or GOOGLE_CLOUD_PROJECT)',
    );
  }
  const datasetFlag = opts.dataset;
  const dataset = datasetFlag ?? store?.dataset ?? 'smart_backfill';
  const names = {
    projectId: projectFlag !== undefined ? '--project' : store?.projectId !== undefined ? 'store.projectId' : (envProject ?? '--project'),
    dataset: datasetFlag !== undefined ? '--dataset' : 'store.dataset',
    location: opts.location !== undefined ? '--location' : 'store.location',
  };
  if (!DATASET.test(dataset))
    throw badInput(
      `${names.dataset}: expected a BigQuery dataset id (letters, digits and "_", at most 1024 characters), got ${JSON.stringify(dataset)}`,
    );
  return {
    projectId,
    dataset,
    location: opts.location ?? store?.location,
    connection: { keyFilename: store?.keyFilename, labels: store?.labels },
    names,
  };
};

/** A bad name found by the adapter, renamed to how the user gave it: exit 2. */
const bigQueryConfigError = (bq: BigQueryModule, e: unknown, t: BigQueryTarget): CliError | undefined => {
  if (!(e instanceof bq.BigQueryAdapterError) || e.code !== 'invalid_config') return undefined;
  const text = oneLine(e);
  const fields: Record<string, string> = {
    'tracking.projectId': t.names.projectId,
    projectId: t.names.projectId,
    'tracking.dataset': t.names.dataset,
    location: t.names.location,
  };
  for (const [field, name] of Object.entries(fields)) {
    if (text.startsWith(`${field} `)) return badInput(`${name}: ${text.slice(field.length + 1)}`, e);
  }
  return badInput(text, e);
};

const initBigQuery = async (
  out: Output,
  opts: InitCommandOptions,
  config: ResolvedConfig | undefined,
  apply: boolean,
): Promise<Record<string, unknown>> => {
  const t = bigQueryTarget(config, opts, out.io.env);
  const bq = await loadPackage<BigQueryModule>('@smart-backfill/bigquery', 'init --bigquery');
  const options = {
    projectId: t.projectId,
    ...(t.location === undefined ? {} : { location: t.location }),
    tracking: { dataset: t.dataset },
  };
  let statements: readonly string[];
  try {
    statements = bq.ddlStatements(options);
  } catch (e) {
    throw bigQueryConfigError(bq, e, t) ?? e;
  }
  const where = { projectId: t.projectId, dataset: t.dataset, location: t.location ?? null };
  if (!apply) {
    if (!out.json) out.io.stdout.write(bq.renderDdl(options));
    return { ...where, applied: false, statements };
  }
  let ran: readonly string[];
  try {
    ran = await bq.applyDdl({ ...options, ...t.connection });
  } catch (e) {
    const bad = bigQueryConfigError(bq, e, t);
    if (bad !== undefined) throw bad;
    throw new CliError(
      `init --bigquery --apply: creating the tracking tables in ${t.projectId}.${t.dataset} failed: ${oneLine(e)}`,
      ExitCode.error,
      { cause: e },
    );
  }
  if (!out.json) {
    out.line(`-- applied ${ran.length} statements to ${t.projectId}.${t.dataset}${t.location === undefined ? '' : ` (${t.location})`}`);
    out.line();
    out.io.stdout.write(`${ran.join(';\n\n')};\n`);
  }
  return { ...where, applied: true, statements: ran };
};

// ---------------------------------------------------------------------------------------- Pub/Sub

const pubSubTarget = async (config: ResolvedConfig | undefined, opts: InitCommandOptions): Promise<PubSubOptionsInput> => {
  const queue: PubSubQueueConfig | undefined = config?.queue.type === 'pubsub' ? config.queue : undefined;
  if (config !== undefined && queue === undefined && !anyFlag(opts, PUBSUB_FLAGS)) {
    throw badInput(
      `queue.type: ${config.file ?? 'the config'} has no Pub/Sub queue (queue.type ${JSON.stringify(config.queue.type)}); add "queue": { "type": "pubsub", "topic": "...", "subscription": "..." } or pass --topic and --subscription`,
    );
  }
  const base: PubSubOptionsInput = queue === undefined ? {} : pubSubOptionsOf(queue);
  const fromFlag = new Map<string, string>();
  /** Put a flag's value at `key` of `target`, remembering that `field` came from that flag. */
  const set = (target: Record<string, unknown>, key: string, field: string, flagKey: keyof typeof PUBSUB_FLAGS, value: unknown): void => {
    if (value === undefined) return;
    target[key] = value;
    fromFlag.set(field, PUBSUB_FLAGS[flagKey]);
  };
  const merged: Record<string, unknown> = { ...base };
  set(merged, 'projectId', 'projectId', 'project', opts.project);
  set(merged, 'topic', 'topic', 'topic', opts.topic);
  set(merged, 'subscription', 'subscription', 'subscription', opts.subscription);
  set(merged, 'apiEndpoint', 'apiEndpoint', 'apiEndpoint', opts.apiEndpoint);
  const dlTopic = opts.deadLetterTopic;
  const dlMax =
    opts.maxDeliveryAttempts === undefined ? undefined : intOption('--max-delivery-attempts', opts.maxDeliveryAttempts, 0, 1_000_000);
  if (dlTopic !== undefined || dlMax !== undefined) {
    // A flag turns dead letters on even where the config said `false`.
    const dl: Record<string, unknown> = typeof base.deadLetter === 'object' ? { ...base.deadLetter } : {};
    set(dl, 'topic', 'deadLetter.topic', 'deadLetterTopic', dlTopic);
    set(dl, 'maxDeliveryAttempts', 'deadLetter.maxDeliveryAttempts', 'maxDeliveryAttempts', dlMax);
    merged['deadLetter'] = dl;
  }
  const options = merged as PubSubOptionsInput;
  const problems = await pubSubProblems(options, (field) => fromFlag.get(field) ?? `queue.${field}`);
  if (problems.length > 0) throw badInput(problems);
  return options;
};

const initPubSub = async (
  out: Output,
  opts: InitCommandOptions,
  config: ResolvedConfig | undefined,
  apply: boolean,
): Promise<Record<string, unknown>> => {
  const options = await pubSubTarget(config, opts);
  const ps = await loadPackage<PubSubModule>('@smart-backfill/pubsub', 'init --pubsub');
  if (!apply) {
    const commands = ps.renderGcloudCommands(options);
    if (!out.json) out.io.stdout.write(commands);
    return { applied: false, options: ps.resolvePubSubOptions(options), commands };
  }
  let result: Awaited<ReturnType<PubSubModule['ensurePubSubResources']>>;
  try {
    result = await ps.ensurePubSubResources(options);
  } catch (e) {
    throw new CliError(`init --pubsub --apply: creating the Pub/Sub resources failed: ${oneLine(e)}`, ExitCode.error, { cause: e });
  }
  if (!out.json) {
    const c = out.c;
    out.line(`Pub/Sub resources${options.projectId === undefined ? '' : ` in ${options.projectId}`}:`);
    for (const n of result.created) out.line(`  ${c.green('created ')}  ${n}`);
    for (const n of result.existing) out.line(`  ${c.dim('existing')}  ${n}`);
    for (const d of result.drift) out.line(`  ${c.yellow('drift   ')}  ${d}`);
    for (const n of result.notes) out.line(`  ${c.cyan('note    ')}  ${n}`);
    if (result.drift.length > 0) out.line(c.yellow('existing settings were left as they are: run the commands above to change them'));
  }
  return { applied: true, ...result };
};

// ---------------------------------------------------------------------------------------- command

/**
 * `init --bigquery` / `init --pubsub` [`--apply`]: print (or, with `--apply`, create)
 * the cloud resources the configured store and queue need. Printing needs no credentials
 * and makes no request; no starter config is written in these modes.
 */
export const initCloudCommand = async (out: Output, opts: InitCommandOptions): Promise<number> => {
  const apply = opts.apply;
  const config = await optionalConfig(out, opts);
  const json: Record<string, unknown> = {};
  if (opts.bigquery) {
    json['bigquery'] = await initBigQuery(out, opts, config, apply);
    if (opts.pubsub && !out.json) out.line();
  }
  if (opts.pubsub) json['pubsub'] = await initPubSub(out, opts, config, apply);
  if (out.json) out.printJson(json);
  return ExitCode.ok;
};
