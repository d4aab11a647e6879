/**
 * The seed's scenario end to end on the BigQuery store (real client + local fake):
 * the engine's guard finds a two-date gap, queues, holds; the worker backfills,
 * completes and resumes the held run. Counts the jobs a check costs.
 */
import { describe, expect, it } from 'vitest';
import { addDays, isoDate, type IsoDate } from '@smart-backfill/core';
import { createWorker, processorRegistry, withSmartBackfill, type Processor, type RunOptions } from '@smart-backfill/engine';
import { memoryBackfillQueue } from '@smart-backfill/memory';
import { ManualClock } from '@smart-backfill/testkit';
import { openBigQueryStore } from '@smart-backfill/bigquery';
import { freshDataset, startFake } from './harness.js';

const fake = await startFake();
const P = 'player_game_summary';

// 5000: rows streamed with insertAll stay invisible to queries for 5 s of the test's clock, which never gets there.
describe.each([0, 5_000])('guard and worker on the BigQuery store (streamed rows visible after %i ms)', (visibilityMs) => {
  it('queues a small gap with one read job and one create job, holds, backfills and resumes', async () => {
    fake.streamingVisibilityMs = visibilityMs;
    const ds = freshDataset('e2e');
    const schedule = `test-project.${ds}.game_schedule`;
    const target = `test-project.${ds}.player_game_summary`;
    fake.defineUserTable(schedule, { dateColumn: 'game_date', statusColumn: 'game_status' });
    fake.defineUserTable(target, { dateColumn: 'game_date' });
    const runDate = isoDate('2025-11-20');
    const days: IsoDate[] = Array.from({ length: 30 }, (_, i) => addDays(runDate, -30 + i));
    fake.addUserRows(
      schedule,
      days.map((d) => ({ game_date: d, game_status: 'Final' })),
    );
    const missing = [isoDate('2025-11-15'), isoDate('2025-11-16')];
    for (const d of days.filter((x) => !missing.includes(x)))
      fake.addUserRows(
        target,
        Array.from({ length: 100 }, () => ({ game_date: d })),
      );

    const clock = new ManualClock(Date.UTC(2025, 10, 20, 8));
    fake.now = () => clock.now();
    const store = openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset() } });
    const queue = memoryBackfillQueue({ clock });
    const ran: RunOptions[] = [];
    const inner: Processor = {
      name: P,
      async run(opts) {
        ran.push(opts);
        // The backfill writes the date's rows, as the real processor would.
        if (opts.isBackfill === true)
          fake.addUserRows(
            target,
            Array.from({ length: 100 }, () => ({ game_date: opts.date })),
          );
        return 'ok';
      },
    };
    const guarded = withSmartBackfill(inner, {
      window: store.window(
        { table: `${ds}.game_schedule`, dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final', 'Completed'] },
        { table: `${ds}.player_game_summary`, dateColumn: 'game_date' },
      ),
      tracker: store.tracker,
      queue,
      runLog: store.runLog,
      alertLog: store.alertLog,
      clock,
    });

    const mark = fake.requests.length;
    const outcome = await guarded.run({ date: runDate });
    expect(outcome._tag).toBe('Held');
    expect(outcome._tag === 'Held' && outcome.queued.map((r) => r.date)).toEqual(missing);
    const kinds = fake.requests.slice(mark).map((r) =>
      r.path.endsWith('/insertAll')
        ? `insertAll ${r.path.split('/tables/')[1]!.split('/')[0]}`
        : String((r.body as { query: string }).query)
            .split('\n')[0]!
            .replace('-- smart-backfill:', ''),
    );
    // The check reads once (window, requests and open alerts in one job); queueing both dates is one create job, no read-back.
    expect(
      kinds.filter((k) => k.startsWith('check') || ['window', 'tracker.forWindow', 'tracker.existing', 'alerts.list'].includes(k)),
    ).toEqual(['check window+requests+alerts+held']);
    expect(kinds.filter((k) => k === 'insertAll backfill_request_events')).toHaveLength(1 /* both MarkPublished in one insertAll */);
    expect(kinds.filter((k) => k.startsWith('tracker.'))).toEqual(['tracker.create']);
    console.log(`[bigquery] a held check with a 2-date gap: ${kinds.length} requests: ${kinds.join(', ')}`);

    const tick = await worker().runOnce({ max: 10 });
    expect(tick.outcomes.map((o) => o._tag)).toEqual(['Completed', 'Completed']);
    expect(
      ran
        .filter((o) => o.isBackfill === true)
        .map((o) => o.date)
        .sort(),
    ).toEqual(missing);
    expect(ran.filter((o) => o.trigger === 'resume').map((o) => o.date)).toEqual([runDate]);
    expect((await store.runLog.heldRuns({ processorName: P }))[0]?.status).toBe('resumed');
    expect((await store.tracker.forWindow({ processorName: P, start: missing[0]!, end: missing[1]! })).map((r) => r.status)).toEqual([
      'completed',
      'completed',
    ]);

    // The seed's monitoring queries read these rows: skip_reason, metadata.gap_size, missing_dates[0].
    const runs = fake.rows(`${store.tables.runs.projectId}.${store.tables.runs.datasetId}.${store.tables.runs.tableId}`);
    const held = runs.find((r) => r['skip_reason'] === 'backfill_queued');
    expect(JSON.parse(String(held?.['metadata']))).toMatchObject({ gap_size: 2, missing_dates: missing });

    function worker() {
      return createWorker({
        queue,
        tracker: store.tracker,
        runLog: store.runLog,
        registry: processorRegistry([guarded]),
        clock,
        guardFor: () => guarded,
      });
    }
  });
});
