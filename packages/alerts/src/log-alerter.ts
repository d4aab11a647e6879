import type { AlertNotice } from '@smart-backfill/core';
import { formatAlert } from './format-alert.js';
import type { NamedAlerter } from './named-alerter.js';

/** Anything with `write(string)`: `process.stderr`, a file stream, a test sink. */
export interface LineSink {
  write(chunk: string): unknown;
}

export type LogSeverity = 'ERROR' | 'WARNING' | 'NOTICE' | 'INFO';

export interface LogAlerterOptions {
  /** Channel name for fan-out reports. Default `log`. */
  readonly name?: string | undefined;
  /** Default `process.stderr`. */
  readonly stream?: LineSink | undefined;
  /** Merged into every line (e.g. `{ service: 'nba-analytics' }`); never overrides the alert's own fields. */
  readonly extra?: Readonly<Record<string, unknown>> | undefined;
  /** Severity of `healed` lines. Default `NOTICE`. */
  readonly healedSeverity?: 'NOTICE' | 'INFO' | undefined;
}

/** Severity in Cloud Logging's vocabulary: open problems are errors, a heal is worth noticing. */
export const severityOf = (kind: AlertNotice['kind'], healed: LogSeverity = 'NOTICE'): LogSeverity =>
  kind === 'healed' ? healed : 'ERROR';

/**
 * The JSON object the log alerter writes for a notice. Cloud Logging (Cloud Run,
 * GKE, Functions) reads one JSON object per line from stdout/stderr: `severity`
 * becomes the entry's severity, `message` its summary, `time` its timestamp,
 * `logging.googleapis.com/labels` its labels, and everything else lands in
 * `jsonPayload` where log-based metrics and alerts can filter on it.
 */
export const logEntry = (
  notice: AlertNotice,
  options: Pick<LogAlerterOptions, 'extra' | 'healedSeverity'> = {},
): Record<string, unknown> => {
  const f = formatAlert(notice);
  return {
    ...options.extra,
    severity: severityOf(notice.kind, options.healedSeverity),
    message: `${f.title}\n${f.text}`,
    time: f.fields.at ?? undefined,
    ...f.fields,
    'logging.googleapis.com/labels': { alert_key: notice.alertKey, processor: notice.processorName, kind: notice.kind },
  };
};

/**
 * One JSON line per notice on a stream (stderr by default): the simplest
 * channel, and with a log-based alert in Cloud Logging, a complete one.
 * Throws only if the stream's `write` throws.
 */
export const logAlerter = (options: LogAlerterOptions = {}): NamedAlerter => {
  const stream = options.stream ?? process.stderr;
  return {
    name: options.name ?? 'log',
    async send(notice) {
      stream.write(`${JSON.stringify(logEntry(notice, options))}\n`);
    },
  };
};
