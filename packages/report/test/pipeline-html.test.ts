import { describe, expect, it } from 'vitest';
import { isoDate, type HeldRun, type IsoDate } from '@smart-backfill/core';
import { buildReportModel, renderReportHtml, type ProcessorReportInput } from '@smart-backfill/report';
import { aHeldRun } from './held-run-fixture.js';

const d = (s: string): IsoDate => isoDate(s);
const NASTY = '<b>raw&orders</b>';

const processor = (name: string, extra: Partial<ProcessorReportInput> = {}): ProcessorReportInput => ({
  processorName: name,
  start: d('2025-11-01'),
  end: d('2025-11-10'),
  today: d('2025-11-10'),
  expectedDates: [d('2025-11-04')],
  recordCounts: { '2025-11-04': 1 },
  minRecordsPerDate: 1,
  ...extra,
});

const heldFor = (name: string, runDate: IsoDate): HeldRun => aHeldRun(name, runDate, Date.UTC(2025, 10, 5));

describe('the report with a pipeline', () => {
  const gap = { processor: NASTY, missing: [d('2025-11-04')], queued: [d('2025-11-04')], inFlight: [], escalated: [] };
  const model = buildReportModel({
    generatedAt: Date.UTC(2025, 10, 10),
    processors: [
      processor(NASTY),
      processor('order_lines', {
        heldRuns: [heldFor('order_lines', d('2025-11-05')), heldFor('order_lines', d('2025-11-04'))],
        heldForInputs: new Map([
          [d('2025-11-05'), [gap]],
          [d('2025-11-04'), null],
        ]),
      }),
    ],
    pipeline: [
      { processor: NASTY, level: 0, dependsOn: [] },
      { processor: 'order_lines', level: 1, dependsOn: [{ processor: NASTY, lookbackDays: 0 }] },
    ],
  });

  it('the model keeps the rows in the order given, each held run oldest first with its stored gaps', () => {
    expect(model.pipeline.map((r) => [r.level, r.processor, r.heldForInputs])).toEqual([
      [0, NASTY, []],
      [
        1,
        'order_lines',
        [
          { runDate: '2025-11-04', gaps: null },
          { runDate: '2025-11-05', gaps: [gap] },
        ],
      ],
    ]);
    expect(model.heldRuns.find((h) => h.runDate === '2025-11-05')?.waitingForUpstream).toEqual([gap]);
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
  });

  it('renders one escaped row per processor, and names the upstream gap in the held runs table', () => {
    const page = renderReportHtml(model);
    expect([...page.matchAll(/data-pipeline-row="([^"]+)" data-level="(\d)"/g)].map((m) => `${m[2]} ${m[1]}`)).toEqual([
      '0 &lt;b&gt;raw&amp;orders&lt;/b&gt;',
      '1 order_lines',
    ]);
    expect(page).not.toContain(NASTY);
    expect(page).toContain(
      '<span data-held-for="2025-11-05">2025-11-05 waits for &lt;b&gt;raw&amp;orders&lt;/b&gt; 2025-11-04 (backfill queued)</span>',
    );
    expect(page).toContain('2025-11-04 waits for its inputs (no run record names which)');
    expect(page).toContain('<td>&lt;b&gt;raw&amp;orders&lt;/b&gt; 2025-11-04 (backfill queued)</td>');
  });

  it('without a pipeline, no pipeline section', () => {
    const plain = buildReportModel({ generatedAt: 0, processors: [processor('a')] });
    expect(plain.pipeline).toEqual([]);
    expect(renderReportHtml(plain)).not.toContain('Pipeline');
  });
});
