/**
 * Streamed rows show up late, and guards race. BigQuery documents insertAll rows as
 * available to queries "within a few seconds"; the fake hides them for
 * `streamingVisibilityMs` on a ManualClock that the test never advances, so they stay
 * hidden for the whole test. And it cancels one of two transactions that mutate one
 * table at once, as BigQuery does (docs/bigquery.md, "Atomic create").
 */
import { describe, expect, it } from 'vitest';
import { addDays, isoDate, type NewBackfillRequest } from '@smart-backfill/core';
import { withSmartBackfill } from '@smart-backfill/engine';
import { memoryAlerter, memoryBackfillQueue } from '@smart-backfill/memory';
import { ManualClock, testAlertLog, testRequestTracker } from '@smart-backfill/testkit';
import { openBigQueryStore } from '@smart-backfill/bigquery';
import { freshDataset, startFake } from './harness.js';

const fake = await startFake();
const clock = new ManualClock(Date.UTC(2025, 10, 20, 8));
fake.now = () => clock.now();
fake.streamingVisibilityMs = 5_000;

const store = (dataset = freshDataset('late')) => openBigQueryStore({ client: fake.client(), tracking: { dataset } });

const req = (requestId: string, date: string): NewBackfillRequest => ({
  requestId,
  processorName: 'p',
  date: isoDate(date),
  requestType: 'auto',
  priority: 'normal',
  requestedAt: 1_000,
  requestedBy: 'guard',
  triggerReason: 'auto_backfill',
  metadata: {},
});

/** Active requests per (processor, date), from every stored row (the truth, not what queries see). */
const activePerDate = (dataset: string): Map<string, string[]> => {
  const latest = new Map<string, Record<string, unknown>>();
  for (const r of fake.rows(`test-project.${dataset}.backfill_request_events`)) {
    const cur = latest.get(String(r['request_id']));
    if (cur === undefined || Number(r['version']) > Number(cur['version'])) latest.set(String(r['request_id']), r);
  }
  const out = new Map<string, string[]>();
  for (const r of latest.values()) {
    if ((r['superseded_by'] ?? null) !== null || (r['status'] !== 'queued' && r['status'] !== 'processing')) continue;
    const k = `${String(r['processor_name'])} ${String(r['game_date'])}`;
    out.set(k, [...(out.get(k) ?? []), String(r['request_id'])]);
  }
  return out;
};

describe('guards racing to create requests for one date (one process each)', () => {
  it('eight concurrent creates: exactly one active request per date, and every guard is told which', async () => {
    const ds = freshDataset('race');
    const guards = Array.from({ length: 8 }, () => store(ds));
    const dates = ['2025-03-01', '2025-03-02', '2025-03-03'];
    fake.pauseCommits();
    const racing = Promise.all(guards.map((g, i) => g.tracker.create(dates.map((d) => req(`g${i}-${d}`, d)))));
    // Every transaction has taken its snapshot before any commits (without transactions, the creates simply finish).
    await Promise.race([fake.heldTransactions(guards.length), racing]);
    fake.resumeCommits();
    const results = await racing;
    const active = activePerDate(ds);
    expect([...active.keys()].sort()).toEqual(dates.map((d) => `p ${d}`));
    for (const ids of active.values()) expect(ids).toHaveLength(1);
    for (const d of dates) {
      const winner = active.get(`p ${d}`)![0];
      const told = results.map((r) => [...r.created, ...r.existing].find((x) => x.date === d)?.requestId);
      expect(told).toEqual(guards.map(() => winner));
    }
    expect(results.filter((r) => r.created.length > 0)).toHaveLength(1);
  });
});

describe('streamed rows invisible to queries for 5 s (the fake clock never gets there)', () => {
  testRequestTracker({ name: 'bigquery, late streamed rows', numRuns: 4, create: async () => ({ tracker: store().tracker }) });

  testAlertLog({ name: 'bigquery, late streamed rows', create: async () => ({ alertLog: store().alertLog }) });
});

// Its own fake and clock: this test lets the streamed row become visible.
const late = await startFake();
const now = new ManualClock(Date.UTC(2025, 10, 20, 8));
late.now = () => now.now();
late.streamingVisibilityMs = 5_000;

describe('a fast worker claims before the guard marks the request published', () => {
  it('the streamed MarkPublished, once visible, never takes the claim back: the worker completes', async () => {
    const ds = freshDataset('mark');
    const open = () => openBigQueryStore({ client: late.client(), tracking: { dataset: ds } });
    const [guard, worker, status] = [open(), open(), open()];
    const t = now.now();
    const created = await guard.tracker.create([{ ...req('r1', '2025-03-01'), requestedAt: t }]);
    expect(created.created.map((r) => r.requestId)).toEqual(['r1']);
    // Published; the worker got the message and claimed before the guard's mark went out.
    expect((await worker.tracker.apply('r1', { _tag: 'Claim', at: t + 1, owner: 'w', leaseMs: 60_000 }))._tag).toBe('Ok');
    expect((await guard.tracker.apply('r1', { _tag: 'MarkPublished', at: t + 2 }))._tag).toBe('Ok');
    now.advance(10_000); // the streamed mark is visible now
    expect((await status.tracker.get('r1'))?.status).toBe('processing');
    const done = await worker.tracker.apply('r1', { _tag: 'Complete', at: t + 3, attempt: 1 });
    expect(done._tag === 'Ok' && done.value.status).toBe('completed');
    expect((await status.tracker.get('r1'))?.status).toBe('completed');
  });
});

describe('a guard check sees its own process writes that queries do not show yet', () => {
  it('an alert this process opened (still streaming) is healed by its next check once the gap is filled', async () => {
    const ds = freshDataset('heal');
    fake.defineUserTable(`test-project.${ds}.schedule`, { dateColumn: 'game_date' });
    fake.defineUserTable(`test-project.${ds}.target`, { dateColumn: 'game_date' });
    const runDate = isoDate('2025-11-20');
    const days = Array.from({ length: 30 }, (_, i) => addDays(runDate, -30 + i));
    fake.addUserRows(
      `test-project.${ds}.schedule`,
      days.map((d) => ({ game_date: d })),
    );
    const fill = (dates: readonly string[]): void => {
      for (const d of dates)
        fake.addUserRows(
          `test-project.${ds}.target`,
          Array.from({ length: 100 }, () => ({ game_date: d })),
        );
    };
    const missing = days.slice(20, 26);
    fill(days.filter((d) => !missing.includes(d)));
    const s = store();
    const alerter = memoryAlerter();
    const guarded = withSmartBackfill(
      { name: 'heal', run: async () => 'ok' },
      {
        window: s.window({ table: `${ds}.schedule`, dateColumn: 'game_date' }, { table: `${ds}.target`, dateColumn: 'game_date' }),
        tracker: s.tracker,
        queue: memoryBackfillQueue({ clock }),
        runLog: s.runLog,
        alertLog: s.alertLog,
        alerter,
        clock,
      },
    );
    expect((await guarded.run({ date: runDate }))._tag).toBe('Escalated');
    fill(missing);
    expect((await guarded.run({ date: runDate }))._tag).toBe('Ran');
    expect(alerter.notices.map((n) => n.kind)).toEqual(['escalated', 'healed']);
  });
});
