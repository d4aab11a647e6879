import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { isoDate, type RunRecord } from '@smart-backfill/core';
import { migrate, openSqliteStore, SCHEMA_VERSION, SqliteConfigError } from '@smart-backfill/sqlite';
import { aRequest, handClock, tempDir } from './helpers.js';
import { aRunRecord } from '@smart-backfill/testkit';

const T0 = Date.UTC(2025, 5, 1);

describe('openSqliteStore and migrate', () => {
  it('creates the schema once, sets WAL, and reopening migrates nothing', async () => {
    const tmp = tempDir();
    try {
      const a = openSqliteStore({ path: tmp.file('s.db') });
      expect(a.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(a.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const before = a.db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all();
      expect(migrate(a.db)).toBe(SCHEMA_VERSION);
      await a.close();
      await a.close(); // twice is fine
      const b = openSqliteStore({ path: tmp.file('s.db') });
      expect(b.db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all()).toEqual(before);
      await b.close();
    } finally {
      tmp.done();
    }
  });

  it('refuses a file from a newer schema', () => {
    const tmp = tempDir();
    try {
      const db = new Database(tmp.file('n.db'));
      db.pragma('user_version = 99');
      db.close();
      expect(() => openSqliteStore({ path: tmp.file('n.db') })).toThrow(/schema version 99, newer than this package knows/);
    } finally {
      tmp.done();
    }
  });

  it('names the path it cannot open', () => {
    expect(() => openSqliteStore({ path: '/nonexistent-dir-sb/x.db' })).toThrow(
      /^\[smart-backfill\] \[sqlite\] cannot open database "\/nonexistent-dir-sb\/x.db": /,
    );
  });

  it('a receive waiting when the store closes returns empty', async () => {
    const store = openSqliteStore({ path: ':memory:', pollIntervalMs: 5 });
    const waiting = store.queue.receive({ max: 1, leaseMs: 1000, waitMs: 60_000 });
    await store.close();
    expect(await waiting).toEqual([]);
    await expect(store.queue.receive({ max: 1, leaseMs: 1000 })).rejects.toThrow(/the queue is closed/);
  });

  it('rejects bad options with the field named', () => {
    expect(() => openSqliteStore({ path: '' })).toThrow(SqliteConfigError);
    expect(() => openSqliteStore({ path: '' })).toThrow(expect.objectContaining({ code: 'invalid_config', field: undefined }));
    expect(() => openSqliteStore({ path: ':memory:', busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
  });
});

describe('sqlite request tracker', () => {
  it('creates, dedupes per (processor, date), and walks the lifecycle with CAS', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const { tracker } = store;
    const r1 = await tracker.create([aRequest('r1', 'P', '2025-05-01', T0), aRequest('r2', 'P', '2025-05-02', T0)]);
    expect(r1.created.map((r) => r.requestId)).toEqual(['r1', 'r2']);
    const again = await tracker.create([
      aRequest('r1', 'P', '2025-05-01', T0),
      aRequest('r3', 'P', '2025-05-02', T0 + 1),
      aRequest('r4', 'Q', '2025-05-02', T0),
    ]);
    expect(again.created.map((r) => r.requestId)).toEqual(['r4']);
    expect(again.existing.map((r) => r.requestId)).toEqual(['r1', 'r2']);

    const claimed = await tracker.apply('r1', { _tag: 'Claim', at: T0 + 10, owner: 'w1', leaseMs: 1000 });
    expect(claimed._tag).toBe('Ok');
    const stale = await tracker.apply('r1', { _tag: 'Complete', at: T0 + 20, attempt: 2 });
    expect(stale).toMatchObject({ _tag: 'Err', error: { _tag: 'StaleAttempt' } });
    const done = await tracker.apply('r1', { _tag: 'Complete', at: T0 + 30, attempt: 1 });
    expect(done).toMatchObject({ _tag: 'Ok', value: { status: 'completed', completedAt: T0 + 30, attempt: 1, leaseOwner: null } });
    expect(await tracker.apply('nope', { _tag: 'Complete', at: T0, attempt: 1 })).toMatchObject({
      _tag: 'Err',
      error: { _tag: 'NotFound' },
    });

    // completed frees the date: a new request may be created for it
    expect((await tracker.create([aRequest('r5', 'P', '2025-05-01', T0 + 40)])).created).toHaveLength(1);
    const window = await tracker.forWindow({ processorName: 'P', start: isoDate('2025-05-01'), end: isoDate('2025-05-01') });
    expect(window.map((r) => [r.requestId, r.status])).toEqual([
      ['r1', 'completed'],
      ['r5', 'queued'],
    ]);
    expect(await tracker.get('r1')).toMatchObject({ metadata: { pattern: 'smart_backfill', auto_queued: true } });
    await store.close();
  });

  it('serves the outbox relay and the sweeper', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const { tracker } = store;
    await tracker.create([aRequest('a', 'P', '2025-05-01', T0), aRequest('b', 'P', '2025-05-02', T0 + 5)]);
    expect((await tracker.unpublished({ olderThan: T0, limit: 10 })).map((r) => r.requestId)).toEqual(['a']);
    await tracker.apply('a', { _tag: 'MarkPublished', at: T0 + 6 });
    expect((await tracker.unpublished({ olderThan: T0 + 10, limit: 10 })).map((r) => r.requestId)).toEqual(['b']);
    await tracker.apply('b', { _tag: 'Claim', at: T0 + 10, owner: 'w', leaseMs: 100 });
    expect(await tracker.expiredLeases({ now: T0 + 109, limit: 10 })).toEqual([]);
    expect((await tracker.expiredLeases({ now: T0 + 110, limit: 10 })).map((r) => r.requestId)).toEqual(['b']);
    const listed = await tracker.list({ processorName: 'P', statuses: ['processing', 'queued'] });
    expect(listed.map((r) => r.requestId)).toEqual(['b', 'a']); // newest first
    await store.close();
  });

  it("answers the seed's monitoring query (success rate and duration) in SQL", async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.tracker.create([aRequest('a', 'P', '2025-05-01', T0)]);
    await store.tracker.apply('a', { _tag: 'Claim', at: T0, owner: 'w', leaseMs: 600_000 });
    await store.tracker.apply('a', { _tag: 'Complete', at: T0 + 180_000, attempt: 1 });
    const rows = store.db
      .prepare(
        `SELECT processor_name, status, COUNT(*) AS count, AVG((completed_at - started_at) / 60000.0) AS avg_duration_min
         FROM backfill_requests WHERE requested_at >= ? GROUP BY processor_name, status`,
      )
      .all(T0 - 7 * 86_400_000);
    expect(rows).toEqual([{ processor_name: 'P', status: 'completed', count: 1, avg_duration_min: 3 }]);
    // the view spells the timestamps out
    expect(
      store.db.prepare('SELECT requested_at_iso, started_at_iso, completed_at_iso, duration_min FROM backfill_requests_view').get(),
    ).toEqual({
      requested_at_iso: '2025-06-01T00:00:00.000Z',
      started_at_iso: '2025-06-01T00:00:00.000Z',
      completed_at_iso: '2025-06-01T00:03:00.000Z',
      duration_min: 3,
    });
    await store.close();
  });
});

describe('sqlite backfill queue', () => {
  it('leases, redelivers after the lease, fences stale acks, dead-letters', async () => {
    const clock = handClock();
    const store = openSqliteStore({ path: ':memory:', clock });
    const { queue } = store;
    const msg = (id: string) => ({ id, data: JSON.stringify({ request_id: id }), attributes: { request_id: id } });
    const out = await queue.publish([msg('m1'), msg('m2')]);
    expect(out.map((o) => o._tag)).toEqual(['Published', 'Published']);
    // republishing a pending id is a no-op with the same transport id
    const again = await queue.publish([msg('m1')]);
    expect(again[0]).toEqual(out[0]);

    const [d1] = await queue.receive({ max: 1, leaseMs: 1000 });
    expect(d1?.message.id).toBe('m1');
    expect(d1?.deliveryAttempt).toBe(1);
    clock.advance(1000);
    const redelivered = await queue.receive({ max: 5, leaseMs: 1000 });
    expect(redelivered.map((d) => [d.message.id, d.deliveryAttempt])).toEqual([
      ['m1', 2],
      ['m2', 1],
    ]);
    await d1!.ack(); // stale: ignored
    expect(await queue.depth()).toEqual({ ready: 0, leased: 2, acked: 0, dead: 0 });
    await expect(d1!.extendLease(10)).rejects.toThrow(/cannot extend the lease/);
    await redelivered[0]!.ack();
    await redelivered[1]!.nack(500);
    expect(await queue.receive({ max: 5, leaseMs: 1000 })).toEqual([]);
    clock.advance(500);
    const [d2] = await queue.receive({ max: 5, leaseMs: 1000 });
    expect([d2?.message.id, d2?.deliveryAttempt]).toEqual(['m2', 2]);
    await d2!.deadLetter!('processor unknown');
    expect(await queue.depth()).toEqual({ ready: 0, leased: 0, acked: 1, dead: 1 });
    const [deadOne] = await queue.messages({ state: 'dead' });
    expect(deadOne).toMatchObject({ state: 'dead', deadReason: 'processor unknown', message: { id: 'm2' } });
    expect(await queue.redrive(deadOne!.messageId)).toBe(true);
    const [d3] = await queue.receive({ max: 1, leaseMs: 1000 });
    expect([d3?.message.id, d3?.deliveryAttempt]).toEqual(['m2', 1]);
    // an acked message may be redriven too, but never next to a live copy of itself
    const [acked] = await queue.messages({ state: 'acked' });
    await queue.publish([msg('m1')]);
    expect(await queue.redrive(acked!.messageId)).toBe(false);
    expect(await queue.redrive('999')).toBe(false);
    await d3!.ack();
    clock.advance(10);
    expect(await queue.pruneAcked(clock.now())).toBe(2);
    expect(await queue.depth()).toEqual({ ready: 1, leased: 0, acked: 0, dead: 0 });
    await store.close();
  });

  it('waits up to waitMs for a message and reports bad messages as outcomes', async () => {
    const store = openSqliteStore({ path: ':memory:', pollIntervalMs: 5 });
    const waiting = store.queue.receive({ max: 1, leaseMs: 1000, waitMs: 5_000 });
    setTimeout(() => void store.queue.publish([{ id: 'late', data: '{}', attributes: {} }]), 20);
    expect((await waiting).map((d) => d.message.id)).toEqual(['late']);
    const outcomes = await store.queue.publish([
      { id: '', data: '{}', attributes: {} },
      { id: 'ok', data: '{}', attributes: {} },
    ]);
    expect(outcomes[0]).toMatchObject({ _tag: 'PublishFailed', error: expect.stringContaining('messages[0].id') });
    expect(outcomes[1]).toMatchObject({ _tag: 'Published', id: 'ok' });
    expect((await store.queue.receive({ max: 1, leaseMs: 60_000 })).map((d) => d.message.id)).toEqual(['ok']);
    const ac = new AbortController();
    const aborted = store.queue.receive({ max: 1, leaseMs: 10, waitMs: 60_000, signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    await store.close();
  });
});

describe('sqlite run log and alert log', () => {
  const run = (runId: string, over: Partial<RunRecord> = {}): RunRecord =>
    aRunRecord(runId, 'P', '2025-05-10', T0, {
      outcome: 'skipped',
      skipReason: 'backfill_queued',
      finishedAt: T0 + 50,
      durationMs: 50,
      metadata: { gap_size: 2, missing_dates: [isoDate('2025-05-03'), isoDate('2025-05-04')] },
      ...over,
    });

  it("stores runs idempotently and answers the seed's gap-detection query", async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.runLog.append(run('a'));
    await store.runLog.append(run('a', { outcome: 'failed' })); // idempotent on runId
    await store.runLog.append(run('b', { startedAt: T0 + 1000, metadata: { gap_size: 1, missing_dates: [isoDate('2025-05-04')] } }));
    await store.runLog.append(run('c', { startedAt: T0 + 2000, outcome: 'failed', skipReason: null, errorMessage: 'Missing dependency' }));
    expect((await store.runLog.runs({ processorName: 'P' })).map((r) => [r.runId, r.outcome])).toEqual([
      ['a', 'skipped'],
      ['b', 'skipped'],
      ['c', 'failed'],
    ]);
    expect((await store.runLog.runs({ since: T0 + 1000, until: T0 + 1000 })).map((r) => r.runId)).toEqual(['b']);
    const gaps = store.db
      .prepare(
        `SELECT date(started_at / 1000.0, 'unixepoch') AS date, processor_name, COUNT(*) AS gap_detections,
                SUM(json_extract(metadata, '$.gap_size')) AS total_missing_dates,
                MIN(json_extract(metadata, '$.missing_dates[0]')) AS first_missing
         FROM analytics_processor_runs WHERE skip_reason = 'backfill_queued' GROUP BY 1, 2`,
      )
      .all();
    expect(gaps).toEqual([
      { date: '2025-06-01', processor_name: 'P', gap_detections: 2, total_missing_dates: 3, first_missing: '2025-05-03' },
    ]);
    const failures = store.db
      .prepare(
        `SELECT SUM(success = 0 AND error_message LIKE '%dependency%') AS dependency_failures, COUNT(*) AS total FROM analytics_processor_runs`,
      )
      .get();
    expect(failures).toEqual({ dependency_failures: 1, total: 3 });
    expect(store.db.prepare(`SELECT started_on, started_at_iso FROM analytics_processor_runs_view WHERE run_id = 'b'`).get()).toEqual({
      started_on: '2025-06-01',
      started_at_iso: '2025-06-01T00:00:01.000Z',
    });
    await store.close();
  });

  it('holds, refreshes and releases runs once', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const { runLog } = store;
    await runLog.hold({
      processorName: 'P',
      runDate: isoDate('2025-05-10'),
      heldAt: T0,
      reason: 'backfill_queued',
      waitingFor: [isoDate('2025-05-03')],
    });
    await runLog.hold({
      processorName: 'P',
      runDate: isoDate('2025-05-10'),
      heldAt: T0 + 5,
      reason: 'waiting_for_backfill',
      waitingFor: [isoDate('2025-05-04')],
    });
    await runLog.hold({ processorName: 'P', runDate: isoDate('2025-05-09'), heldAt: T0 + 6, reason: 'backfill_queued', waitingFor: [] });
    const held = await runLog.heldRuns({ status: 'held' });
    expect(held.map((h) => [h.runDate, h.heldAt, h.reason, h.waitingFor])).toEqual([
      ['2025-05-09', T0 + 6, 'backfill_queued', []],
      ['2025-05-10', T0, 'waiting_for_backfill', ['2025-05-04']],
    ]);
    const both = await Promise.all([
      runLog.release('P', isoDate('2025-05-10'), 'resumed', T0 + 9),
      runLog.release('P', isoDate('2025-05-10'), 'resumed', T0 + 9),
    ]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect(await runLog.heldRuns({ processorName: 'P', status: 'resumed' })).toMatchObject([{ runDate: '2025-05-10', releasedAt: T0 + 9 }]);
    await store.close();
  });

  it('opens an alert once, counts sends, resolves once, reopens as a new alert', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const { alertLog } = store;
    const base = {
      alertKey: 'P:gap',
      processorName: 'P',
      reason: 'gap_exceeds_threshold' as const,
      runDate: isoDate('2025-05-10'),
      missingDates: [isoDate('2025-05-01')],
      lastError: null,
      openedAt: T0,
    };
    expect((await alertLog.upsertOpen({ ...base, at: T0 })).created).toBe(true);
    const second = await alertLog.upsertOpen({ ...base, missingDates: [isoDate('2025-05-01'), isoDate('2025-05-02')], at: T0 + 10 });
    expect(second).toMatchObject({
      created: false,
      record: { openedAt: T0, updatedAt: T0 + 10, missingDates: ['2025-05-01', '2025-05-02'] },
    });
    await alertLog.markSent('P:gap', T0 + 11);
    await alertLog.markSent('P:gap', T0 + 12);
    expect(await alertLog.list({ openOnly: true })).toMatchObject([{ sendCount: 2, lastSentAt: T0 + 12 }]);
    expect(await alertLog.resolve('P:gap', T0 + 20)).toMatchObject({ resolvedAt: T0 + 20 });
    expect(await alertLog.resolve('P:gap', T0 + 21)).toBeUndefined();
    expect((await alertLog.upsertOpen({ ...base, openedAt: T0 + 30, at: T0 + 30 })).created).toBe(true);
    expect((await alertLog.list({ processorName: 'P' })).map((a) => a.resolvedAt)).toEqual([null, T0 + 20]);
    await store.close();
  });
});
