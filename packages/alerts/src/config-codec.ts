import * as t from 'io-ts';
import type { ConfigProblem } from './errors.js';
import { SECRET_HEADER, type EnvRef, type HeaderValue } from './env-secrets.js';

/*
 * The alerts config is decoded by hand-rolled io-ts types rather than
 * `t.union`/`t.intersection`: a union reports every branch's failure, which
 * buries "alerts[1].urlEnv is missing" under noise. Each type below fails once,
 * at the right path, with a sentence a person can act on.
 */

export interface ChannelCommon {
  /** Shown in reports and errors. Default: the type (`log`, `webhook`, `slack`). */
  readonly name?: string;
  /** Processors this channel alerts for; leave out for all. `"*"` also means all. */
  readonly processors?: readonly string[];
  /** `false` keeps the entry but sends nothing. Default `true`. */
  readonly enabled?: boolean;
}

export interface LogChannelConfig extends ChannelCommon {
  readonly type: 'log';
  /** Default `stderr`. */
  readonly stream?: 'stderr' | 'stdout';
  /** Fields added to every line (`{ "service": "nba-analytics" }`). */
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly healedSeverity?: 'NOTICE' | 'INFO';
}

export interface WebhookChannelConfig extends ChannelCommon {
  /** `slack` is a webhook with `format: "slack"`. */
  readonly type: 'webhook' | 'slack';
  /** The environment variable holding the URL. A URL itself is refused: it is a secret. */
  readonly urlEnv: string;
  readonly format?: 'json' | 'slack';
  /** Plain values for harmless headers; `{ "env": "ALERT_TOKEN", "prefix": "Bearer " }` for secrets. */
  readonly headers?: Readonly<Record<string, HeaderValue>>;
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
  readonly maxRetryAfterMs?: number;
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
}

export type ChannelConfig = LogChannelConfig | WebhookChannelConfig;
export type AlertsConfig = readonly ChannelConfig[];

const show = (u: unknown): string => {
  if (u === undefined) return 'nothing';
  if (u === null) return 'null';
  if (Array.isArray(u)) return 'a list';
  if (typeof u === 'object') return 'an object';
  if (typeof u === 'string') return JSON.stringify(u.length > 60 ? `${u.slice(0, 57)}...` : u);
  return String(u);
};

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/** A leaf type: a predicate and the phrase naming what it wants. */
const leaf = <A>(name: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c, `expected ${name}, got ${show(u)}`)), t.identity);

const NonEmptyString = leaf('a non-empty string', (u): u is string => typeof u === 'string' && u.trim() !== '');
const EnvName = leaf(
  'an environment variable name (letters, digits and _, e.g. SLACK_WEBHOOK_URL)',
  (u): u is string => typeof u === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(u),
);
const Bool = leaf('true or false', (u): u is boolean => typeof u === 'boolean');
const wholeAtLeast = (min: number): t.Type<number, number, unknown> =>
  leaf(`a whole number >= ${min}`, (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min);
const oneOf = <L extends string>(...values: readonly L[]): t.Type<L, L, unknown> =>
  leaf(
    values.map((v) => JSON.stringify(v)).join(' or '),
    (u): u is L => typeof u === 'string' && (values as readonly string[]).includes(u),
  );
const AnyRecord = leaf('an object', isRecord);

type Props = Readonly<Record<string, t.Mixed>>;

/**
 * An object with known fields only: a misspelt key (`urlenv`) is an error, not
 * silently ignored. `forbidden` keys get their own message (why, and what instead).
 */
const closed = <A>(
  name: string,
  required: Props,
  optional: Props,
  forbidden: Readonly<Record<string, string>> = {},
): t.Type<A, A, unknown> => {
  const known = [...Object.keys(required), ...Object.keys(optional)];
  return new t.Type<A, A, unknown>(
    name,
    (u): u is A => isRecord(u),
    (u, c) => {
      if (!isRecord(u)) return t.failure(u, c, `expected ${name}, got ${show(u)}`);
      const errors: t.ValidationError[] = [];
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(u)) {
        const ctx = t.appendContext(c, key, t.unknown, u[key]);
        if (key in forbidden) errors.push({ value: u[key], context: ctx, message: forbidden[key]! });
        else if (!known.includes(key)) errors.push({ value: u[key], context: ctx, message: `unknown field (known: ${known.join(', ')})` });
      }
      for (const [key, codec] of [...Object.entries(required), ...Object.entries(optional)]) {
        const value = u[key];
        const ctx = t.appendContext(c, key, codec, value);
        if (value === undefined) {
          if (key in required) errors.push({ value, context: ctx, message: `is required (expected ${codec.name})` });
          continue;
        }
        const r = codec.validate(value, ctx);
        if (r._tag === 'Left') errors.push(...r.left);
        else out[key] = r.right;
      }
      return errors.length > 0 ? t.failures(errors) : t.success(out as A);
    },
    t.identity,
  );
};

