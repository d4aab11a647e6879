/**
 * What one guard `run()` costs on the BigQuery store, per decision: the engine's
 * real guard over the real client and the loopback fake, counting the query jobs
 * and insertAll calls the fake receives. Issue 13: at most two query jobs per
 * decision with default settings, read-backs included. The check's reads (schedule,
 * counts, requests, alerts, held runs) are one job (the store's `CheckReader`); the
 * changes after it build on what it read, or on what the change before returned.
 */
import { describe, expect, it } from 'vitest';
import { addDays, isoDate, type IsoDate } from '@smart-backfill/core';
import { resumeHeldRuns, withSmartBackfill, type GuardedProcessor, type GuardOutcome, type Processor } from '@smart-backfill/engine';
import { memoryAlerter, memoryBackfillQueue } from '@smart-backfill/memory';
import { ManualClock } from '@smart-backfill/testkit';
import { openBigQueryStore } from '@smart-backfill/bigquery';
import type { RecordedRequest } from './fake-bigquery-server.js';
import { freshDataset, startFake } from './harness.js';

const fake = await startFake();

/** Statements that read what the check decides on, or the state a write builds on. */
const READS = /^(check|window|tracker\.(forWindow|existing|get|getMany)|alerts\.(list|get)|held\.(list|get))\b/;
/** Read-backs that detect a lost race (`verifyWrites`). */
const VERIFY = /^(tracker\.settle|tracker\.since|alerts\.since|held\.since)$/;

interface Cost {
  readonly queryJobs: number;
  readonly readJobs: number;
  readonly verifyJobs: number;
  readonly insertAlls: number;
  readonly statements: readonly string[];
}

const costOf = (reqs: readonly RecordedRequest[]): Cost => {
  const statements = reqs.map((r) =>
    r.path.endsWith('/insertAll')
      ? `insertAll ${r.path.split('/tables/')[1]!.split('/')[0]}`
      : r.method === 'POST' && r.path.endsWith('/queries')
        ? String((r.body as { query: string }).query)
            .split('\n')[0]!
            .replace('-- smart-backfill:', '')
        : `${r.method} ${r.path}`,
  );
  const queries = reqs
    .filter((r) => r.method === 'POST' && (r.path.endsWith('/queries') || r.path.endsWith('/jobs')))
    .map((r) =>
      String((r.body as { query?: string }).query ?? '')
        .split('\n')[0]!
        .replace('-- smart-backfill:', ''),
    );
  return {
    queryJobs: queries.length,
    readJobs: queries.filter((q) => READS.test(q)).length,
    verifyJobs: queries.filter((q) => VERIFY.test(q)).length,
    insertAlls: reqs.filter((r) => r.path.endsWith('/insertAll')).length,
    statements,
  };
};

const setup = (name: string, verifyWrites: boolean | undefined) => {
  const ds = freshDataset('cost');
  const schedule = `test-project.${ds}.schedule`;
  const target = `test-project.${ds}.target`;
  fake.defineUserTable(schedule, { dateColumn: 'game_date', statusColumn: 'game_status' });
  fake.defineUserTable(target, { dateColumn: 'game_date' });
  const runDate = isoDate('2025-11-20');
  const days: IsoDate[] = Array.from({ length: 30 }, (_, i) => addDays(runDate, -30 + i));
  fake.addUserRows(
    schedule,
    days.map((d) => ({ game_date: d, game_status: 'Final' })),
  );
  const fill = (dates: readonly IsoDate[]): void => {
    for (const d of dates)
      fake.addUserRows(
        target,
        Array.from({ length: 100 }, () => ({ game_date: d })),
      );
  };
  const clock = new ManualClock(Date.UTC(2025, 10, 20, 8));
  const store = openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset() }, verifyWrites });
  const alerter = memoryAlerter();
  const inner: Processor = { name, run: async () => 'ok' };
  const guarded = withSmartBackfill(inner, {
    window: store.window(
      { table: `${ds}.schedule`, dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final'] },
      { table: `${ds}.target`, dateColumn: 'game_date' },
    ),
    tracker: store.tracker,
    queue: memoryBackfillQueue({ clock }),
    runLog: store.runLog,
    alertLog: store.alertLog,
    alerter,
    clock,
  });
  const run = async (): Promise<{ outcome: GuardOutcome; cost: Cost }> => {
    const mark = fake.requests.length;
    const outcome = await guarded.run({ date: runDate });
    clock.advance(60_000);
    return { outcome, cost: costOf(fake.requests.slice(mark)) };
  };
  /** The processor's held runs resumed as a worker does; the cost of the guard's own re-run in it, apart. */
  const resume = async (): Promise<{ outcomes: readonly GuardOutcome[]; cost: Cost }> => {
    let cost: Cost | undefined;
    const measured: GuardedProcessor = {
      ...guarded,
      run: async (o) => {
        const mark = fake.requests.length;
        const outcome = await guarded.run(o);
        cost = costOf(fake.requests.slice(mark));
        return outcome;
      },
    };
    const r = await resumeHeldRuns(
      { tracker: store.tracker, runLog: store.runLog, clock, guardFor: (n) => (n === name ? measured : undefined) },
      name,
      {},
    );
    if (cost === undefined) throw new Error('no held run was resumed');
    return { outcomes: r.outcomes, cost };
  };
  return { days, fill, run, resume, store, alerter, now: () => clock.now() };
};

