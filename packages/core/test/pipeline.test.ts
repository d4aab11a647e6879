import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  buildPipelineGraph,
  builtOnIncompleteInput,
  downstreamDatesReading,
  planPipeline,
  upstreamDatesRead,
  withDownstream,
  type PipelineNode,
  type ProcessorDates,
} from '@smart-backfill/core';
import { D, graphOf, SENSORS } from './support/sensor-pipeline.js';

describe('buildPipelineGraph', () => {
  it('orders every processor after what it reads, ties in declaration order', () => {
    expect(graphOf(SENSORS).order).toEqual(['raw_readings', 'hourly_rollup', 'daily_quality', 'anomaly_score']);
  });

  it('names a cycle by its path', () => {
    const r = buildPipelineGraph([
      { name: 'orders', dependsOn: [{ processor: 'refunds', lookbackDays: 0 }] },
      { name: 'refunds', dependsOn: [{ processor: 'ledger', lookbackDays: 2 }] },
      { name: 'ledger', dependsOn: [{ processor: 'orders', lookbackDays: 0 }] },
      { name: 'stock' },
    ]);
    expect(r._tag).toBe('Err');
    if (r._tag !== 'Err') return;
    expect(r.error.map((p) => p.message)).toEqual(['dependsOn has a cycle: orders → refunds → ledger → orders']);
  });

  it('reports unknown names, self-edges, repeated edges, bad lookbacks and duplicate processors, each once', () => {
    const r = buildPipelineGraph([
      { name: 'a', dependsOn: [{ processor: 'nope', lookbackDays: 0 }] },
      { name: 'b', dependsOn: [{ processor: 'b', lookbackDays: 0 }] },
      {
        name: 'c',
        dependsOn: [
          { processor: 'a', lookbackDays: -1 },
          { processor: 'a', lookbackDays: 3 },
          { processor: 'b', lookbackDays: 1.5 },
        ],
      },
      { name: 'a' },
    ]);
    expect(r._tag).toBe('Err');
    if (r._tag !== 'Err') return;
    expect(r.error.map((p) => p._tag).sort()).toEqual([
      'BadLookback',
      'BadLookback',
      'DuplicateDependency',
      'DuplicateProcessor',
      'SelfDependency',
      'UnknownDependency',
    ]);
    expect(r.error.find((p) => p._tag === 'UnknownDependency')?.message).toBe(
      'a.dependsOn "nope": no processor of that name (known: b, c)',
    );
    expect(r.error.find((p) => p._tag === 'BadLookback')?.message).toBe(
      'c.dependsOn "a": lookbackDays must be a whole number from 0 to 3660, got -1',
    );
  });
});

describe('dates read through an edge', () => {
  it('lookbackDays 0 reads the same day; N reads the N days before and the day', () => {
    expect(upstreamDatesRead({ lookbackDays: 0 }, D('2026-03-01'))).toEqual([D('2026-03-01')]);
    expect(upstreamDatesRead({ lookbackDays: 2 }, D('2026-03-01'))).toEqual([D('2026-02-27'), D('2026-02-28'), D('2026-03-01')]);
  });

  it('downstreamDatesReading is the inverse of upstreamDatesRead', () => {
    fc.assert(
      fc.property(fc.nat({ max: 40 }), fc.integer({ min: -60, max: 60 }), fc.integer({ min: -60, max: 60 }), (lb, up, down) => {
        const u = addDays(D('2026-01-01'), up);
        const d = addDays(D('2026-01-01'), down);
        expect(upstreamDatesRead({ lookbackDays: lb }, d).includes(u)).toBe(downstreamDatesReading({ lookbackDays: lb }, u).includes(d));
      }),
    );
  });
});

/** Random graphs over up to 8 processors, any edges (cycles and self-edges included). */
const nodesArb: fc.Arbitrary<PipelineNode[]> = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc.array(fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: 3 }), { minLength: n, maxLength: n }).chain((deps) =>
    fc.array(fc.nat({ max: 3 }), { minLength: 3 * n, maxLength: 3 * n }).map((lbs) =>
      deps.map((ds, i) => ({
        name: `p${i}`,
        dependsOn: ds.map((j, k) => ({ processor: `p${j}`, lookbackDays: lbs[3 * i + k] ?? 0 })),
      })),
    ),
  ),
);

/** Only edges to earlier processors: always acyclic, declared in a shuffled order. */
const dagArb: fc.Arbitrary<PipelineNode[]> = nodesArb
  .map((nodes) =>
    nodes.map((node, i) => ({
      name: node.name,
      dependsOn: (node.dependsOn ?? []).filter((d) => Number(d.processor.slice(1)) < i),
    })),
  )
  .chain((nodes) => fc.shuffledSubarray(nodes, { minLength: nodes.length, maxLength: nodes.length }));

