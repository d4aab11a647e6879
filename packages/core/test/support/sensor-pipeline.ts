import { buildPipelineGraph, isoDate, type IsoDate, type PipelineGraph, type PipelineNode } from '@smart-backfill/core';

/**
 * A sensor pipeline: raw readings → hourly rollup → daily quality (also reads the raw day
 * before) → weekly anomaly score (six days back). Declared out of order on purpose.
 */
export const SENSORS: PipelineNode[] = [
  { name: 'anomaly_score', dependsOn: [{ processor: 'daily_quality', lookbackDays: 6 }] },
  { name: 'raw_readings' },
  { name: 'hourly_rollup', dependsOn: [{ processor: 'raw_readings', lookbackDays: 0 }] },
  {
    name: 'daily_quality',
    dependsOn: [
      { processor: 'hourly_rollup', lookbackDays: 0 },
      { processor: 'raw_readings', lookbackDays: 1 },
    ],
  },
];

/** The graph of `nodes`; a test's own graph is valid, so a problem throws. */
export const graphOf = (nodes: readonly PipelineNode[]): PipelineGraph => {
  const r = buildPipelineGraph(nodes);
  if (r._tag === 'Err') throw new Error(r.error.map((p) => p.message).join('; '));
  return r.value;
};

export const D = (s: string): IsoDate => isoDate(s);
