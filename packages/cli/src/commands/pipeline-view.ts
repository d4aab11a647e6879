import {
  heldRunUpstreamGaps,
  pipelineRows,
  type Dependency,
  type HeldRun,
  type IsoDate,
  type PipelineRow,
  type RunRecord,
  type UpstreamGap,
} from '@smart-backfill/core';
import type { Runtime } from '../runtime/runtime.js';

/**
 * What holds each run still to run (`held`, `resuming`) of a processor with inputs that waits
 * for no date of its own: the upstream gaps its run record stored (`null`: none names them),
 * read from the runs since it was held (`recent`, read from `recentSince`, serves when it reaches back far enough).
 */
export const upstreamGapsOf = async (
  rt: Runtime,
  dependsOn: readonly Dependency[],
  heldRuns: readonly HeldRun[],
  recent: readonly RunRecord[],
  recentSince: number,
): Promise<Map<IsoDate, readonly UpstreamGap[] | null>> => {
  const forInputs =
    dependsOn.length === 0 ? [] : heldRuns.filter((h) => (h.status === 'held' || h.status === 'resuming') && h.waitingFor.length === 0);
  const gaps = new Map<IsoDate, readonly UpstreamGap[] | null>();
  const first = forInputs[0];
  if (first === undefined) return gaps;
  const since = Math.min(...forInputs.map((h) => h.heldAt));
  const runs = since >= recentSince ? recent : await rt.runLog.runs({ processorName: first.processorName, since });
  for (const h of forInputs) gaps.set(h.runDate, heldRunUpstreamGaps(h, runs) ?? null);
  return gaps;
};

/** The pipeline rows for `names`, in dependency order; `undefined` when no processor declares `dependsOn`. */
export const pipelineOf = (rt: Runtime, names: readonly string[]): PipelineRow[] | undefined => {
  if (!rt.config.processors.some((p) => (p.dependsOn ?? []).length > 0)) return undefined;
  const shown = new Set(names);
  return pipelineRows(rt.config.graph).filter((r) => shown.has(r.processor));
};