/** The oracle: a cycle exists iff some processor reaches itself (transitive closure, Floyd–Warshall style). */
const hasCycleOracle = (nodes: readonly PipelineNode[]): boolean => {
  const names = nodes.map((n) => n.name);
  const reach = new Map(names.map((a) => [a, new Set<string>()]));
  for (const n of nodes) for (const d of n.dependsOn ?? []) if (d.processor !== n.name) reach.get(n.name)!.add(d.processor);
  for (const k of names) for (const i of names) if (reach.get(i)!.has(k)) for (const j of reach.get(k)!) reach.get(i)!.add(j);
  return names.some((n) => reach.get(n)!.has(n));
};

describe('graph properties', () => {
  it('acyclic graphs are accepted and their order respects every edge', () => {
    fc.assert(
      fc.property(dagArb, (nodes) => {
        const g = graphOf(nodes);
        expect([...g.order].sort()).toEqual(nodes.map((n) => n.name).sort());
        const at = new Map(g.order.map((n, i) => [n, i]));
        for (const n of nodes) for (const d of n.dependsOn ?? []) expect(at.get(d.processor)!).toBeLessThan(at.get(n.name)!);
      }),
    );
  });

  it('cycle detection agrees with the transitive-closure oracle, and the named path is a real cycle', () => {
    fc.assert(
      fc.property(nodesArb, (nodes) => {
        const r = buildPipelineGraph(nodes);
        const cycle = r._tag === 'Err' ? r.error.find((p) => p._tag === 'Cycle') : undefined;
        expect(cycle !== undefined).toBe(hasCycleOracle(nodes));
        if (cycle?._tag !== 'Cycle') return;
        const path = cycle.path;
        expect(path[0]).toBe(path[path.length - 1]);
        expect(new Set(path.slice(1)).size).toBe(path.length - 1);
        for (let i = 0; i + 1 < path.length; i++) {
          const node = nodes.find((n) => n.name === path[i])!;
          expect(node.dependsOn?.some((d) => d.processor === path[i + 1])).toBe(true);
        }
      }),
    );
  });

  it('withDownstream is the processors reachable against the edges, in order', () => {
    fc.assert(
      fc.property(dagArb, fc.nat(), (nodes, pick) => {
        const g = graphOf(nodes);
        const start = g.order[pick % g.order.length]!;
        const out = withDownstream(g, [start]);
        const reaches = (from: string, to: string): boolean =>
          from === to || (g.dependsOn.get(from) ?? []).some((d) => reaches(d.processor, to));
        expect(out).toEqual(g.order.filter((n) => reaches(n, start)));
      }),
    );
  });
});

