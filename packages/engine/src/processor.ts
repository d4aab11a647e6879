import type { IsoDate, RunTrigger } from '@smart-backfill/core';
import { engineError } from './errors.js';

/** What a processor is asked to do: produce one date. */
export interface RunOptions {
  readonly date: IsoDate;
  /** The run is a backfill: the guard does not check (a backfill must not wait for itself). */
  readonly isBackfill?: boolean | undefined;
  readonly trigger?: RunTrigger | undefined;
  /** Set by the worker for backfills. */
  readonly requestId?: string | undefined;
  readonly attempt?: number | undefined;
  /** Aborted when the worker loses its lease or stops without draining. Cooperative. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Anything that fills a target table for a date. `run` resolving means success
 * (its value is kept as the run's result); throwing means failure.
 */
export interface Processor {
  readonly name: string;
  run(opts: RunOptions): Promise<unknown>;
}

/** The worker's allowlist: only processors found here ever run. */
export type ProcessorRegistry = ReadonlyMap<string, Processor> | { get(name: string): Processor | undefined };

/** A registry from a list of processors, keyed by `name`. Duplicate names are a configuration error. */
export const processorRegistry = (processors: Iterable<Processor>): ReadonlyMap<string, Processor> => {
  const m = new Map<string, Processor>();
  for (const p of processors) {
    if (m.has(p.name)) throw engineError('invalid_config', `two processors are named "${p.name}"; names must be unique`);
    m.set(p.name, p);
  }
  return m;
};

/** Names a registry knows, when it can list them (for error messages). */
export const registryNames = (registry: ProcessorRegistry): readonly string[] =>
  registry instanceof Map ? [...(registry as ReadonlyMap<string, Processor>).keys()] : [];