const EnvRefCodec = closed<EnvRef>('{ "env": "VAR_NAME", "prefix"?: "..." }', { env: EnvName }, { prefix: t.string });

/** Header name → value; plain text is refused for headers that usually carry credentials. */
const Headers = new t.Type<Record<string, HeaderValue>, Record<string, HeaderValue>, unknown>(
  'headers',
  (u): u is Record<string, HeaderValue> => isRecord(u),
  (u, c) => {
    if (!isRecord(u)) return t.failure(u, c, `expected an object of header names to values, got ${show(u)}`);
    const errors: t.ValidationError[] = [];
    const out: Record<string, HeaderValue> = {};
    for (const [key, value] of Object.entries(u)) {
      const ctx = t.appendContext(c, key, t.unknown, value);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) errors.push({ value, context: ctx, message: 'is not a valid HTTP header name' });
      else if (typeof value === 'string') {
        if (SECRET_HEADER.test(key)) {
          errors.push({
            value: '[redacted]',
            context: ctx,
            message: `looks like a credential; do not write it in the config file — use { "env": "VAR_NAME"${/authorization/i.test(key) ? ', "prefix": "Bearer "' : ''} } and set that variable`,
          });
        } else out[key] = value;
      } else {
        const r = EnvRefCodec.validate(value, ctx);
        if (r._tag === 'Left') errors.push(...r.left);
        else out[key] = r.right;
      }
    }
    return errors.length > 0 ? t.failures(errors) : t.success(out);
  },
  t.identity,
);

const Processors = new t.Type<readonly string[], readonly string[], unknown>(
  'a non-empty list of processor names',
  (u): u is readonly string[] => Array.isArray(u),
  (u, c) => {
    if (!Array.isArray(u)) return t.failure(u, c, `expected a list of processor names, got ${show(u)}`);
    if (u.length === 0)
      return t.failure(u, c, 'lists no processor, so the channel would never alert (leave "processors" out to alert for all)');
    const errors: t.ValidationError[] = [];
    u.forEach((p, i) => {
      const r = NonEmptyString.validate(p, t.appendContext(c, String(i), NonEmptyString, p));
      if (r._tag === 'Left') errors.push(...r.left);
    });
    return errors.length > 0 ? t.failures(errors) : t.success(u as string[]);
  },
  t.identity,
);

const common = { name: NonEmptyString, processors: Processors, enabled: Bool };

const LogChannel = closed<LogChannelConfig>(
  'a log channel',
  { type: t.literal('log') },
  { ...common, stream: oneOf('stderr', 'stdout'), extra: AnyRecord, healedSeverity: oneOf('NOTICE', 'INFO') },
);

const URL_IN_FILE =
  'a webhook URL is a secret and does not belong in the config file: put it in an environment variable and name that variable in "urlEnv"';