describe('planPipeline', () => {
  it('a lost raw day: one backfill upstream, then every level that read it, once each, in order', () => {
    const g = graphOf(SENSORS);
    const days = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04'].map(D);
    const lost = D('2026-03-02');
    const held: ProcessorDates = { missing: [lost], built: days.filter((d) => d !== lost) };
    const plan = planPipeline(
      g,
      new Map<string, ProcessorDates>([
        ['raw_readings', held],
        ['hourly_rollup', held],
        ['daily_quality', { built: days }],
        ['anomaly_score', { built: days }],
      ]),
    );
    expect(plan.map((s) => `${s._tag} ${s.processor} ${s.date}`)).toEqual([
      'Backfill raw_readings 2026-03-02',
      'Backfill hourly_rollup 2026-03-02',
      'Rerun daily_quality 2026-03-02',
      'Rerun daily_quality 2026-03-03',
      'Rerun anomaly_score 2026-03-02',
      'Rerun anomaly_score 2026-03-03',
      'Rerun anomaly_score 2026-03-04',
    ]);
    expect(plan[2]).toEqual({
      _tag: 'Rerun',
      processor: 'daily_quality',
      date: D('2026-03-02'),
      because: { processor: 'hourly_rollup', date: D('2026-03-02') },
    });
  });

  it('a date that ran on an incomplete input is re-run, and what read it after it', () => {
    const g = graphOf(SENSORS);
    const plan = planPipeline(
      g,
      new Map<string, ProcessorDates>([
        ['daily_quality', { built: [D('2026-03-05')], ranOnIncomplete: [D('2026-03-05')] }],
        ['anomaly_score', { built: [D('2026-03-04'), D('2026-03-11'), D('2026-03-12')] }],
      ]),
    );
    expect(plan).toEqual([
      { _tag: 'Rerun', processor: 'daily_quality', date: D('2026-03-05'), because: 'ran_on_incomplete_input' },
      { _tag: 'Rerun', processor: 'anomaly_score', date: D('2026-03-11'), because: { processor: 'daily_quality', date: D('2026-03-05') } },
    ]);
  });

  const DAYS = Array.from({ length: 12 }, (_, i) => addDays(D('2026-05-01'), i));
  const stateArb = (names: readonly string[]): fc.Arbitrary<Map<string, ProcessorDates>> =>
    fc
      .array(
        fc.record({
          missing: fc.subarray(DAYS),
          built: fc.subarray(DAYS),
          ranOnIncomplete: fc.subarray(DAYS, { maxLength: 2 }),
        }),
        { minLength: names.length, maxLength: names.length },
      )
      .map((states) => new Map(names.map((n, i) => [n, states[i]!])));

  /** A random DAG, validated, with a random state for each of its processors. */
  const graphAndState = dagArb.chain((nodes) => stateArb(nodes.map((n) => n.name)).map((s) => [graphOf(nodes), s] as const));

  it('every step is unique, in topological order, and after the rebuild it names as its cause', () => {
    fc.assert(
      fc.property(graphAndState, ([g, state]) => {
        const plan = planPipeline(g, state);
        const keys = plan.map((s) => `${s.processor} ${s.date}`);
        expect(new Set(keys).size).toBe(keys.length);
        const at = new Map(g.order.map((n, i) => [n, i]));
        for (let i = 1; i < plan.length; i++) expect(at.get(plan[i - 1]!.processor)!).toBeLessThanOrEqual(at.get(plan[i]!.processor)!);
        plan.forEach((s, i) => {
          if (s._tag === 'Backfill') expect([...(state.get(s.processor)?.missing ?? [])]).toContain(s.date);
          else if (s.because !== 'ran_on_incomplete_input') {
            const cause = s.because;
            expect(keys.indexOf(`${cause.processor} ${cause.date}`)).toBeGreaterThanOrEqual(0);
            expect(keys.indexOf(`${cause.processor} ${cause.date}`)).toBeLessThan(i);
          }
        });
      }),
    );
  });

  it('is closed: every filled date that reads a rebuilt date is re-run', () => {
    fc.assert(
      fc.property(graphAndState, ([g, state]) => {
        const plan = planPipeline(g, state);
        const rebuilt = new Set(plan.map((s) => `${s.processor} ${s.date}`));
        for (const n of g.order) {
          const own = state.get(n);
          const missing = new Set(own?.missing ?? []);
          for (const d of own?.built ?? []) {
            if (missing.has(d)) continue;
            const reads = (g.dependsOn.get(n) ?? []).some((dep) =>
              upstreamDatesRead(dep, d).some((u) => rebuilt.has(`${dep.processor} ${u}`)),
            );
            if (reads) expect(rebuilt.has(`${n} ${d}`)).toBe(true);
          }
        }
      }),
    );
  });
});

describe('builtOnIncompleteInput', () => {
  const deps = [
    { processor: 'hourly_rollup', lookbackDays: 0 },
    { processor: 'raw_readings', lookbackDays: 1 },
  ];

  it('a date built before an input it reads was (re)built is stale; one built after is not', () => {
    const built = new Map([
      [D('2026-03-02'), 100],
      [D('2026-03-03'), 100],
      [D('2026-03-04'), 500],
    ]);
    // raw 03-02 was backfilled at 300: daily_quality 03-02 and 03-03 read it and were built at 100.
    const up = new Map([['raw_readings', new Map([[D('2026-03-02'), 300]])]]);
    expect(builtOnIncompleteInput(deps, built, up)).toEqual([D('2026-03-02'), D('2026-03-03')]);
    // raw 03-03 reaches daily 03-03 (built before it) and 03-04 (built after it).
    expect(builtOnIncompleteInput(deps, built, new Map([['raw_readings', new Map([[D('2026-03-03'), 300]])]]))).toEqual([D('2026-03-03')]);
  });

  it('agrees with reading the rule per date', () => {
    const day = fc.integer({ min: 0, max: 9 }).map((i) => addDays(D('2026-04-01'), i));
    const times = fc.array(fc.tuple(day, fc.nat({ max: 20 })), { maxLength: 10 }).map((kv) => new Map(kv));
    fc.assert(
      fc.property(times, times, times, (built, raw, hourly) => {
        const up = new Map([
          ['raw_readings', raw],
          ['hourly_rollup', hourly],
        ]);
        const expected = [...built]
          .filter(([d, at]) => deps.some((dep) => upstreamDatesRead(dep, d).some((u) => (up.get(dep.processor)?.get(u) ?? -1) > at)))
          .map(([d]) => d)
          .sort();
        expect(builtOnIncompleteInput(deps, built, up)).toEqual(expected);
      }),
    );
  });
});
