import type { AlertNotice } from '@smart-backfill/core';
import { AlertDeliveryError, AlertsConfigError, redact, redactError, type ConfigProblem } from './errors.js';
import { resolveHeaders, resolveUrl, type Env, type HeaderValue } from './env-secrets.js';
import { formatAlert } from './format-alert.js';
import type { AlertsLogger } from './logger.js';
import type { NamedAlerter } from './named-alerter.js';
import { backoffDelay, isRetryableStatus, parseRetryAfter, type BackoffOptions } from './retry.js';
import { slackMessage } from './slack-message.js';

export interface WebhookAlerterOptions {
  /** Channel name used in errors and reports. Default `slack` or `webhook` after `format`. */
  readonly name?: string | undefined;
  /** The URL itself (from code, e.g. a secret manager). Prefer `urlEnv` in anything written to a file. */
  readonly url?: string | undefined;
  /** Name of the environment variable that holds the URL, e.g. `SLACK_WEBHOOK_URL`. */
  readonly urlEnv?: string | undefined;
  /** `json` (default): the formatted fields plus `title` and `text`. `slack`: `{ text, blocks }`. */
  readonly format?: 'json' | 'slack' | undefined;
  /** Extra headers; secret values as `{ env: 'ALERT_TOKEN', prefix: 'Bearer ' }`. */
  readonly headers?: Readonly<Record<string, HeaderValue>> | undefined;
  /** Per attempt, including reading the answer. Default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** Retries after the first attempt, on 5xx, 429, timeouts and network errors. Default 3. */
  readonly maxRetries?: number | undefined;
  readonly backoff?: BackoffOptions | undefined;
  /** A server's `Retry-After` is honoured up to this. Default 60 s. */
  readonly maxRetryAfterMs?: number | undefined;
  /** Where `urlEnv` and header `env` references are read. Default `process.env`. */
  readonly env?: Env | undefined;
  /** Default the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch | undefined;
  /** Default a timer. Tests inject one to check delays without waiting. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Jitter source in [0, 1). Default `Math.random`. */
  readonly random?: (() => number) | undefined;
  /** For `Retry-After` dates. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** Told about each failed attempt that will be retried. */
  readonly logger?: AlertsLogger | undefined;
}

export interface WebhookAlerter extends NamedAlerter {
  /** Where it posts, without secrets: origin only, and the variable it came from. */
  readonly target: string;
  /** The request body it would send for a notice (for previews and tests). */
  payload(notice: AlertNotice): unknown;
}

/** Body of the `json` format: stable snake_case fields plus the readable title and text. */
export const jsonPayload = (notice: AlertNotice): Record<string, unknown> => {
  const f = formatAlert(notice);
  return { schema: 'smart-backfill.alert/v1', title: f.title, text: f.text, ...f.fields };
};

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const whole = (v: number | undefined, fallback: number, min: number, path: string, problems: ConfigProblem[]): number => {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < min) problems.push({ path, message: `must be a whole number >= ${min}, got ${String(v)}` });
  return v;
};

const SNIPPET = 300;

/** At most a few hundred characters of an error answer, which often says what is wrong (`invalid_payload`). */
const answerSnippet = async (res: Response): Promise<string> => {
  try {
    const body = (await res.text()).trim().replace(/\s+/g, ' ');
    return body === '' ? '' : `: ${body.length > SNIPPET ? `${body.slice(0, SNIPPET)}…` : body}`;
  } catch {
    return '';
  }
};