const webhookChannel = (type: 'webhook' | 'slack'): t.Type<WebhookChannelConfig, WebhookChannelConfig, unknown> =>
  closed<WebhookChannelConfig>(
    `a ${type} channel`,
    { type: t.literal(type), urlEnv: EnvName },
    {
      ...common,
      format:
        type === 'slack'
          ? leaf('"slack" (a slack channel always posts Slack messages; use type "webhook" for JSON)', (u): u is 'slack' => u === 'slack')
          : oneOf('json', 'slack'),
      headers: Headers,
      timeoutMs: wholeAtLeast(1),
      maxRetries: wholeAtLeast(0),
      maxRetryAfterMs: wholeAtLeast(0),
      backoff: closed<{ baseMs?: number; maxMs?: number }>(
        '{ "baseMs"?: number, "maxMs"?: number }',
        {},
        { baseMs: wholeAtLeast(1), maxMs: wholeAtLeast(1) },
      ),
    },
    { url: URL_IN_FILE, webhookUrl: URL_IN_FILE },
  );

const CHANNELS: Readonly<Record<ChannelConfig['type'], t.Decoder<unknown, ChannelConfig>>> = {
  log: LogChannel,
  webhook: webhookChannel('webhook'),
  slack: webhookChannel('slack'),
};
const TYPES = Object.keys(CHANNELS) as ChannelConfig['type'][];

/** One channel: dispatches on `type` so errors speak about that channel type only. */
export const ChannelConfigCodec = new t.Type<ChannelConfig, ChannelConfig, unknown>(
  'an alert channel',
  (u): u is ChannelConfig => isRecord(u) && typeof u['type'] === 'string' && u['type'] in CHANNELS,
  (u, c) => {
    if (!isRecord(u))
      return t.failure(u, c, `expected an alert channel object like { "type": "slack", "urlEnv": "SLACK_WEBHOOK_URL" }, got ${show(u)}`);
    const type = u['type'];
    if (typeof type !== 'string' || !(type in CHANNELS)) {
      return t.failure(
        type,
        t.appendContext(c, 'type', t.unknown, type),
        `expected one of ${TYPES.map((x) => JSON.stringify(x)).join(', ')}, got ${show(type)}`,
      );
    }
    return CHANNELS[type as ChannelConfig['type']].validate(u, c);
  },
  t.identity,
);

/**
 * The `alerts` section of a smart-backfill config: a list of channels, each for
 * all processors or for those it lists. Secrets are never written in it — only
 * the names of the environment variables that hold them.
 *
 * ```json
 * "alerts": [
 *   { "type": "log" },
 *   { "type": "slack", "urlEnv": "SLACK_WEBHOOK_URL", "processors": ["player_game_summary"] },
 *   { "type": "webhook", "urlEnv": "ONCALL_WEBHOOK_URL",
 *     "headers": { "Authorization": { "env": "ALERT_TOKEN", "prefix": "Bearer " } } }
 * ]
 * ```
 */
export const AlertsConfig: t.Type<AlertsConfig, AlertsConfig, unknown> = t.readonlyArray(ChannelConfigCodec, 'a list of alert channels');

/**
 * io-ts errors as `{ path, message }`, paths written the way a person reads a
 * config file: `alerts[1].headers.Authorization.env`. Works for errors of any
 * io-ts type (not only ours): array steps become `[i]`, object steps `.key`,
 * and union/intersection steps, which do not move into the value, are skipped.
 */
export const toConfigProblems = (errors: t.Errors, root = 'alerts'): ConfigProblem[] => {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const e of errors) {
    let path = root;
    for (let i = 1; i < e.context.length; i++) {
      const parent = e.context[i - 1]!.type;
      const key = e.context[i]!.key;
      if (parent instanceof t.UnionType || parent instanceof t.IntersectionType || parent instanceof t.RefinementType) continue;
      path +=
        parent instanceof t.ArrayType || parent instanceof t.ReadonlyArrayType || parent instanceof t.TupleType || /^\d+$/.test(key)
          ? `[${key}]`
          : path === ''
            ? key
            : `.${key}`;
    }
    const last = e.context[e.context.length - 1];
    const message = e.message ?? `expected ${last?.type.name ?? 'something else'}, got ${show(e.value)}`;
    const id = `${path}\u0000${message}`;
    if (!seen.has(id)) {
      seen.add(id);
      out.push({ path, message });
    }
  }
  return out;
};
