/**
 * The guard's decisions on the BigQuery store, with every query job evaluated by
 * ZetaSQL (BigQuery's own SQL semantics) over the rows insertAll and DML stored: no
 * gap; a small gap queued, then in flight, then backfilled by the worker and the held
 * run resumed; a large gap escalated, still open, then healed with its alert resolved.
 * And what the hand fake cannot show: the adapter's check statement with a wrong
 * QUALIFY partition returns a different answer here, the same one there.
 *
 * Needs the ZetaSQL server (`scripts/zetasql-install.sh`); without it: a visible SKIP.
 */
import { describe, expect, it } from 'vitest';
import { addDays, isoDate, type IsoDate } from '@smart-backfill/core';
import { ManualClock } from '@smart-backfill/testkit';
import { FakeBigQuery } from './fake-bigquery-server.js';
import { guardSetup } from './zetasql/guard-setup.js';
import { startZetaSqlFake, zetasqlSkip } from './zetasql/harness.js';

const skip = zetasqlSkip('bigquery zetasql guard');
const clock = new ManualClock(Date.UTC(2025, 10, 20, 8));
const fake = skip === false ? await startZetaSqlFake({ now: () => clock.now() }) : undefined;
const runDate = isoDate('2025-11-20');
const days: IsoDate[] = Array.from({ length: 30 }, (_, i) => addDays(runDate, -30 + i));

const setup = guardSetup(fake, clock, runDate, days);

describe.skipIf(skip !== false)('guard decisions on the BigQuery store, SQL evaluated by ZetaSQL', () => {
  it.each([true, false])('no gap: the run goes ahead and is logged (verifyWrites %s)', async (verify) => {
    const s = await setup(`zg_no_gap_${verify}`, verify);
    s.fill(days);
    expect((await s.run())._tag).toBe('Ran');
    const runs = await s.store.runLog.runs({ processorName: `zg_no_gap_${verify}` });
    expect(runs.map((r) => [r.outcome, r.runDate])).toEqual([['succeeded', runDate]]);
  });

  it.each([true, false])(
    'small gap: queued and held, then in flight, then backfilled, resumed and clear (verifyWrites %s)',
    async (verify) => {
      const P = `zg_small_${verify}`;
      const s = await setup(P, verify);
      const missing = [days[20]!, days[21]!];
      s.fill(days.filter((d) => !missing.includes(d)));

      const queued = await s.run();
      expect(queued._tag).toBe('Held');
      expect(queued._tag === 'Held' && queued.queued.map((r) => r.date)).toEqual(missing);
      expect((await s.store.runLog.heldRuns({ processorName: P })).map((h) => [h.runDate, h.status])).toEqual([[runDate, 'held']]);

      const inFlight = await s.run();
      expect(inFlight._tag).toBe('Held');
      expect(inFlight._tag === 'Held' && inFlight.inFlight).toEqual(missing);
      expect((await s.store.tracker.forWindow({ processorName: P, start: days[0]!, end: days[29]! })).length).toBe(2);

      const tick = await s.worker.runOnce({ max: 10 });
      clock.advance(60_000);
      expect(tick.outcomes.map((o) => o._tag)).toEqual(['Completed', 'Completed']);
      expect(
        s.ran
          .filter((o) => o.isBackfill === true)
          .map((o) => o.date)
          .sort(),
      ).toEqual(missing);
      expect(s.ran.filter((o) => o.trigger === 'resume').map((o) => o.date)).toEqual([runDate]);
      expect((await s.store.runLog.heldRuns({ processorName: P })).map((h) => h.status)).toEqual(['resumed']);
      expect((await s.store.tracker.forWindow({ processorName: P, start: missing[0]!, end: missing[1]! })).map((r) => r.status)).toEqual([
        'completed',
        'completed',
      ]);

      expect((await s.run())._tag).toBe('Ran');
    },
  );

  it.each([true, false])('large gap: escalated once, still open, then healed and resolved (verifyWrites %s)', async (verify) => {
    const P = `zg_large_${verify}`;
    const s = await setup(P, verify);
    const missing = days.slice(20, 26);
    s.fill(days.filter((d) => !missing.includes(d)));

    expect((await s.run())._tag).toBe('Escalated');
    expect(s.alerter.notices.map((n) => n.kind)).toEqual(['escalated']);
    expect((await s.store.alertLog.list({ processorName: P, openOnly: true })).length).toBe(1);

    expect((await s.run())._tag).toBe('Escalated');
    expect(s.alerter.notices.map((n) => n.kind)).toEqual(['escalated']);

    s.fill(missing);
    expect((await s.run())._tag).toBe('Ran');
    expect(s.alerter.notices.map((n) => n.kind)).toEqual(['escalated', 'healed']);
    expect(await s.store.alertLog.list({ processorName: P, openOnly: true })).toEqual([]);
  });

  it('a wrong QUALIFY partition in the check statement gives a different answer here, and the same one on the hand fake', async () => {
    const P = 'zg_qualify';
    const s = await setup(P, true);
    s.fill(days.filter((d) => d !== days[20] && d !== days[21]));
    expect((await s.run())._tag).toBe('Held');
    expect((await s.run())._tag).toBe('Held');
    const check = fake!
      .queries()
      .filter((q) => q.query.startsWith('-- smart-backfill:check'))
      .at(-1)!;
    const right = 'PARTITION BY request_id ORDER BY';
    expect(check.query).toContain(right);
    // Latest row per processor instead of per request: one of the two requests disappears.
    const wrong = { ...check, query: check.query.replace(right, 'PARTITION BY processor_name ORDER BY') };
    const rowsOf = async (f: FakeBigQuery, body: typeof check) => {
      const res = await fetch(`${f.url}/bigquery/v2/projects/test-project/queries`, {
        method: 'POST',
        headers: { authorization: 'Bearer fake-token-for-tests', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { rows?: { f: { v: unknown }[] }[] };
      return (json.rows ?? []).filter((r) => r.f[0]?.v === 'request').length;
    };
    expect(await rowsOf(fake!, check)).toBe(2);
    expect(await rowsOf(fake!, wrong)).toBe(1);
    // The hand fake, holding the same rows, recognises the statement by its marker and answers by hand: it cannot tell.
    const hand = await new FakeBigQuery().start();
    try {
      hand.defineUserTable(s.schedule, { dateColumn: 'game_date', statusColumn: 'game_status' });
      hand.defineUserTable(s.target, { dateColumn: 'game_date' });
      hand.addUserRows(s.schedule, fake!.rows(s.schedule));
      hand.addUserRows(s.target, fake!.rows(s.target));
      for (const t of Object.values(s.store.tables)) {
        const name = `${t.projectId}.${t.datasetId}.${t.tableId}`;
        hand.tables.set(
          name,
          fake!.rows(name).map((json, i) => ({ insertId: String(i), json, visibleAt: -Infinity })),
        );
      }
      expect(await rowsOf(hand, check)).toBe(2);
      expect(await rowsOf(hand, wrong)).toBe(2);
    } finally {
      await hand.stop();
    }
  });
});
