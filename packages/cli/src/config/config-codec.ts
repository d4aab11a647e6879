import * as t from 'io-ts';
import { buildPipelineGraph, DEFAULT_POLICY, isValidTimeZone, MAX_DEPENDENCY_LOOKBACK_DAYS } from '@smart-backfill/core';
import { decodeAlertsConfig, type ChannelConfig } from '@smart-backfill/alerts';
import {
  array,
  boolean,
  errorAt,
  foreign,
  func,
  literal,
  matching,
  record,
  refine,
  show,
  string,
  struct,
  tagged,
  wholeNumber,
} from './decoders.js';
import { policyCodec } from './policy-codec.js';
import { splitCommand, unknownPlaceholders } from '../runtime/split-command.js';
import type { QueueConfig, ResolvedProcessor, StoreConfig, WorkerConfig } from './config-types.js';

/**
 * Processor names travel into request rows, queue attributes and printed heal commands
 * (`smart-backfill backfill NAME --from …`), so they are kept to characters that need no quoting anywhere.
 */
export const PROCESSOR_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
const processorName = matching(
  PROCESSOR_NAME,
  'a name of letters, digits, "_", "." or "-" starting with a letter (at most 100 characters)',
);

/** Table names may be qualified (`dataset.table`, `project.dataset.table`); columns are plain identifiers. */
const tableName = matching(
  /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*){0,2}$/,
  'a table name (letters, digits, "_", optionally qualified with ".")',
);
// SQLite's forms and BigQuery's column types; the store's adapter says if one does not apply.
const dateColumnType = literal(['date', 'datetime', 'epoch-seconds', 'epoch-millis', 'DATE', 'TIMESTAMP', 'DATETIME']);
const columnName = matching(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a column name (letters, digits, "_")');

/** BigQuery's `maximumBytesBilled`: a positive whole number, or a string of digits for values past 2^53. */
const bytesLimit = new t.Type<number | string, number | string, unknown>(
  'a positive whole number of bytes',
  (u): u is number | string => typeof u === 'number' || typeof u === 'string',
  (u, c) =>
    (typeof u === 'number' && Number.isSafeInteger(u) && u >= 1) || (typeof u === 'string' && /^[1-9][0-9]{0,18}$/.test(u))
      ? t.success(u)
      : t.failure(u, c, `expected a positive whole number of bytes (or a string of digits), got ${show(u)}`),
  t.identity,
);

// BigQuery's label rules: keys start with a lowercase letter; keys and values hold lowercase letters, digits, "_" and "-" (at most 63); values may be empty.
const jobLabels = refine(
  record(
    matching(
      /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u,
      'a label key (lowercase letters, digits, "_" or "-", starting with a letter, at most 63 characters)',
    ),
    matching(/^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u, 'a label value (lowercase letters, digits, "_" or "-", at most 63 characters)'),
  ),
  (labels, c) =>
    Object.keys(labels).length > 64 ? [errorAt(c, [], labels, `expected at most 64 labels, got ${Object.keys(labels).length}`)] : [],
);

const storeCodec = tagged<StoreConfig>('type', {
  sqlite: struct(
    'SqliteStore',
    { type: literal(['sqlite']), path: string('a file path') },
    {
      warehouse: struct('Warehouse', { path: string('a file path') }, {}),
      busyTimeoutMs: wholeNumber(0),
      integrityCheck: boolean,
    },
  ),
  bigquery: struct(
    'BigQueryStore',
    { type: literal(['bigquery']), dataset: matching(/^[A-Za-z0-9_]{1,1024}$/, 'a BigQuery dataset id') },
    {
      projectId: string('a project id'),
      location: string('a location'),
      keyFilename: string('a key file path'),
      maximumBytesBilled: bytesLimit,
      labels: jobLabels,
    },
  ),
});

/** An object shape, or `false` to turn the feature off (`deadLetter: false`). */
const objectOrFalse = <A>(codec: t.Type<A, A, unknown>, what: string): t.Type<A | false, A | false, unknown> =>
  new t.Type<A | false, A | false, unknown>(
    `${codec.name} | false`,
    (u): u is A | false => u === false || codec.is(u),
    (u, c) =>
      u === false
        ? t.success(false as const)
        : typeof u === 'object' && u !== null && !Array.isArray(u)
          ? codec.validate(u, c)
          : t.failure(u, c, `expected ${what} or false, got ${show(u)}`),
    t.identity,
  );

/*
 * Shapes only: names and ranges are the Pub/Sub adapter's rules, checked with its own
 * messages (`validatePubSubOptions`) when a config with this queue is loaded.
 */
export const queueCodec = tagged<QueueConfig>('type', {
  store: struct('StoreQueue', { type: literal(['store']) }, {}),
  pubsub: struct(
    'PubSubQueue',
    { type: literal(['pubsub']), topic: string('a topic name'), subscription: string('a subscription name') },
    {
      projectId: string('a project id'),
      ackDeadlineSeconds: wholeNumber(0),
      deadLetter: objectOrFalse(
        struct(
          'DeadLetter',
          {},
          { topic: string('a topic name'), maxDeliveryAttempts: wholeNumber(0), subscription: string('a subscription name') },
        ),
        'an object { topic?, maxDeliveryAttempts?, subscription? }',
      ),
      retryPolicy: objectOrFalse(
        struct('RetryPolicy', {}, { minimumBackoffSeconds: wholeNumber(0), maximumBackoffSeconds: wholeNumber(0) }),
        'an object { minimumBackoffSeconds?, maximumBackoffSeconds? }',
      ),
      exactlyOnce: boolean,
      orderingKeys: boolean,
      apiEndpoint: string('"host:port" or a URL'),
      publishTimeoutMs: wholeNumber(0),
    },
  ),
});

const scheduleCodec = refine(
  struct(
    'Schedule',
    { table: tableName, dateColumn: columnName },
    { statusColumn: columnName, statuses: array(string('a status value'), { minLength: 1 }), processorColumn: columnName, dateColumnType },
  ),
  (s, c) =>
    s.statuses !== undefined && s.statusColumn === undefined
      ? [errorAt(c, ['statuses'], s.statuses, 'needs statusColumn (the column the statuses are read from)')]
      : [],
);

const targetCodec = struct('Target', { table: tableName, dateColumn: columnName }, { processorColumn: columnName, dateColumnType });

const commandCodec = new t.Type<string | string[], string | string[], unknown>(
  'Command',
  (u): u is string | string[] => typeof u === 'string' || Array.isArray(u),
  (u, c) => (typeof u === 'string' ? string('a command').validate(u, c) : array(string('a command word'), { minLength: 1 }).validate(u, c)),
  t.identity,
);

/** One input of a processor: `{ processor, lookbackDays }` (see core's `Dependency`). */
const dependencyCodec = struct('Dependency', { processor: processorName, lookbackDays: wholeNumber(0, MAX_DEPENDENCY_LOOKBACK_DAYS) }, {});

const processorFields = refine(
  struct(
    'Processor',
    { name: processorName, schedule: scheduleCodec, target: targetCodec },
    {
      policy: policyCodec,
      command: commandCodec,
      module: string('a module path'),
      run: func,
      env: record(matching(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), string('a value')),
      timeoutMs: wholeNumber(1),
      dependsOn: array(dependencyCodec),
    },
  ),
  (p, c) => {
    const ways = (['command', 'module', 'run'] as const).filter((k) => p[k] !== undefined);
    if (ways.length > 1)
      return [errorAt(c, [ways[1] as string], p[ways[1] as 'command'], `give one of command, module or run, not ${ways.join(' and ')}`)];
    if (p.command !== undefined) {
      const split = typeof p.command === 'string' ? splitCommand(p.command) : { ok: true as const, argv: p.command };
      if (!split.ok) return [errorAt(c, ['command'], p.command, split.problem)];
      const unknown = unknownPlaceholders(split.argv);
      if (unknown.length > 0)
        return [errorAt(c, ['command'], p.command, `unknown placeholder ${unknown.join(', ')} (known: {date}, {processor})`)];
    }
    return [];
  },
);

/** A processor without a `policy` gets core's defaults, so every later reader sees a full `GapPolicy`. */
const processorCodec = new t.Type<unknown, unknown, unknown>(
  'Processor',
  processorFields.is,
  (u, c) => {
    const r = processorFields.validate(u, c);
    if (r._tag === 'Left') return r;
    const p = r.right as { readonly policy?: unknown };
    return t.success(p.policy === undefined ? { ...p, policy: DEFAULT_POLICY } : p);
  },
  t.identity,
);

const workerCodec = struct(
  'Worker',
  {},
  {
    concurrency: wholeNumber(1, 64),
    pollIntervalMs: wholeNumber(10),
    leaseMs: wholeNumber(1000),
    relayIntervalMs: wholeNumber(100),
    sweepIntervalMs: wholeNumber(100),
    backoff: struct('Backoff', { baseMs: wholeNumber(0), maxMs: wholeNumber(0) }, {}),
  },
);

/** An IANA zone the runtime knows: the zone `today`, `yesterday` and `-N` are counted in. */
const timeZoneCodec: t.Type<string, string, unknown> = refine(string('an IANA time zone name, e.g. "UTC" or "America/New_York"'), (z, c) =>
  isValidTimeZone(z)
    ? []
    : [errorAt(c, [], z, `unknown time zone ${JSON.stringify(z)} (expected an IANA name, e.g. "UTC" or "America/New_York")`)],
);

/** Alert channels are the alerts package's own config (it knows its secrets rules); its paths are kept. */
const alertsCodec = foreign<readonly ChannelConfig[]>('alerts', (u) => decodeAlertsConfig(u, 'alerts'));

interface DecodedConfig {
  readonly store: StoreConfig;
  readonly queue?: QueueConfig;
  readonly processors: readonly ResolvedProcessor[];
  readonly worker?: WorkerConfig;
  readonly alerts?: readonly ChannelConfig[];
  readonly alertDeadlineMs?: number;
  readonly timeZone?: string;
}

/** The whole config. Processors are resolved (policy filled in); names must be unique. */
export const configCodec: t.Type<DecodedConfig, DecodedConfig, unknown> = refine(
  struct(
    'SmartBackfillConfig',
    { store: storeCodec, processors: array(processorCodec as t.Decoder<unknown, unknown>, { minLength: 1 }) },
    // A deadline below 100 ms would fail every delivery; above 10 minutes it would hold a run as a hung webhook did.
    { queue: queueCodec, worker: workerCodec, alerts: alertsCodec, alertDeadlineMs: wholeNumber(100, 600_000), timeZone: timeZoneCodec },
  ) as unknown as t.Type<DecodedConfig, DecodedConfig, unknown>,
  (cfg, c) => {
    const seen = new Map<string, number>();
    const errors: t.Errors = [];
    cfg.processors.forEach((p, i) => {
      const first = seen.get(p.name);
      if (first !== undefined)
        errors.push(errorAt(c, ['processors', String(i), 'name'], p.name, `duplicate processor name (also processors[${first}])`));
      else seen.set(p.name, i);
    });
    if (errors.length > 0) return errors;
    // The graph's own rules (unknown names, self-edges, repeats, cycles), each at the processor that declares it.
    const graph = buildPipelineGraph(cfg.processors);
    if (graph._tag === 'Ok') return [];
    return graph.error.map((p) => {
      if (p._tag === 'Cycle') return errorAt(c, ['processors'], p.path, p.message);
      const i = cfg.processors.findIndex((x) => x.name === p.processor);
      const deps = cfg.processors[i]?.dependsOn ?? [];
      const j =
        'dependency' in p ? deps.findLastIndex((d) => d.processor === p.dependency) : deps.findIndex((d) => d.processor === p.processor);
      return errorAt(c, ['processors', String(i), 'dependsOn', String(j)], deps[j], p.message);
    });
  },
);
