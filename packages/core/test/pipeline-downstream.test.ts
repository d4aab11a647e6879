import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dateRange, downstreamReach, planDownstream, upstreamReach, upstreamDatesRead, type DownstreamDates } from '@smart-backfill/core';
import { D, graphOf, SENSORS } from './support/sensor-pipeline.js';

const show = (p: ReturnType<typeof planDownstream>) => ({
  steps: p.steps.map((s) => `${s._tag} ${s.processor} ${s.date}`),
  waiting: p.waiting.map((w) => `${w.processor} ${w.date} (${w.inputs.join(', ')})`),
});

describe('downstreamReach', () => {
  it('is the longest lookback summed along a path from the root, for each processor that reads it', () => {
    const g = graphOf(SENSORS);
    expect(Object.fromEntries(downstreamReach(g, 'raw_readings'))).toEqual({ hourly_rollup: 0, daily_quality: 1, anomaly_score: 7 });
    expect(Object.fromEntries(downstreamReach(g, 'daily_quality'))).toEqual({ anomaly_score: 6 });
    expect(downstreamReach(g, 'anomaly_score').size).toBe(0);
  });

  it('upstreamReach is its mirror: what each processor reads from, directly or not, with the same sums', () => {
    const g = graphOf(SENSORS);
    expect(Object.fromEntries(upstreamReach(g, 'anomaly_score'))).toEqual({ daily_quality: 6, hourly_rollup: 6, raw_readings: 7 });
    expect(upstreamReach(g, 'raw_readings').size).toBe(0);
    for (const a of g.order) for (const b of g.order) expect(upstreamReach(g, b).get(a), `${a} → ${b}`).toBe(downstreamReach(g, a).get(b));
  });
});

