/**
 * @smart-backfill/alerts — the channels that reach a person when a gap needs one
 * (adapters of the core `Alerter` port) and the words they use. Dedupe and the
 * opened → reminder → healed lifecycle belong to the engine (via the `AlertLog`
 * port); this package formats and delivers each notice it is handed.
 */
export { formatDateRanges, type FormatDateRangesOptions } from './date-ranges.js';
export { formatDuration, formatInstant } from './duration.js';
export { healCommands } from './heal-commands.js';
export { formatAlert, TEST_ALERT_KEY_PREFIX, type AlertFields, type FormattedAlert } from './format-alert.js';
export { slackMessage, escapeMrkdwn, type SlackMessage, type SlackBlock, type SlackText } from './slack-message.js';
export type { NamedAlerter } from './named-alerter.js';
export type { AlertsLogger } from './logger.js';
export { logAlerter, logEntry, severityOf, type LogAlerterOptions, type LineSink, type LogSeverity } from './log-alerter.js';
export { webhookAlerter, jsonPayload, type WebhookAlerter, type WebhookAlerterOptions } from './webhook-alerter.js';
export { type BackoffOptions } from './retry.js';
export type { Env, EnvRef, HeaderValue } from './env-secrets.js';
export { fanOutAlerter, type FanOutAlerter, type FanOutOptions, type FanOutReport, type ChannelFailure } from './fan-out-alerter.js';
export {
  AlertsConfig,
  ChannelConfigCodec,
  toConfigProblems,
  type ChannelConfig,
  type ChannelCommon,
  type LogChannelConfig,
  type WebhookChannelConfig,
} from './config-codec.js';
export { createAlertersFromConfig, decodeAlertsConfig, unsetSecretProblems, type CreateAlertersOptions } from './create-alerters.js';
export { sampleNotice, sendTestAlert, type SampleNoticeOptions } from './test-alert.js';
export { AlertsConfigError, AlertDeliveryError, formatConfigProblems, redact, type ConfigProblem } from './errors.js';