interface Failure {
  readonly message: string;
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
  /** The caller stopped waiting (its signal): no further attempt. */
  readonly cancelled?: boolean;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** `sleep(ms)`, cut short (rejecting) when `stop` aborts. */
const sleepUnless = (sleep: (ms: number) => Promise<void>, ms: number, stop: AbortSignal | undefined): Promise<void> => {
  if (stop === undefined) return sleep(ms);
  if (stop.aborted) return Promise.reject(stop.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(stop.reason as Error);
    stop.addEventListener('abort', onAbort, { once: true });
    sleep(ms).then(
      () => {
        stop.removeEventListener('abort', onAbort);
        resolve();
      },
      (e: unknown) => {
        stop.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
};

/**
 * POST each notice as JSON to a webhook — a generic endpoint or a Slack
 * incoming webhook (`format: 'slack'`). Each attempt has a timeout; 5xx, 429,
 * timeouts and network errors are retried with exponential backoff and jitter
 * (a `Retry-After` answer sets the wait, capped); other 4xx and redirects fail at
 * once. Secrets come from the environment and are scrubbed from every error.
 *
 * Throws `AlertsConfigError` at creation when options are wrong (no URL, an
 * unset variable, a bad number); `send` rejects with `AlertDeliveryError`.
 */
export const webhookAlerter = (options: WebhookAlerterOptions): WebhookAlerter => buildWebhookAlerter(options, undefined);

/** `webhookAlerter`, with config problems reported under `path` (`alerts[1]`) instead of the channel name. */
export const buildWebhookAlerter = (options: WebhookAlerterOptions, path: string | undefined): WebhookAlerter => {
  const format = options.format ?? 'json';
  const name = options.name ?? (format === 'slack' ? 'slack' : 'webhook');
  const at = path ?? name;
  const env = options.env ?? process.env;
  const problems: ConfigProblem[] = [];
  if (format !== 'json' && format !== 'slack')
    problems.push({ path: 'format', message: `must be "json" or "slack", got ${JSON.stringify(format)}` });
  const timeoutMs = whole(options.timeoutMs, 10_000, 1, 'timeoutMs', problems);
  const maxRetries = whole(options.maxRetries, 3, 0, 'maxRetries', problems);
  const maxRetryAfterMs = whole(options.maxRetryAfterMs, 60_000, 0, 'maxRetryAfterMs', problems);
  const url = resolveUrl(options, env, '');
  const headers = resolveHeaders(options.headers, env, '');
  problems.push(...url.problems, ...headers.problems);
  if (problems.length > 0 || url.value === undefined || headers.value === undefined)
    throw new AlertsConfigError(problems.map((p) => ({ ...p, path: `${at}.${p.path}` })));

  const secrets = [...url.secrets, ...headers.secrets];
  const endpoint = url.value.href;
  const target = `${url.value.origin}${options.urlEnv !== undefined ? ` (URL from $${options.urlEnv})` : ''}`;
  const doFetch = options.fetch ?? globalThis.fetch;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const requestHeaders = { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'smart-backfill-alerts', ...headers.value };
  const payload = (notice: AlertNotice): unknown => (format === 'slack' ? slackMessage(notice) : jsonPayload(notice));

  const attempt = async (body: string, stop: AbortSignal | undefined): Promise<Failure | undefined> => {
    let res: Response;
    try {
      // Redirects are not followed: a POST turned into a GET would drop the alert silently.
      res = await doFetch(endpoint, {
        method: 'POST',
        headers: requestHeaders,
        body,
        redirect: 'manual',
        signal: stop === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]),
      });
    } catch (e) {
      if (stop?.aborted === true) return { message: `stopped: ${errorText(stop.reason)}`, retryable: true, cancelled: true };
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      const why = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      return {
        message: timedOut ? `no answer from ${target} within ${timeoutMs} ms` : `could not reach ${target}: ${redact(why, secrets)}`,
        retryable: true,
        cause: redactError(e, secrets),
      };
    }
    if (res.ok) {
      await res.arrayBuffer().catch(() => undefined); // free the connection
      return undefined;
    }
    const snippet = redact(await answerSnippet(res), secrets);
    if (isRetryableStatus(res.status)) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now());
      return {
        message: `${target} answered HTTP ${res.status}${snippet}`,
        retryable: true,
        status: res.status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    const hint =
      res.status >= 300 && res.status < 400
        ? ' (redirects are not followed; configure the final URL)'
        : res.status === 404 || res.status === 410
          ? ' (is the webhook URL still valid?)'
          : res.status === 401 || res.status === 403
            ? ' (check the credentials in the configured headers)'
            : '';
    return { message: `${target} answered HTTP ${res.status}${snippet}${hint}`, retryable: false, status: res.status };
  };

  return {
    name,
    target,
    payload,
    async send(notice, sendOptions) {
      const stop = sendOptions?.signal;
      const body = JSON.stringify(payload(notice));
      for (let n = 1; ; n++) {
        const failure = await attempt(body, stop);
        if (failure === undefined) return;
        if (!failure.retryable || n > maxRetries || failure.cancelled === true) {
          throw new AlertDeliveryError(name, n > 1 ? `${failure.message} (gave up after ${n} attempts)` : failure.message, {
            status: failure.status,
            attempts: n,
            retryable: failure.retryable,
            cause: failure.cause,
          });
        }
        const delayMs =
          failure.retryAfterMs !== undefined ? Math.min(failure.retryAfterMs, maxRetryAfterMs) : backoffDelay(n, options.backoff, random);
        options.logger?.warn(`${name}: alert delivery failed, retrying`, {
          channel: name,
          attempt: n,
          status: failure.status,
          delayMs,
          error: failure.message,
        });
        try {
          await sleepUnless(sleep, delayMs, stop);
        } catch (e) {
          throw new AlertDeliveryError(name, `${failure.message}; stopped before retrying: ${errorText(e)}`, {
            status: failure.status,
            attempts: n,
            retryable: true,
          });
        }
      }
    },
  };
};
