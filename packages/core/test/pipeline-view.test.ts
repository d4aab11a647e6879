import { describe, expect, it } from 'vitest';
import { buildPipelineGraph, heldRunUpstreamGaps, isoDate, pipelineRows, type PipelineNode, type RunRecord } from '../src/index.js';

const graph = (nodes: PipelineNode[]) => {
  const g = buildPipelineGraph(nodes);
  if (g._tag === 'Err') throw new Error(g.error.map((p) => p.message).join('; '));
  return g.value;
};

describe('pipelineRows', () => {
  it('lists by level, then by name, whatever the declared order', () => {
    const nodes: PipelineNode[] = [
      { name: 'store_weekly', dependsOn: [{ processor: 'order_lines', lookbackDays: 6 }] },
      { name: 'raw_orders' },
      // Reads a level-0 and a level-1 processor: its level is one above the deepest.
      {
        name: 'margin_daily',
        dependsOn: [
          { processor: 'raw_prices', lookbackDays: 0 },
          { processor: 'order_lines', lookbackDays: 0 },
        ],
      },
      { name: 'order_lines', dependsOn: [{ processor: 'raw_orders', lookbackDays: 0 }] },
      { name: 'raw_prices' },
    ];
    const rows = pipelineRows(graph(nodes));
    expect(rows.map((r) => `${r.level} ${r.processor}`)).toEqual([
      '0 raw_orders',
      '0 raw_prices',
      '1 order_lines',
      '2 margin_daily',
      '2 store_weekly',
    ]);
    expect(rows.find((r) => r.processor === 'store_weekly')?.dependsOn).toEqual([{ processor: 'order_lines', lookbackDays: 6 }]);
    // The same graph declared the other way round lists the same.
    expect(pipelineRows(graph([...nodes].reverse()))).toEqual(rows);
  });

  it('a graph without edges is one level, by name', () => {
    expect(pipelineRows(graph([{ name: 'b' }, { name: 'a' }])).map((r) => [r.level, r.processor])).toEqual([
      [0, 'a'],
      [0, 'b'],
    ]);
  });
});

describe('heldRunUpstreamGaps', () => {
  const D = isoDate('2025-11-04');
  const gap = { processor: 'raw_orders', missing: [D], queued: [D], inFlight: [], escalated: [] };
  const run = (startedAt: number, metadata: Record<string, unknown>, runDate = D): RunRecord => ({
    runId: `r${startedAt}`,
    processorName: 'order_lines',
    runDate,
    trigger: 'scheduled',
    isBackfill: false,
    outcome: 'skipped',
    skipReason: 'backfill_queued',
    errorMessage: null,
    startedAt,
    finishedAt: startedAt,
    durationMs: 0,
    metadata,
  });
  const held = { processorName: 'order_lines', runDate: D, heldAt: 100, waitingFor: [] };

  it('reads the latest record of the run date since it was held', () => {
    const later = { ...gap, queued: [], inFlight: [D] };
    const runs = [
      run(50, { waiting_for_upstream: [{ ...gap, processor: 'older_hold' }] }),
      run(100, { waiting_for_upstream: [gap] }),
      run(150, { waiting_for_upstream: [{ ...gap, processor: 'other_day' }] }, isoDate('2025-11-05')),
      run(200, { waiting_for_upstream: [later] }),
      run(250, { decision: 'Proceed' }),
    ];
    expect(heldRunUpstreamGaps(held, runs)).toEqual([later]);
    expect(heldRunUpstreamGaps(held, runs.slice(0, 3))).toEqual([gap]);
  });

  it('is undefined for a run waiting for its own dates, with no record, or a record of another shape', () => {
    expect(heldRunUpstreamGaps({ ...held, waitingFor: [D] }, [run(100, { waiting_for_upstream: [gap] })])).toBeUndefined();
    expect(heldRunUpstreamGaps(held, [run(50, { waiting_for_upstream: [gap] })])).toBeUndefined();
    expect(heldRunUpstreamGaps(held, [run(100, { waiting_for_upstream: [{ processor: 'raw_orders', missing: 'x' }] })])).toBeUndefined();
    expect(heldRunUpstreamGaps(held, [run(100, { waiting_for_upstream: 'raw_orders' })])).toBeUndefined();
  });
});
