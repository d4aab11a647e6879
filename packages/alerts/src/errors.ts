import { SmartBackfillError } from '@smart-backfill/core';

/** Prefix of every message this package writes. */
export const PREFIX = '[smart-backfill] [alerts]';

/** A problem in alert configuration, with the path of the offending field. */
export interface ConfigProblem {
  /** `alerts[1].urlEnv` */
  readonly path: string;
  /** `environment variable SLACK_WEBHOOK_URL is not set` */
  readonly message: string;
  /** Set when the problem is only an unset environment variable (its name): a channel that can be skipped, not a wrong file. */
  readonly unsetEnv?: string | undefined;
}

/** Every problem found in an alerts config (or channel options), one per line: `invalid_config`, `field` the first problem's path. */
export class AlertsConfigError extends SmartBackfillError {
  override readonly name: string = 'AlertsConfigError';
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[], options?: ErrorOptions) {
    super(
      'invalid_config',
      problems.length === 1
        ? `${PREFIX} invalid alert config: ${formatConfigProblems(problems)}`
        : `${PREFIX} invalid alert config:\n  ${formatConfigProblems(problems).split('\n').join('\n  ')}`,
      { cause: options?.cause, field: problems[0]?.path === '' ? undefined : problems[0]?.path },
    );
    this.problems = problems;
  }
}

/** `path: message`, one per line. */
export const formatConfigProblems = (problems: readonly ConfigProblem[]): string =>
  problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('\n');

/**
 * A channel failed to deliver a notice. The message names the channel and, for
 * HTTP, the status — never the webhook URL or header secrets: those are
 * redacted from the message and from the copied `cause`.
 */
export class AlertDeliveryError extends SmartBackfillError {
  override readonly name: string = 'AlertDeliveryError';
  /** The channel's name (`slack`, `webhook`, `log`, or the configured `name`). */
  readonly channel: string;
  /** Last HTTP status, if the server answered at all. */
  readonly status: number | undefined;
  /** Requests made, retries included. */
  readonly attempts: number;
  /** Whether a later attempt (e.g. the next run) might succeed. */
  readonly retryable: boolean;
  constructor(
    channel: string,
    message: string,
    details: {
      readonly status?: number | undefined;
      readonly attempts?: number;
      readonly retryable?: boolean;
      readonly cause?: unknown;
    } = {},
  ) {
    // A 4xx that retrying cannot fix is the channel's settings (URL, token); anything else is the channel being down.
    const refused = details.retryable !== true && details.status !== undefined && details.status >= 400 && details.status < 500;
    super(refused ? 'invalid_config' : 'unavailable', `${PREFIX} channel "${channel}": ${message}`, { cause: details.cause });
    this.channel = channel;
    this.status = details.status;
    this.attempts = details.attempts ?? 1;
    this.retryable = details.retryable ?? false;
  }
}

/**
 * Replace every occurrence of each secret in `text` by `[redacted]`. Longer
 * secrets go first so a secret that contains another is removed whole.
 */
export const redact = (text: string, secrets: readonly string[]): string => {
  let out = text;
  for (const s of [...secrets].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join('[redacted]');
  }
  return out;
};

/**
 * A copy of an error safe to keep as a `cause`: same name, code and (redacted)
 * message, with a redacted copy of its own cause. The original is dropped
 * because libraries may hold the request URL in fields we cannot scrub.
 */
export const redactError = (error: unknown, secrets: readonly string[], depth = 0): Error => {
  if (!(error instanceof Error)) return new Error(redact(String(error), secrets));
  const copy = new Error(
    redact(error.message, secrets),
    depth < 3 && error.cause !== undefined ? { cause: redactError(error.cause, secrets, depth + 1) } : undefined,
  );
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') (copy as Error & { code?: unknown }).code = code;
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
};