describe('planDownstream', () => {
  const g = graphOf([
    { name: 'station_readings' },
    { name: 'daily_weather', dependsOn: [{ processor: 'station_readings', lookbackDays: 0 }] },
    { name: 'rain_trend', dependsOn: [{ processor: 'daily_weather', lookbackDays: 2 }] },
  ]);

  it('backfills never-built dates and re-runs filled ones that read a date it builds, level by level', () => {
    const plan = planDownstream(
      g,
      'station_readings',
      [D('2025-06-05')],
      new Map<string, DownstreamDates>([
        ['station_readings', { unavailable: [D('2025-06-05')] }],
        ['daily_weather', { missing: [D('2025-06-05')], built: [D('2025-06-06')], unavailable: [D('2025-06-05')] }],
        // The 7th is not expected by its schedule: the caller leaves it out of both lists.
        ['rain_trend', { missing: [D('2025-06-05'), D('2025-06-06')], built: [D('2025-06-04'), D('2025-06-08')] }],
      ]),
    );
    expect(show(plan)).toEqual({
      steps: [
        'Backfill daily_weather 2025-06-05',
        'Backfill rain_trend 2025-06-05',
        'Backfill rain_trend 2025-06-06',
        // Reads daily_weather's 6th–8th: none is rebuilt, so it is left alone; the 4th reads none of the range.
      ],
      waiting: [],
    });
  });

  it('a date that reads an input date missing and not built by the plan waits, and what reads it is not re-run for it', () => {
    const plan = planDownstream(
      g,
      'station_readings',
      [D('2025-06-05')],
      new Map<string, DownstreamDates>([
        // The 6th is missing too, but not in the range.
        ['station_readings', { unavailable: [D('2025-06-05'), D('2025-06-06')] }],
        ['daily_weather', { built: [D('2025-06-05'), D('2025-06-06')] }],
        ['rain_trend', { built: [D('2025-06-05'), D('2025-06-06'), D('2025-06-07')] }],
      ]),
    );
    expect(show(plan)).toEqual({
      steps: [
        'Rerun daily_weather 2025-06-05',
        'Rerun rain_trend 2025-06-05',
        'Rerun rain_trend 2025-06-06',
        'Rerun rain_trend 2025-06-07',
      ],
      waiting: [],
    });
    const gap = planDownstream(
      g,
      'station_readings',
      [D('2025-06-05')],
      new Map<string, DownstreamDates>([
        ['station_readings', { unavailable: [D('2025-06-05'), D('2025-06-06')] }],
        ['daily_weather', { missing: [D('2025-06-05'), D('2025-06-06')], unavailable: [D('2025-06-05'), D('2025-06-06')] }],
        ['rain_trend', { built: [D('2025-06-05'), D('2025-06-06')] }],
      ]),
    );
    expect(show(gap)).toEqual({
      // daily_weather's 6th is missing but reads the 6th, outside the range: it waits. rain_trend's
      // 6th reads daily_weather's 6th, still missing: it waits too, rather than be built from it.
      steps: ['Backfill daily_weather 2025-06-05', 'Rerun rain_trend 2025-06-05'],
      waiting: ['daily_weather 2025-06-06 (station_readings 2025-06-06)', 'rain_trend 2025-06-06 (daily_weather 2025-06-06)'],
    });
  });

  it('an input date with an active request counts as built: its readers are planned, not waiting', () => {
    const plan = planDownstream(
      g,
      'station_readings',
      [],
      new Map<string, DownstreamDates>([
        ['station_readings', { unavailable: [D('2025-06-05')], inFlight: [D('2025-06-05')] }],
        ['daily_weather', { missing: [D('2025-06-05')], unavailable: [D('2025-06-05')] }],
      ]),
    );
    expect(show(plan)).toEqual({ steps: ['Backfill daily_weather 2025-06-05'], waiting: [] });
  });

  it('property: every planned step reads only dates that are available or built before it, each (processor, date) once', () => {
    const days = dateRange(D('2025-06-01'), D('2025-06-12'));
    const subset = fc.subarray(days);
    fc.assert(
      fc.property(
        fc.record({ root: subset, missing: fc.tuple(subset, subset, subset), filled: fc.tuple(subset, subset) }),
        ({ root, missing, filled }) => {
          const [rootMissing, weatherMissing, trendMissing] = missing;
          const dates = new Map<string, DownstreamDates>([
            ['station_readings', { unavailable: [...rootMissing, ...root] }],
            [
              'daily_weather',
              { missing: weatherMissing, built: filled[0].filter((d) => !weatherMissing.includes(d)), unavailable: weatherMissing },
            ],
            ['rain_trend', { missing: trendMissing, built: filled[1].filter((d) => !trendMissing.includes(d)), unavailable: trendMissing }],
          ]);
          const plan = planDownstream(g, 'station_readings', root, dates);
          const seen = new Set<string>(root.map((d) => `station_readings ${d}`));
          for (const s of plan.steps) {
            const key = `${s.processor} ${s.date}`;
            expect(seen.has(key)).toBe(false);
            for (const dep of g.dependsOn.get(s.processor) ?? [])
              for (const u of upstreamDatesRead(dep, s.date)) {
                const unavailable = new Set(dates.get(dep.processor)?.unavailable ?? []);
                if (unavailable.has(u)) expect(seen.has(`${dep.processor} ${u}`), `${key} reads ${dep.processor} ${u}`).toBe(true);
              }
            seen.add(key);
          }
          for (const w of plan.waiting) expect(seen.has(`${w.processor} ${w.date}`)).toBe(false);
          // And nothing missing is dropped: each missing date is planned or said to wait.
          const waits = new Set(plan.waiting.map((w) => `${w.processor} ${w.date}`));
          for (const [p, ds] of [
            ['daily_weather', weatherMissing],
            ['rain_trend', trendMissing],
          ] as const)
            for (const d of ds) expect(seen.has(`${p} ${d}`) || waits.has(`${p} ${d}`), `${p} ${d}`).toBe(true);
        },
      ),
    );
  });
});
