import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheus } from '../../report/test/prometheus-parse.js';
import { cli } from './helpers.js';
import { everyStateStore, NASTY_ERROR, reportStore, STATE_DATES, type ReportStore } from './report-fixture.js';

let fx: ReportStore | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

const ARGS = ['--since', '2025-10-01', '--until', STATE_DATES.today];

describe('metrics', () => {
  it("answers the seed's monitoring queries from the store, per processor (JSON)", async () => {
    fx = await everyStateStore();
    const r = await cli(['metrics', ...ARGS, '--json'], { cwd: fx.dir });
    expect(r.errors).toEqual([]);
    const j = r.json<{ from: string; to: string; days: number; processors: Record<string, unknown>[] }>();
    expect([j.from, j.to, j.days]).toEqual(['2025-10-01', '2025-11-28', 59]);
    // By hand from everyStateStore: 37 runs (34 nightly, 1 held + its resume, 1 escalated, 1 held today);
    // 5 requests (1 queued, 1 processing, 2 completed in 7 and 39 min, 1 failed in 5 min);
    // detections on 11-14 and 11-28; the 11-14 gap recovered 15 min after detection.
    expect(j.processors[0]).toMatchObject({
      processorName: 'orders_daily',
      runs: 37,
      gapDetections: 2,
      missingDatesDetected: 3,
      detectionsByDay: [
        { date: '2025-11-28', gapDetections: 1, totalMissingDates: 2 },
        { date: '2025-11-14', gapDetections: 1, totalMissingDates: 1 },
      ],
      backfills: { total: 5, queued: 1, processing: 1, completed: 2, failed: 1 },
      successRate: 2 / 3,
      backfillDuration: { count: 3, avgMs: 17 * 60_000, p95Ms: 39 * 60_000 },
      gapEpisodes: 3,
      recovered: 1,
      timeToRecovery: { count: 1, medianMs: 15 * 60_000 },
      timeToFill: { count: 1, medianMs: 12 * 60_000 },
      runsHeld: 2,
      escalations: 1,
      alertsOpened: 1,
      heldNow: 2,
      openAlerts: 1,
    });
  });

  it('prometheus text parses back, with HELP/TYPE and the smart_backfill_ prefix', async () => {
    fx = await everyStateStore();
    const r = await cli(['metrics', 'orders_daily', ...ARGS, '--format', 'prometheus'], { cwd: fx.dir });
    expect(r.code).toBe(0);
    const fams = parsePrometheus(r.stdout);
    expect(fams.every((f) => f.name.startsWith('smart_backfill_'))).toBe(true);
    const sample = (name: string, labels: Record<string, string>) =>
      fams.flatMap((f) => f.samples).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(sample('smart_backfill_backfill_requests', { processor: 'orders_daily', status: 'processing' })).toBe(1);
    expect(sample('smart_backfill_backfill_success_ratio', { processor: 'orders_daily' })).toBeCloseTo(2 / 3, 12);
    expect(sample('smart_backfill_time_to_recovery_seconds', { processor: 'orders_daily', quantile: '0.5' })).toBe(900);
    expect(sample('smart_backfill_held_runs_waiting', { processor: 'orders_daily' })).toBe(2);
  });

  it('table for people; a processor with nothing recorded still gets a row', async () => {
    fx = reportStore([{ name: 'quiet_one' }]);
    const r = await cli(['metrics', ...ARGS], { cwd: fx.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('smart-backfill metrics 2025-10-01 .. 2025-11-28 (59 days)');
    expect(r.stdout).toMatch(/^quiet_one\s+0\s+0\s+0\s+0\s+0\s+–\s+–\s+–\s+–\s+0\s+0$/m);
  });

  it('rejects a bad format or window with a message naming the option', async () => {
    fx = reportStore();
    const f = await cli(['metrics', '--format', 'xml'], { cwd: fx.dir });
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/--format/);
    const s = await cli(['metrics', '--since', '2025-12-01', '--until', '2025-11-01'], { cwd: fx.dir });
    expect(s.code).toBe(2);
    expect(s.errors[0]).toMatch(/--since: 2025-12-01 is not before the end of the window/);
    const d = await cli(['metrics', '--since', '2025-13-01'], { cwd: fx.dir });
    expect(d.code).toBe(2);
    expect(d.errors[0]).toMatch(/--since: .*month must be 01–12/);
  });
});

describe('report', () => {
  it('writes one self-contained HTML file and prints its path; --json gives the KPIs and cell counts', async () => {
    fx = await everyStateStore();
    const r = await cli(['report', '--today', STATE_DATES.today, '--days', '60', '--out', 'out/gaps.html', '--json'], { cwd: fx.dir });
    expect(r.errors).toEqual([]);
    const j = r.json<{
      path: string;
      start: string;
      end: string;
      kpis: Record<string, unknown>;
      counts: Record<string, Record<string, number>>;
    }>();
    expect(j.path).toBe(join(fx.dir, 'out', 'gaps.html'));
    expect([j.start, j.end]).toEqual(['2025-09-30', '2025-11-28']);
    // The manual backfill of a date no check found missing is a person's rebuild, not a gap.
    expect(j.kpis).toMatchObject({
      gaps: 8,
      healedAutomatically: 1,
      healedManually: 0,
      healedOtherwise: 0,
      open: 7,
      medianTimeToRecoveryMs: 15 * 60_000,
      timesToRecoveryMs: [15 * 60_000],
      recoveredGaps: 1,
      successRate: 2 / 3,
    });
    // 60 days from Tuesday 09-30: 16 weekend days, 44 weekdays of which 8 are the gap states and today.
    // The manually rebuilt date was never a gap: it counts as complete.
    expect(j.counts['orders_daily']).toEqual({
      complete: 35,
      healed_auto: 1,
      healed_manual: 0,
      healed_other: 0,
      nothing_scheduled: 16,
      before_schedule: 0,
      incomplete: 1,
      missing: 1,
      queued: 1,
      processing: 1,
      failed: 1,
      escalated: 2,
      future: 1,
    });
    const html = readFileSync(j.path, 'utf8');
    expect(html.match(/<div class="day /g)).toHaveLength(60);
    expect(html).not.toContain(NASTY_ERROR); // present only escaped
    expect(html).toContain('upstream said &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &quot;quit&quot;');
  });

  it('human output names the file; --processor limits the report; an unknown processor is bad input', async () => {
    fx = reportStore([{ name: 'a_proc' }, { name: 'b_proc' }]);
    fx.schedule('a_proc', ['2025-11-20', '2025-11-21']);
    fx.rows('a_proc', '2025-11-20', 12);
    const r = await cli(['report', '--processor', 'a_proc', '--today', '2025-11-22', '--days', '7'], { cwd: fx.dir });
    expect(r.code).toBe(0);
    const path = join(fx.dir, 'smart-backfill-report.html');
    expect(r.stdout).toContain(`report written to ${path}`);
    expect(r.stdout).toContain('2025-11-16 to 2025-11-22: 1 gap date(s), 0 healed automatically, 0 by a person, 1 open; 1 processor(s)');
    expect(existsSync(path)).toBe(true);
    const html = readFileSync(path, 'utf8');
    expect(html).toContain('data-processor="a_proc"');
    // The schedule starts on the 20th: the four days before it are not "nothing scheduled".
    expect(html.match(/data-state="before_schedule"/g)).toHaveLength(4);
    expect(html).toContain('data-state="before_schedule" data-date="2025-11-16"');
    expect(html).not.toContain('data-processor="b_proc"');
    const bad = await cli(['report', '--processor', 'zzz'], { cwd: fx.dir });
    expect(bad.code).toBe(2);
    expect(bad.errors[0]).toMatch(/unknown processor "zzz" \(configured: a_proc, b_proc\)/);
  });
});
