import type { Alerter, Clock } from '@smart-backfill/core';
import type { GuardedProcessor, Logger, Processor, ProcessorRegistry, UpstreamInput } from '@smart-backfill/engine';
import { badInput } from '../cli-error.js';
import type { ResolvedConfig, ResolvedProcessor } from '../config/config-types.js';
import { commandProcessor } from './command-processor.js';
import { functionProcessor, moduleProcessor } from './module-processor.js';
import { openStore, type StoreHandle } from './open-store.js';

export interface RuntimeOptions {
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
  /** Where a processor's escalations go (the CLI builds it from `config.alerts`). */
  readonly alerterFor?: ((processorName: string) => Alerter | undefined) | undefined;
  /** Replace configured processors by name (the demo and tests). */
  readonly processors?: ReadonlyMap<string, Processor> | undefined;
  /** Receives output of command processors. */
  readonly onProcessorOutput?: ((chunk: string, stream: 'stdout' | 'stderr') => void) | undefined;
  readonly ids?: (() => string) | undefined;
  /** A dry run: the store opens read-only and nothing is created or migrated. */
  readonly readOnly?: boolean | undefined;
  /** Where to say that the command waits for another process's lock. */
  readonly notice?: ((line: string) => void) | undefined;
}

/** An opened store plus the configured processors, guarded. */
export interface Runtime extends StoreHandle {
  readonly config: ResolvedConfig;
  readonly clock: Clock;
  /** The log the guards write to (the worker and its relay and sweeper use it too). */
  readonly logger: Logger;
  /** The processor's config, or a bad-input error naming the configured ones. */
  processorConfig(name: string): ResolvedProcessor;
  /** The processor wrapped by the guard (built once per name). */
  guard(name: string): Promise<GuardedProcessor>;
  /**
   * A guard for dry runs (`check`): the same reads and decision, around a stand-in
   * processor, so checking never loads or runs the user's module or command.
   */
  checker(name: string): GuardedProcessor;
  /** Every configured processor, guarded: the worker's allowlist. */
  registry(): Promise<ProcessorRegistry>;
}

const notRunnable = (p: ResolvedProcessor): Processor => ({
  name: p.name,
  run: () => {
    throw new Error(`processor "${p.name}" has no command, module or run in the config; it can be checked but not run`);
  },
});

/** Find a configured processor; the name is shown quoted (it may be anything a user typed). */
export const findProcessor = (config: ResolvedConfig, name: string): ResolvedProcessor => {
  const p = config.processors.find((x) => x.name === name);
  if (p === undefined) {
    const known = config.processors.map((x) => x.name).join(', ');
    throw badInput(`unknown processor ${JSON.stringify(name)} (configured: ${known})`);
  }
  return p;
};

export const openRuntime = async (config: ResolvedConfig, opts: RuntimeOptions = {}): Promise<Runtime> => {
  const engine = await import('@smart-backfill/engine');
  const clock = opts.clock ?? engine.systemClock;
  const store = await openStore(config, clock, { readOnly: opts.readOnly, notice: opts.notice });
  const inner = new Map<string, Promise<Processor>>();
  const guards = new Map<string, Promise<GuardedProcessor>>();
  const ctx = { store: config.store, baseDir: config.baseDir };

  const processorFor = (p: ResolvedProcessor): Promise<Processor> => {
    let pr = inner.get(p.name);
    if (pr === undefined) {
      const override = opts.processors?.get(p.name);
      pr =
        override !== undefined
          ? Promise.resolve(override)
          : p.command !== undefined
            ? Promise.resolve(
                commandProcessor({
                  name: p.name,
                  command: p.command,
                  cwd: config.baseDir,
                  env: p.env,
                  timeoutMs: p.timeoutMs,
                  onOutput: opts.onProcessorOutput,
                }),
              )
            : p.module !== undefined
              ? moduleProcessor(p.name, p.module, ctx)
              : p.run !== undefined
                ? Promise.resolve(functionProcessor(p.name, p.run, ctx))
                : Promise.resolve(notRunnable(p));
      inner.set(p.name, pr);
    }
    return pr;
  };

  // Each input judged by its own tables and policy (the config refused unknown names and cycles),
  // and with its own inputs one level up (enough for the wait rule), so a date of it that reads
  // a missing one is waited for, not queued.
  const inputsOf = (p: ResolvedProcessor, depth: number): UpstreamInput[] =>
    (p.dependsOn ?? []).map((d) => {
      const u = findProcessor(config, d.processor);
      const window = store.windowFor(u);
      return { processor: u.name, lookbackDays: d.lookbackDays, window, policy: u.policy, inputs: depth > 0 ? inputsOf(u, depth - 1) : [] };
    });

  const wrap = (p: ResolvedProcessor, proc: Processor): GuardedProcessor =>
    engine.withSmartBackfill(proc, {
      window: store.windowFor(p),
      tracker: store.tracker,
      queue: store.queue,
      runLog: store.runLog,
      alertLog: store.alertLog,
      clock,
      policy: p.policy,
      alerter: opts.alerterFor?.(p.name),
      alertDeadlineMs: config.alertDeadlineMs,
      logger: opts.logger,
      ids: opts.ids,
      upstream: inputsOf(p, 1),
    });

  const guard = (name: string): Promise<GuardedProcessor> => {
    const p = findProcessor(config, name);
    let g = guards.get(name);
    if (g === undefined) {
      g = processorFor(p).then((proc) => wrap(p, proc));
      guards.set(name, g);
    }
    return g;
  };

  const checker = (name: string): GuardedProcessor => {
    const p = findProcessor(config, name);
    return wrap(p, {
      name: p.name,
      run: () => Promise.reject(new Error(`[smart-backfill] [cli] a dry run never runs ${p.name}`)),
    });
  };

  return {
    ...store,
    config,
    clock,
    logger: opts.logger ?? engine.silentLogger,
    processorConfig: (name) => findProcessor(config, name),
    guard,
    checker,
    registry: async () => {
      const entries = await Promise.all(config.processors.map(async (p) => [p.name, await guard(p.name)] as const));
      return new Map<string, Processor>(entries);
    },
  };
};
