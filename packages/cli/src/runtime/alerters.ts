import type { AlertsLogger, FanOutAlerter } from '@smart-backfill/alerts';
import type { Alerter } from '@smart-backfill/core';
import { badInput } from '../cli-error.js';
import type { AlertConfig } from '../config/config-types.js';
import type { Output } from '../output.js';

/** With no `alerts` in the config, escalations still reach someone: a log line on stderr. */
export const DEFAULT_ALERTS: readonly AlertConfig[] = [{ type: 'log' }];

type AlertsModule = typeof import('@smart-backfill/alerts');

const stripPrefix = (m: string): string => m.replace(/^\[smart-backfill\] \[alerts\] /, '');

/** Channels that cannot deliver (unset secrets), as the lines `run`, `worker` and `status` print. */
export const alertChannelProblems = async (alerts: readonly AlertConfig[] | undefined, out: Output): Promise<readonly string[]> => {
  const mod = await import('@smart-backfill/alerts');
  try {
    return mod.createAlertersFromConfig(alerts ?? DEFAULT_ALERTS, {
      env: out.io.env,
      stderr: out.io.stderr,
      stdout: out.io.stdout,
      unsetSecrets: 'skip-channel',
    }).problems;
  } catch (e) {
    if (e instanceof mod.AlertsConfigError) return e.problems.map((p) => mod.formatConfigProblems([p]));
    throw e;
  }
};

/** The configured channels for one processor (`*`: all) behind a fan-out; a config problem is exit 2 naming its path. */
const channelsWith = (
  mod: AlertsModule,
  alerts: readonly AlertConfig[] | undefined,
  out: Output,
  processorName: string,
  logger?: AlertsLogger,
  tolerant = false,
): FanOutAlerter => {
  try {
    return mod.createAlertersFromConfig(alerts ?? DEFAULT_ALERTS, {
      processorName,
      env: out.io.env,
      stderr: out.io.stderr,
      stdout: out.io.stdout,
      logger,
      ...(tolerant
        ? {
            unsetSecrets: 'skip-channel' as const,
            // One channel failing while another delivered is not the guard's business, but a person must hear of it.
            fanOut: {
              onError: (f: { readonly channel: string; readonly error: Error }, n: { readonly alertKey: string }) =>
                out.warn(
                  out.c.yellow(`warning: alert channel "${f.channel}" did not deliver ${n.alertKey}: ${stripPrefix(f.error.message)}`),
                ),
            },
          }
        : {}),
    });
  } catch (e) {
    if (e instanceof mod.AlertsConfigError)
      throw badInput(
        e.problems.map((p) => mod.formatConfigProblems([p])),
        e,
      );
    throw e;
  }
};

/**
 * The configured channels as one fan-out (what `alert test` sends through), never
 * the terminal shortcut of `buildAlerterFactory`: the point is to try the real channels.
 */
export const buildAlertChannels = async (
  alerts: readonly AlertConfig[] | undefined,
  out: Output,
  processorName: string,
  logger?: AlertsLogger,
): Promise<FanOutAlerter> => channelsWith(await import('@smart-backfill/alerts'), alerts, out, processorName, logger);

/**
 * The alerter for each processor, from the config's `alerts` channels
 * (built by `@smart-backfill/alerts`, loaded only when a command needs it).
 * Environment secrets are read now. A missing one does not stop the run (a
 * broken channel never blocks one): it is printed on stderr now, the channel
 * fails each notice (recorded as undelivered, retried by the worker) and the
 * guard names it in every run record. Any other config mistake is exit 2.
 */
export const buildAlerterFactory = async (
  alerts: readonly AlertConfig[] | undefined,
  out: Output,
): Promise<(processorName: string) => Alerter> => {
  const mod = await import('@smart-backfill/alerts');
  if (alerts === undefined && out.io.stderr.isTTY === true) {
    // Nothing configured and a person at the terminal: the notice as text, not a JSON log line.
    const alerter: Alerter = {
      send: async (n) => {
        const f = mod.formatAlert(n);
        const color = n.kind === 'healed' ? out.c.green : out.c.magenta;
        out.io.stderr.write(`${color(`ALERT (${n.kind})`)} ${out.c.bold(f.title)}\n  ${f.text.split('\n').join('\n  ')}\n`);
      },
    };
    return () => alerter;
  }
  const cache = new Map<string, Alerter>();
  const build = (processorName: string): Alerter => {
    let a = cache.get(processorName);
    if (a === undefined) {
      a = channelsWith(mod, alerts, out, processorName, undefined, true);
      cache.set(processorName, a);
    }
    return a;
  };
  // Fail (or warn) at startup, not at the first escalation.
  for (const p of channelsWith(mod, alerts, out, '*', undefined, true).problems)
    out.warn(out.c.red(`warning: alert channel cannot deliver: ${p} (alerts still reach the other channels; the worker retries)`));
  return build;
};
