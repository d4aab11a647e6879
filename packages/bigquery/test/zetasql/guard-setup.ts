/**
 * A guarded processor over the BigQuery store on a ZetaSQL-evaluated fake: a schedule
 * of `days` (all Final), a target the test fills, memory queue and alerter, a worker,
 * and `run()` for the guard's run on `runDate` (then a minute passes on `clock`).
 */
import { type IsoDate } from '@smart-backfill/core';
import { createWorker, processorRegistry, withSmartBackfill, type Processor, type RunOptions } from '@smart-backfill/engine';
import { memoryAlerter, memoryBackfillQueue } from '@smart-backfill/memory';
import { type ManualClock } from '@smart-backfill/testkit';
import { freshDataset } from '../harness.js';
import { storeWithDdl } from './harness.js';
import { type ZetaSqlBigQuery } from './zetasql-bigquery.js';

/** One setup per test: `setup(name, verifyWrites)` builds a fresh dataset pair. `fake` is undefined when the suite skips. */
export const guardSetup =
  (fake: ZetaSqlBigQuery | undefined, clock: ManualClock, runDate: IsoDate, days: readonly IsoDate[]) =>
  async (name: string, verifyWrites = true) => {
    const ds = freshDataset('zguard');
    const schedule = `test-project.${ds}.schedule`;
    const target = `test-project.${ds}.target`;
    await fake!.createTable(schedule, '(game_date DATE, game_status STRING)');
    await fake!.createTable(target, '(game_date DATE, player_id INT64)');
    fake!.addUserRows(
      schedule,
      days.map((d) => ({ game_date: d, game_status: 'Final' })),
    );
    const fill = (dates: readonly IsoDate[]): void => {
      for (const d of dates)
        fake!.addUserRows(
          target,
          Array.from({ length: 100 }, (_, i) => ({ game_date: d, player_id: i })),
        );
    };
    const store = await storeWithDdl(fake!, freshDataset('zguard_ops'), { verifyWrites });
    const alerter = memoryAlerter();
    const queue = memoryBackfillQueue({ clock });
    const ran: RunOptions[] = [];
    const inner: Processor = {
      name,
      async run(opts) {
        ran.push(opts);
        if (opts.isBackfill === true) fill([opts.date]);
        return 'ok';
      },
    };
    const guarded = withSmartBackfill(inner, {
      window: store.window(
        { table: `${ds}.schedule`, dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final'] },
        { table: `${ds}.target`, dateColumn: 'game_date' },
      ),
      tracker: store.tracker,
      queue,
      runLog: store.runLog,
      alertLog: store.alertLog,
      alerter,
      clock,
    });
    const worker = createWorker({ queue, tracker: store.tracker, runLog: store.runLog, registry: processorRegistry([guarded]), clock });
    const run = async () => {
      const outcome = await guarded.run({ date: runDate });
      clock.advance(60_000);
      return outcome;
    };
    return { fill, run, store, alerter, worker, ran, schedule, target };
  };
