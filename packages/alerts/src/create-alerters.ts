import {
  AlertsConfig as AlertsConfigCodec,
  toConfigProblems,
  type AlertsConfig,
  type ChannelConfig,
  type WebhookChannelConfig,
} from './config-codec.js';
import { AlertDeliveryError, AlertsConfigError, formatConfigProblems, type ConfigProblem } from './errors.js';
import type { Env } from './env-secrets.js';
import { fanOutAlerter, type FanOutAlerter, type FanOutOptions } from './fan-out-alerter.js';
import { logAlerter, type LineSink } from './log-alerter.js';
import type { AlertsLogger } from './logger.js';
import type { NamedAlerter } from './named-alerter.js';
import { buildWebhookAlerter } from './webhook-alerter.js';

export interface CreateAlertersOptions {
  /** Where `urlEnv` and header `env` references are read. Default `process.env`. */
  readonly env?: Env | undefined;
  /**
   * Only channels for this processor (or for all) are built. Leave out, or pass
   * `"*"`, to build every enabled channel (e.g. to check all secrets at startup).
   */
  readonly processorName?: string | undefined;
  /** Prefix of error paths. Default `alerts` (the key in the config file). */
  readonly path?: string | undefined;
  /** Streams for log channels. Default `process.stderr` / `process.stdout`. */
  readonly stderr?: LineSink | undefined;
  readonly stdout?: LineSink | undefined;
  /** Passed to webhook channels (retry warnings) and the fan-out (channel failures). */
  readonly logger?: AlertsLogger | undefined;
  /** For tests: the HTTP client and the timer of webhook channels. */
  readonly fetch?: typeof globalThis.fetch | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /**
   * How the channels are combined (deadline, `onError`, `rejectWhen`). Unlike a
   * bare `fanOutAlerter`, `rejectWhen` defaults to `all-failed` here: when no
   * channel got the notice, the guard must hear it, so its alert log keeps the
   * notice unsent and a later run sends it again. One working channel is enough
   * for `send` to resolve.
   */
  readonly fanOut?: Omit<FanOutOptions, 'logger' | 'problems'> | undefined;
  /**
   * `fail` (default): an unset environment variable is an `AlertsConfigError`
   * like any other mistake. `skip-channel`: the channel is kept as one that
   * always fails with that problem (so the notice is recorded as undelivered and
   * retried) and the problems are listed in `problems` — a run must not stop
   * because a secret is missing; every other mistake still throws.
   */
  readonly unsetSecrets?: 'fail' | 'skip-channel' | undefined;
}

/** A channel that cannot be built: every send fails with its problems. */
const brokenChannel = (name: string, problems: readonly ConfigProblem[]): NamedAlerter => ({
  name,
  send: () => Promise.reject(new AlertDeliveryError(name, `cannot deliver: ${formatConfigProblems(problems).split('\n').join('; ')}`)),
});

/**
 * Validate an `alerts` config (or an already-decoded one) and return every
 * problem at once, each with its path.
 */
export const decodeAlertsConfig = (
  input: unknown,
  path = 'alerts',
): { ok: true; value: AlertsConfig } | { ok: false; problems: readonly ConfigProblem[] } => {
  const r = AlertsConfigCodec.decode(input);
  return r._tag === 'Right' ? { ok: true, value: r.right } : { ok: false, problems: toConfigProblems(r.left, path) };
};

const appliesTo = (channel: ChannelConfig, processorName: string | undefined): boolean =>
  channel.enabled !== false &&
  (processorName === undefined ||
    processorName === '*' ||
    channel.processors === undefined ||
    channel.processors.includes('*') ||
    channel.processors.includes(processorName));

const buildChannel = (channel: WebhookChannelConfig, at: string, env: Env, options: CreateAlertersOptions): NamedAlerter =>
  buildWebhookAlerter(
    {
      name: channel.name ?? channel.type,
      urlEnv: channel.urlEnv,
      format: channel.type === 'slack' ? 'slack' : (channel.format ?? 'json'),
      headers: channel.headers,
      timeoutMs: channel.timeoutMs,
      maxRetries: channel.maxRetries,
      maxRetryAfterMs: channel.maxRetryAfterMs,
      backoff: channel.backoff,
      env,
      fetch: options.fetch,
      sleep: options.sleep,
      logger: options.logger,
    },
    at,
  );

/**
 * The environment variables an `alerts` config names that are unset, one problem
 * each with its path — also when other channels (or other parts of a larger
 * config) have mistakes, so every problem can be reported at once. A channel
 * that is itself malformed is skipped: decoding reports it.
 */
export const unsetSecretProblems = (
  config: unknown,
  options: { readonly env?: Env | undefined; readonly path?: string | undefined } = {},
): ConfigProblem[] => {
  if (!Array.isArray(config)) return [];
  const root = options.path ?? 'alerts';
  const env = options.env ?? process.env;
  return config.flatMap((raw: unknown, i) => {
    const one = decodeAlertsConfig([raw], root);
    const channel = one.ok ? one.value[0] : undefined;
    if (channel === undefined || channel.type === 'log' || channel.enabled === false) return [];
    try {
      buildChannel(channel, `${root}[${i}]`, env, {});
      return [];
    } catch (e) {
      if (!(e instanceof AlertsConfigError)) throw e;
      return e.problems.filter((p) => p.unsetEnv !== undefined);
    }
  });
};

/**
 * Build the alerter a guard uses for one processor: every enabled channel that
 * applies to it, behind a fan-out (so a failing channel never blocks the
 * others, and `send` rejects only when every channel failed — which the guard
 * catches and retries on a later run). Environment variables are read now, so a missing
 * secret fails at startup, not at the first alert.
 *
 * @throws AlertsConfigError listing every problem with its path, e.g.
 *   `alerts[1].urlEnv: environment variable SLACK_WEBHOOK_URL is not set`.
 */
export const createAlertersFromConfig = (config: unknown, options: CreateAlertersOptions = {}): FanOutAlerter => {
  const root = options.path ?? 'alerts';
  const env = options.env ?? process.env;
  const decoded = decodeAlertsConfig(config ?? [], root);
  if (!decoded.ok) throw new AlertsConfigError([...decoded.problems, ...unsetSecretProblems(config, { env, path: root })]);
  const problems: ConfigProblem[] = [];
  const skipped: ConfigProblem[] = [];
  const alerters: NamedAlerter[] = [];
  decoded.value.forEach((channel, i) => {
    if (!appliesTo(channel, options.processorName)) return;
    const at = `${root}[${i}]`;
    if (channel.type === 'log') {
      const stream = channel.stream === 'stdout' ? (options.stdout ?? process.stdout) : (options.stderr ?? process.stderr);
      alerters.push(logAlerter({ name: channel.name, stream, extra: channel.extra, healedSeverity: channel.healedSeverity }));
      return;
    }
    try {
      alerters.push(buildChannel(channel, at, env, options));
    } catch (e) {
      if (!(e instanceof AlertsConfigError)) throw e;
      if (options.unsetSecrets === 'skip-channel' && e.problems.every((p) => p.unsetEnv !== undefined)) {
        skipped.push(...e.problems);
        alerters.push(brokenChannel(channel.name ?? channel.type, e.problems));
      } else problems.push(...e.problems);
    }
  });
  if (problems.length > 0) throw new AlertsConfigError([...problems, ...skipped]);
  return fanOutAlerter(alerters, {
    rejectWhen: 'all-failed',
    ...options.fanOut,
    logger: options.logger,
    problems: skipped.map((p) => formatConfigProblems([p])),
  });
};
