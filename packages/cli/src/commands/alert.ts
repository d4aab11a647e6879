import type { AlertsLogger } from '@smart-backfill/alerts';
import { badInput } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { configOption, textOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import { buildAlertChannels } from '../runtime/alerters.js';
import { configFrom } from './shared.js';

interface AlertTestCommandOptions extends ConfigOption {
  /** Only this processor's channels. */
  readonly processor: string | undefined;
}

const alertTestOptions = (raw: RawOptions): AlertTestCommandOptions => ({ ...configOption(raw), processor: textOption(raw, 'processor') });

/**
 * `alert test [--processor P]`: send a sample escalation (its key starts with `test:`,
 * so every channel labels it "[TEST]") through the configured channels and report each.
 * Exit 0 when every channel delivered, 1 when one failed, 2 for a config problem
 * (a missing environment variable, an unknown processor, no channel at all).
 */
export const alertTestCommand = async (out: Output, raw: RawOptions): Promise<number> => {
  const opts = alertTestOptions(raw);
  const config = await configFrom(out, opts);
  const only = opts.processor;
  if (only !== undefined && !config.processors.some((p) => p.name === only)) {
    throw badInput(
      `--processor: unknown processor ${JSON.stringify(only)} (configured: ${config.processors.map((p) => p.name).join(', ')})`,
    );
  }
  // Retries take a while (backoff): say so as they happen, on stderr.
  const logger: AlertsLogger = {
    warn: (message, fields) => {
      if (fields?.['delayMs'] !== undefined)
        out.warn(out.c.dim(`${message} in ${String(fields['delayMs'])} ms (${String(fields['error'] ?? '')})`));
    },
    error: () => undefined,
  };
  const alerter = await buildAlertChannels(config.alerts, out, only ?? '*', logger);
  if (alerter.channels.length === 0) {
    throw badInput(`alerts: no enabled channel${only === undefined ? '' : ` for processor ${JSON.stringify(only)}`}; nothing to test`);
  }
  const { sendTestAlert, formatAlert } = await import('@smart-backfill/alerts');
  const processorName = only ?? config.processors[0]?.name;
  const { notice, report } = await sendTestAlert(alerter, { processorName });
  const failed = report.failed.map((f) => ({ channel: f.channel, error: f.error.message.replace(/^\[smart-backfill\] \[alerts\] /, '') }));
  if (out.json) {
    out.printJson({ notice, channels: alerter.channels, delivered: report.delivered, failed });
  } else {
    const c = out.c;
    const f = formatAlert(notice);
    out.line(c.bold(`test alert for ${notice.processorName} to ${alerter.channels.length} channel(s)`));
    out.line(`  ${f.title}`);
    for (const l of f.text.split('\n')) out.line(c.dim(`    ${l}`));
    for (const name of report.delivered) out.line(`  ${c.green(out.tty ? '✓' : 'ok')} ${name}: delivered`);
    for (const x of failed)
      out.line(`  ${c.red(out.tty ? '✗' : 'FAILED')} ${x.channel}: ${x.error.replace(`channel ${JSON.stringify(x.channel)}: `, '')}`);
    out.line(failed.length === 0 ? 'every channel delivered' : `${failed.length} of ${alerter.channels.length} channel(s) failed`);
  }
  return failed.length === 0 ? ExitCode.ok : ExitCode.error;
};
