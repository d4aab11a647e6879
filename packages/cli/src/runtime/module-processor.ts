import type { Processor, RunOptions } from '@smart-backfill/engine';
import { badInput } from '../cli-error.js';
import type { ProcessorRunFunction, StoreConfig } from '../config/config-types.js';
import { importModule } from '../config/load-config.js';

/** A processor from a `run` function (inline in a JS/TS config, or exported by a module). */
export const functionProcessor = (name: string, run: ProcessorRunFunction, ctx: { store: StoreConfig; baseDir: string }): Processor => ({
  name,
  run: async (o: RunOptions) =>
    run({
      date: o.date,
      processorName: name,
      isBackfill: o.isBackfill === true,
      trigger: o.trigger ?? (o.isBackfill === true ? 'backfill' : 'scheduled'),
      requestId: o.requestId,
      attempt: o.attempt,
      signal: o.signal,
      store: ctx.store,
      baseDir: ctx.baseDir,
    }),
});

/**
 * Import a module (file URL; `.ts` through tsx) and wrap its `run` export
 * (or a default export that is a function or has `run`).
 */
export const moduleProcessor = async (name: string, file: string, ctx: { store: StoreConfig; baseDir: string }): Promise<Processor> => {
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(file);
  } catch (e) {
    if (e instanceof Error && e.name === 'CliError') throw e;
    throw badInput(`processor "${name}": cannot load module ${file} (${e instanceof Error ? e.message : String(e)})`, e);
  }
  const def = mod['default'];
  const run =
    typeof mod['run'] === 'function'
      ? mod['run']
      : typeof def === 'function'
        ? def
        : typeof def === 'object' && def !== null && typeof (def as { run?: unknown }).run === 'function'
          ? (def as { run: ProcessorRunFunction }).run.bind(def)
          : undefined;
  if (run === undefined)
    throw badInput(`processor "${name}": module ${file} exports no run function (export async function run({ date }) { ... })`);
  return functionProcessor(name, run as ProcessorRunFunction, ctx);
};
