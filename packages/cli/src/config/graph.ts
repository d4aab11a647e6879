import { buildPipelineGraph, type PipelineGraph } from '@smart-backfill/core';
import { badInput } from '../cli-error.js';
import type { ResolvedConfig } from './config-types.js';

/**
 * The config's dependency graph, built once when the config is loaded (`ResolvedConfig.graph`).
 * Loading refused a bad one, so a problem here is said plainly, never thrown raw.
 */
export const graphOf = (processors: ResolvedConfig['processors']): PipelineGraph => {
  const g = buildPipelineGraph(processors);
  if (g._tag === 'Err') throw badInput(g.error.map((p) => p.message));
  return g.value;
};
