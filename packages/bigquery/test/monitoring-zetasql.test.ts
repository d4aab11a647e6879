/**
 * Every path the analysis test captures (init --bigquery's DDL, every guard decision
 * with and without read-backs, the worker and resume, tracker
 * transitions, and the reads `status`, `metrics`, `assess` and `report` make), run
 * again with the adapter's SQL executed by ZetaSQL: the same decisions come out, no
 * job fails, and the reads and the monitoring views answer what the flows wrote.
 *
 * Needs the ZetaSQL server (`scripts/zetasql-install.sh`); without it: a visible SKIP.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { addDays, isoDate } from '@smart-backfill/core';
import { openBigQueryStore, type BigQueryStore } from '@smart-backfill/bigquery';
import { captureStatements, DATASET, PROJECT } from './zetasql/capture.js';
import { startZetaSqlFake, zetasqlSkip } from './zetasql/harness.js';

const skip = zetasqlSkip('bigquery zetasql monitoring');
// The views look back from CURRENT_TIMESTAMP(): the fake's clock stands a few days after the last flow's run date.
const NOW = Date.UTC(2025, 8, 25);
const fake = skip === false ? await startZetaSqlFake({ now: () => NOW }) : undefined;

describe.skipIf(skip !== false)('guard flows, command reads and monitoring views, SQL evaluated by ZetaSQL', () => {
  let outcomes: string[];
  let store: BigQueryStore;
  beforeAll(async () => {
    if (skip !== false) return;
    const captured = await captureStatements(fake!);
    outcomes = captured.outcomes;
    console.log(`[bigquery zetasql] ${captured.statements.length} query jobs evaluated, ${fake!.statementsRun.length} statements run`);
    store = openBigQueryStore({ client: fake!.client(PROJECT), tracking: { dataset: DATASET } });
  }, 300_000);

  it('reaches the same decisions as on the hand fake, and no job fails but a create that lost a race', () => {
    expect(outcomes).toEqual(Array.from({ length: 3 }, () => ['Held', 'Held', 'Ran', 'Escalated', 'Escalated', 'Ran']).flat());
    // Concurrent request creates conflict on the lock table by design (docs/bigquery.md, "Atomic
    // create"); BigQuery cancels the loser and the adapter retries it. Any other failure is a bug.
    const lostRace = /^Transaction is aborted due to concurrent update against table [^ ]+\.request_locks\.$/;
    expect(fake!.jobErrors.filter((e) => !(lostRace.test(e.message) && e.sql.startsWith('-- smart-backfill:tracker.create')))).toEqual([]);
  });

  it('status, metrics, assess and report reads answer what the flows wrote', async () => {
    for (const i of [0, 1, 2]) {
      const P = `orders_small_${i}`;
      const requests = await store.tracker.list({ processorName: P });
      // capture.ts fills all but the 10th and 9th days before each run date.
      const run = isoDate(['2025-03-20', '2025-06-20', '2025-09-20'][i]!);
      expect(requests.map((r) => [r.date, r.status]).sort()).toEqual([
        [addDays(run, -10), 'completed'],
        [addDays(run, -9), 'completed'],
      ]);
      expect(await store.tracker.list({ processorName: P, statuses: ['queued', 'processing'] })).toEqual([]);
      expect((await store.runLog.heldRuns({ processorName: P })).map((h) => h.status)).toEqual(['resumed']);
      const runs = await store.runLog.runs({ processorName: P });
      // Held twice, two backfills, the resumed run, then a clean run.
      expect(runs.map((r) => r.outcome).sort()).toEqual(['skipped', 'skipped', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
      const large = await store.alertLog.list({ processorName: `orders_large_${i}` });
      expect(large.map((a) => a.resolvedAt !== null)).toEqual([true]);
      expect(await store.alertLog.list({ processorName: `orders_large_${i}`, openOnly: true })).toEqual([]);
    }
  });

  it('the monitoring views answer from the rows, one per key', async () => {
    const q = async (view: string): Promise<Record<string, unknown>[]> => {
      const [rows] = await fake!
        .client(PROJECT)
        .query({ query: `SELECT * FROM \`${PROJECT}.${DATASET}.${view}\` ORDER BY processor_name` });
      return (rows as Record<string, unknown>[]).map((r) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, (v as { value?: unknown } | null)?.value ?? v])),
      );
    };
    // Only the third flow (2025-09-20) is inside the 30-day look-back; it queued one two-date gap.
    expect((await q('gap_detection_frequency')).filter((r) => String(r['processor_name']).startsWith('orders_small'))).toEqual([
      { date: '2025-09-20', processor_name: 'orders_small_2', gap_detections: 1, total_missing_dates: 2 },
    ]);
    const success = await q('backfill_success_rate');
    expect(success.filter((r) => r['processor_name'] === 'orders_small_2')).toMatchObject([{ status: 'completed', count: 2 }]);
    const ttr = await q('time_to_recovery');
    expect(ttr.filter((r) => r['processor_name'] === 'orders_small_2')).toMatchObject([{ detection_date: '2025-09-20' }]);
    expect(Number(ttr.find((r) => r['processor_name'] === 'orders_small_2')?.['avg_recovery_time_min'])).toBeGreaterThan(0);
    expect((await q('held_runs')).filter((r) => r['processor_name'] === 'orders_small_2').map((r) => r['status'])).toEqual(['resumed']);
  });
});