const figures: string[] = [];
const report = (label: string, c: Cost): void => {
  figures.push(
    `${label}: ${c.queryJobs} query jobs (${c.readJobs} read, ${c.verifyJobs} read-back), ${c.insertAlls} insertAll — ${c.statements.join(', ')}`,
  );
  console.log(`[bigquery cost] ${figures[figures.length - 1]}`);
};

// undefined: the defaults, which must keep every decision within two jobs, read-backs included.
describe.each([true, false, undefined])('query jobs per guard run on the BigQuery store (verifyWrites %s)', (verify) => {
  /** Every query job of a run, read-backs included: at most two. */
  const total = (c: Cost): void => {
    expect(c.queryJobs).toBeLessThanOrEqual(2);
  };
  it('no gap: one read job, one insertAll', async () => {
    const s = setup(`no_gap_${verify}`, verify);
    s.fill(s.days);
    const { outcome, cost } = await s.run();
    expect(outcome._tag).toBe('Ran');
    report(`no gap (verifyWrites ${verify})`, cost);
    total(cost);
    expect(cost.statements.filter((x) => !x.startsWith('insertAll'))).toEqual(['check window+requests+alerts+held']);
    expect(cost.readJobs).toBeLessThanOrEqual(2);
    expect(cost.insertAlls).toBe(1);
  });

  it('small gap queued, then the same gap in flight, then healed by backfills', async () => {
    const s = setup(`small_gap_${verify}`, verify);
    const missing = [s.days[20]!, s.days[21]!];
    s.fill(s.days.filter((d) => !missing.includes(d)));

    const queued = await s.run();
    expect(queued.outcome._tag).toBe('Held');
    expect(queued.outcome._tag === 'Held' && queued.outcome.queued.map((r) => r.date)).toEqual(missing);
    report(`small gap queued (2 dates) (verifyWrites ${verify})`, queued.cost);
    total(queued.cost);
    expect(queued.cost.readJobs).toBeLessThanOrEqual(2);

    const inFlight = await s.run();
    report(`gap in flight (verifyWrites ${verify})`, inFlight.cost);
    total(inFlight.cost);
    expect(inFlight.outcome._tag).toBe('Held');
    expect(inFlight.outcome._tag === 'Held' && inFlight.outcome.inFlight).toEqual(missing);
    expect(inFlight.cost.readJobs).toBeLessThanOrEqual(2);
    // Nothing re-queued: the only request inserts would be new requests or MarkPublished.
    expect(inFlight.cost.statements.filter((x) => x === 'insertAll backfill_request_events')).toEqual([]);
    // The re-check after holding judges the run it held, handed over: no held-run read.
    expect(inFlight.cost.statements.filter((x) => x.startsWith('held.'))).toEqual([]);
  });

  it('`run` on a held date whose gap was filled meanwhile', async () => {
    const s = setup(`held_date_${verify}`, verify);
    const missing = [s.days[20]!, s.days[21]!];
    s.fill(s.days.filter((d) => !missing.includes(d)));
    expect((await s.run()).outcome._tag).toBe('Held');
    s.fill(missing);
    const again = await s.run();
    report(`run on a held date (verifyWrites ${verify})`, again.cost);
    expect(again.outcome._tag).toBe('Ran');
    total(again.cost);
  });

  it('resume: the re-run of a held date once its backfills filled it', async () => {
    const s = setup(`resume_${verify}`, verify);
    const missing = [s.days[20]!, s.days[21]!];
    s.fill(s.days.filter((d) => !missing.includes(d)));
    const held = await s.run();
    expect(held.outcome._tag).toBe('Held');
    s.fill(missing);
    // A worker's backfills, done: the evidence a held run resumes on.
    for (const r of held.outcome._tag === 'Held' ? held.outcome.queued : []) {
      const claimed = await s.store.tracker.apply(r.requestId, { _tag: 'Claim', at: s.now(), owner: 'w', leaseMs: 60_000 });
      expect(claimed._tag).toBe('Ok');
      expect((await s.store.tracker.apply(r.requestId, { _tag: 'Complete', at: s.now(), attempt: 1 }))._tag).toBe('Ok');
    }
    const resumed = await s.resume();
    expect(resumed.outcomes.map((o) => o._tag)).toEqual(['Ran']);
    report(`resume (verifyWrites ${verify})`, resumed.cost);
    total(resumed.cost);
  });

  it('large gap escalated, then healed', async () => {
    const s = setup(`large_gap_${verify}`, verify);
    const missing = s.days.slice(20, 26);
    s.fill(s.days.filter((d) => !missing.includes(d)));

    const escalated = await s.run();
    expect(escalated.outcome._tag).toBe('Escalated');
    expect(s.alerter.notices.map((n) => n.kind)).toEqual(['escalated']);
    report(`large gap escalated (6 dates) (verifyWrites ${verify})`, escalated.cost);
    total(escalated.cost);
    expect(escalated.cost.readJobs).toBeLessThanOrEqual(2);

    const again = await s.run();
    expect(again.outcome._tag).toBe('Escalated');
    expect(s.alerter.notices.map((n) => n.kind)).toEqual(['escalated']);
    report(`large gap still open (alert known) (verifyWrites ${verify})`, again.cost);
    total(again.cost);
    expect(again.cost.readJobs).toBeLessThanOrEqual(2);

    s.fill(missing);
    const healed = await s.run();
    expect(healed.outcome._tag).toBe('Ran');
    expect(s.alerter.notices.map((n) => n.kind)).toEqual(['escalated', 'healed']);
    expect(await s.store.alertLog.list({ processorName: `large_gap_${verify}`, openOnly: true })).toEqual([]);
    report(`alert healed (verifyWrites ${verify})`, healed.cost);
    total(healed.cost);
    expect(healed.cost.readJobs).toBeLessThanOrEqual(2);
  });
});

describe('a failing combined check', () => {
  it('falls back to one job per read, so an alerts failure stays soft and the run goes ahead', async () => {
    const s = setup('fallback', true);
    s.fill(s.days);
    const sqlStarts =
      (prefix: string) =>
      (r: RecordedRequest): boolean =>
        r.path.endsWith('/queries') && String((r.body as { query?: string } | undefined)?.query ?? '').startsWith(prefix);
    fake.fail({
      match: sqlStarts('-- smart-backfill:check'),
      status: 400,
      body: { error: { code: 400, message: 'scripted', errors: [{ reason: 'invalidQuery', message: 'scripted' }] } },
    });
    fake.fail({
      match: sqlStarts('-- smart-backfill:alerts.list'),
      status: 400,
      body: { error: { code: 400, message: 'scripted', errors: [{ reason: 'invalidQuery', message: 'scripted' }] } },
    });
    const { outcome, cost } = await s.run();
    expect(outcome._tag).toBe('Ran');
    expect(cost.statements.filter((x) => !x.startsWith('insertAll')).sort()).toEqual([
      'alerts.list',
      'check window+requests+alerts+held',
      'tracker.forWindow',
      'window',
    ]);
    expect(s.alerter.notices).toEqual([]);
  });
});
