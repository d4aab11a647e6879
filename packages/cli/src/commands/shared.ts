import { setTimeout as delay } from 'node:timers/promises';
import { isSmartBackfillError, type Clock } from '@smart-backfill/core';
import { CliError } from '../cli-error.js';
import { loadConfig } from '../config/load-config.js';
import { ExitCode } from '../exit-codes.js';
import type { ResolvedConfig } from '../config/config-types.js';
import type { ConfigOption } from '../options.js';
import type { Output } from '../output.js';
import { openRuntime, type Runtime, type RuntimeOptions } from '../runtime/runtime.js';
import { openStore, type StoreHandle } from '../runtime/open-store.js';
import { buildAlerterFactory } from '../runtime/alerters.js';
import { cliLogger } from '../runtime/cli-logger.js';

/** Load the config named by `--config` (or found in the working folder). */
export const configFrom = (out: Output, opts: ConfigOption): Promise<ResolvedConfig> => loadConfig(out.io.cwd, opts.config, out.io.env);

// A lock held past store.busyTimeoutMs: one line, exit 1, not a stack trace — also when the
// guard caught it (a run record that could not be written must not read as a clean run).
const lockFailure = (e: Error): CliError =>
  new CliError(e.message.replace(/^\[smart-backfill\] \[sqlite\] /, ''), ExitCode.error, { cause: e });

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, signal === undefined ? undefined : { signal }),
};

/**
 * Open only the store, read-only, for a command that reads and runs nothing (`plan`): no
 * processors and no guards, so the engine is not loaded (about a tenth of a second of start-up).
 */
export const withReadOnlyStore = async <T>(
  out: Output,
  opts: ConfigOption,
  body: (config: ResolvedConfig, store: StoreHandle) => Promise<T>,
): Promise<T> => {
  const config = await configFrom(out, opts);
  const store = await openStore(config, systemClock, { readOnly: true, notice: (line) => void out.io.stderr.write(`${line}\n`) });
  try {
    return await body(config, store);
  } catch (e) {
    if (e instanceof Error && isSmartBackfillError(e, 'contention') && !(e instanceof CliError)) throw lockFailure(e);
    throw e;
  } finally {
    await store.close();
  }
};

/** Open the store and processors for a command, run `body`, always close. */
export const withRuntime = async <T>(
  out: Output,
  opts: ConfigOption,
  body: (rt: Runtime) => Promise<T>,
  extra: RuntimeOptions & { readonly alerts?: boolean } = {},
): Promise<T> => {
  const config = await configFrom(out, opts);
  // Only commands that can escalate build the channels (and read their secrets from the environment).
  const alerterFor = extra.alerterFor ?? (extra.alerts === true ? await buildAlerterFactory(config.alerts, out) : () => undefined);
  const rt = await openRuntime(config, {
    onProcessorOutput: (chunk) => void out.io.stderr.write(chunk),
    logger: cliLogger(out),
    notice: (line) => void out.io.stderr.write(`${line}\n`),
    ...extra,
    alerterFor,
  });
  try {
    const result = await body(rt);
    const lost = rt.lockError?.();
    if (lost !== undefined) throw lockFailure(lost);
    return result;
  } catch (e) {
    // Any store's or the engine's (by code, not class): concurrent writers kept winning; one line, exit 1 (retry).
    if (e instanceof Error && isSmartBackfillError(e, 'contention') && !(e instanceof CliError)) throw lockFailure(e);
    throw e;
  } finally {
    await rt.close();
    const problem = rt.publishProblem?.();
    if (problem !== undefined) out.warn(`warning: ${problem}`);
  }
};

/** Maps (which JSON drops) as plain objects. */
export const jsonSafe = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      v instanceof Map ? Object.fromEntries(v) : v instanceof Error ? { name: v.name, message: v.message } : v,
    ),
  ) as unknown;
