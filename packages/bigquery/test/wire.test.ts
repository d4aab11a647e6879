/**
 * What the real @google-cloud/bigquery client (8.x) sends for our adapters, and how
 * BigQuery's answers and errors surface — against the local REST fake, offline.
 */
import { describe, expect, it } from 'vitest';
import { BigQuery } from '@google-cloud/bigquery';
import { isoDate, isSmartBackfillError, type IsoDate } from '@smart-backfill/core';
import { aNewRequest } from '@smart-backfill/testkit';
import { BigQueryAdapterError, applyDdl, openBigQueryStore, renderDdl } from '@smart-backfill/bigquery';
import { apiError } from './fake-bigquery-server.js';
import { freshDataset, startFake } from './harness.js';

const fake = await startFake();
const P = 'player_game_summary';

const aRequest = (id: string, date: string, at: number, processorName = P) =>
  aNewRequest(id, processorName, date, at, { metadata: { pattern: 'smart_backfill' } });

/** A schedule + TIMESTAMP target pair in a fresh dataset, like the seed's. */
const seedTables = (): { ds: string; schedule: string; target: string } => {
  const ds = freshDataset('nba');
  const schedule = `test-project.${ds}.game_schedule`;
  const target = `test-project.${ds}.player_game_summary`;
  fake.defineUserTable(schedule, { dateColumn: 'game_date', statusColumn: 'game_status' });
  fake.defineUserTable(target, { dateColumn: 'date_range_start', dateColumnType: 'TIMESTAMP' });
  return { ds, schedule, target };
};

const since = (mark: number) => fake.requests.slice(mark);
const queriesSince = (mark: number) => since(mark).filter((r) => r.method === 'POST' && r.path.endsWith('/queries'));
const insertsSince = (mark: number) => since(mark).filter((r) => r.path.endsWith('/insertAll'));
const paramsOf = (body: unknown): Record<string, { type: unknown; value: unknown }> => {
  const out: Record<string, { type: unknown; value: unknown }> = {};
  for (const qp of (body as { queryParameters?: { name: string; parameterType: unknown; parameterValue: unknown }[] }).queryParameters ??
    []) {
    out[qp.name] = { type: qp.parameterType, value: qp.parameterValue };
  }
  return out;
};

describe('one check = one window job + one request job, whatever the gap size', () => {
  it('reads schedule and counts in a single jobs.query with typed, non-empty parameters', async () => {
    const { ds, schedule, target } = seedTables();
    fake.addUserRows(
      schedule,
      ['2025-03-01', '2025-03-02', '2025-03-03'].map((d) => ({ game_date: d, game_status: 'Final' })),
    );
    fake.addUserRows(schedule, [{ game_date: '2025-03-04', game_status: 'Postponed' }]);
    fake.addUserRows(target, [
      { date_range_start: '2025-03-01T23:59:59.999Z' },
      { date_range_start: '2025-03-02T00:00:00.000Z' },
      { date_range_start: '2025-03-05T00:00:00.000Z' },
    ]);
    const store = openBigQueryStore({
      client: fake.client(),
      location: 'US',
      maximumBytesBilled: 50_000_000,
      labels: { app: 'smart-backfill' },
      tracking: { dataset: freshDataset() },
    });
    const window = store.window(
      { table: `${ds}.game_schedule`, dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final', 'Completed'] },
      { table: `${ds}.player_game_summary`, dateColumn: 'date_range_start', dateColumnType: 'TIMESTAMP' },
    );
    const mark = fake.requests.length;
    const data = await window.readWindow({ processorName: P, start: isoDate('2025-03-01'), end: isoDate('2025-03-04') });
    expect([...data.expectedDates].sort()).toEqual(['2025-03-01', '2025-03-02', '2025-03-03']);
    expect(Object.fromEntries(data.recordCounts)).toEqual({ '2025-03-01': 1, '2025-03-02': 1 });

    const [q] = queriesSince(mark);
    expect(queriesSince(mark)).toHaveLength(1);
    expect(q!.headers.authorization).toBe('Bearer fake-token-for-tests');
    const body = q!.body as Record<string, unknown>;
    expect(body).toMatchObject({
      useLegacySql: false,
      maximumBytesBilled: '50000000',
      location: 'US',
      labels: { app: 'smart-backfill' },
      parameterMode: 'named',
    });
    expect(String(body['query'])).toMatch(/^-- smart-backfill:window\n/);
    const params = paramsOf(body);
    // DATE parameters carry their value (a plain string typed DATE would arrive as `{}`).
    expect(params['s_start']).toEqual({ type: { type: 'DATE' }, value: { value: '2025-03-01' } });
    expect(params['s_end']).toEqual({ type: { type: 'DATE' }, value: { value: '2025-03-04' } });
    expect(params['s_statuses']).toEqual({
      type: { type: 'ARRAY', arrayType: { type: 'STRING' } },
      value: { arrayValues: [{ value: 'Final' }, { value: 'Completed' }] },
    });
    // The TIMESTAMP target is filtered on the column itself over [start, end + 1 day), so partitions prune.
    expect(params['t_from']).toEqual({ type: { type: 'TIMESTAMP' }, value: { value: '2025-03-01T00:00:00.000Z' } });
    expect(params['t_until']).toEqual({ type: { type: 'TIMESTAMP' }, value: { value: '2025-03-05T00:00:00.000Z' } });
    expect(String(body['query'])).toContain('`date_range_start` >= @t_from AND `date_range_start` < @t_until');
    expect(String(body['query'])).not.toMatch(/DATE\(`date_range_start`\)\s*(BETWEEN|>=|<)/);
  });

  it('costs two jobs to check and one create job to queue 25 dates, with no read-back', async () => {
    const { ds } = seedTables();
    const store = openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset() } });
    const window = store.window(
      { table: `${ds}.game_schedule`, dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final'] },
      { table: `${ds}.player_game_summary`, dateColumn: 'date_range_start', dateColumnType: 'TIMESTAMP' },
    );
    const q = { processorName: P, start: isoDate('2025-01-01'), end: isoDate('2025-01-30') };
    const mark = fake.requests.length;
    await window.readWindow(q);
    await store.tracker.forWindow(q);
    expect(queriesSince(mark)).toHaveLength(2);

    const dates: IsoDate[] = Array.from({ length: 25 }, (_, i) => isoDate(`2025-01-${String(i + 2).padStart(2, '0')}`));
    const afterCheck = fake.requests.length;
    const res = await store.tracker.create(dates.map((d, i) => aRequest(`req-${i}`, d, 1_000)));
    expect(res.created).toHaveLength(25);
    expect(insertsSince(afterCheck)).toHaveLength(0);
    const jobs = queriesSince(afterCheck);
    expect(jobs.map((r) => String((r.body as { query: string }).query).split('\n')[0])).toEqual(['-- smart-backfill:tracker.create']);
    const rows = (paramsOf(jobs[0]!.body)['rows'] as { value: { arrayValues: { value: string }[] } }).value.arrayValues;
    expect(rows).toHaveLength(25);
    expect(JSON.parse(rows[0]!.value)).toMatchObject({
      request_id: 'req-0',
      processor_name: P,
      game_date: '2025-01-02',
      status: 'queued',
      attempt: 0,
      version: 0,
      event: 'Create',
      event_id: 'req-0:0:0:queued:Create',
      requested_at: '1970-01-01T00:00:01.000Z',
      metadata: '{"pattern":"smart_backfill"}',
    });
  });
});

describe('date columns', () => {
  it('DATETIME rows count on their civil date, filtered on the column with DATETIME parameters', async () => {
    const ds = freshDataset('dt');
    fake.defineUserTable(`test-project.${ds}.loads`, { dateColumn: 'loaded', dateColumnType: 'DATETIME' });
    fake.addUserRows(`test-project.${ds}.loads`, [
      { loaded: '2025-03-01T23:59:59.999999' },
      { loaded: '2025-03-02T00:00:00' },
      { loaded: '2025-03-02T12:00:00' },
      { loaded: '2025-03-03T00:00:00' },
    ]);
    const store = openBigQueryStore({ client: fake.client() });
    const mark = fake.requests.length;
    const counts = await store
      .target({ table: `${ds}.loads`, dateColumn: 'loaded', dateColumnType: 'DATETIME' })
      .recordCounts({ processorName: P, start: isoDate('2025-03-01'), end: isoDate('2025-03-02') });
    expect(Object.fromEntries(counts)).toEqual({ '2025-03-01': 1, '2025-03-02': 2 });
    const params = paramsOf(queriesSince(mark)[0]!.body);
    expect(params['t_from']).toEqual({ type: { type: 'DATETIME' }, value: { value: '2025-03-01T00:00:00' } });
    expect(params['t_until']).toEqual({ type: { type: 'DATETIME' }, value: { value: '2025-03-03T00:00:00' } });
  });

  it('a separate partition column gets its own filter, widened by partitionLagDays', async () => {
    const ds = freshDataset('part');
    fake.defineUserTable(`test-project.${ds}.t`, {
      dateColumn: 'game_date',
      partitionColumn: '_PARTITIONTIME',
      partitionColumnType: 'TIMESTAMP',
    });
    fake.addUserRows(`test-project.${ds}.t`, [
      { game_date: '2025-03-02', _PARTITIONTIME: '2025-03-04T00:00:00Z' },
      { game_date: '2025-03-02', _PARTITIONTIME: '2025-03-06T00:00:00Z' },
    ]);
    const store = openBigQueryStore({ client: fake.client() });
    const mark = fake.requests.length;
    const counts = await store
      .target({ table: `${ds}.t`, dateColumn: 'game_date', partitionColumn: '_PARTITIONTIME', partitionLagDays: 2 })
      .recordCounts({ processorName: P, start: isoDate('2025-03-01'), end: isoDate('2025-03-02') });
    // The row loaded four days late falls outside the pruned partitions: that is what partitionLagDays bounds.
    expect(Object.fromEntries(counts)).toEqual({ '2025-03-02': 1 });
    const body = queriesSince(mark)[0]!.body as { query: string };
    expect(body.query).toContain('_PARTITIONTIME >= @t_part_from AND _PARTITIONTIME < @t_part_until');
    expect(paramsOf(body)['t_part_until']).toEqual({ type: { type: 'TIMESTAMP' }, value: { value: '2025-03-05T00:00:00.000Z' } });
  });
});

describe('append-only events with deterministic insertIds', () => {
  it('writes one row per transition, by DML but MarkPublished (streamed); the only DELETE is of the create lock row', async () => {
    const ds = freshDataset();
    const store = openBigQueryStore({ client: fake.client(), tracking: { dataset: ds } });
    const mark = fake.requests.length;
    await store.tracker.create([aRequest('r1', '2025-03-01', 1_000)]);
    await store.tracker.apply('r1', { _tag: 'MarkPublished', at: 1_001 });
    await store.tracker.apply('r1', { _tag: 'Claim', at: 2_000, owner: 'w1', leaseMs: 60_000 });
    await store.tracker.apply('r1', { _tag: 'Heartbeat', at: 3_000, attempt: 1, leaseMs: 60_000 });
    await store.tracker.apply('r1', { _tag: 'Heartbeat', at: 4_000, attempt: 1, leaseMs: 60_000 });
    await store.tracker.apply('r1', { _tag: 'Complete', at: 5_000, attempt: 1 });
    const ids = insertsSince(mark).flatMap((r) => (r.body as { rows: { insertId: string }[] }).rows.map((x) => x.insertId));
    // The mark takes the version of the row it marks (docs/bigquery.md, "What BigQuery cannot guarantee").
    expect(ids).toEqual(['r1:0:0:queued:MarkPublished']);
    expect(fake.rows(`test-project.${ds}.backfill_request_events`).map((r) => [r['version'], r['status'], r['event_time']])).toEqual([
      [0, 'queued', '1970-01-01T00:00:01.000Z'],
      [0, 'queued', '1970-01-01T00:00:01.001Z'],
      [1, 'processing', '1970-01-01T00:00:02.000Z'],
      [2, 'processing', '1970-01-01T00:00:03.000Z'],
      [3, 'processing', '1970-01-01T00:00:04.000Z'],
      [4, 'completed', '1970-01-01T00:00:05.000Z'],
    ]);
    for (const q of queriesSince(mark)) {
      const sql = String((q.body as { query: string }).query);
      if (sql.startsWith('-- smart-backfill:tracker.apply')) {
        expect(sql).toMatch(
          new RegExp(`^-- smart-backfill:tracker.apply\\nINSERT INTO \`test-project.${ds}.backfill_request_events\` \\(`),
        );
        expect(sql).not.toMatch(/\b(UPDATE|DELETE|MERGE)\b/);
      } else if (sql.startsWith('-- smart-backfill:tracker.create')) {
        expect(sql.match(/\b(UPDATE|DELETE|MERGE)\b[^;]*/g)).toEqual([
          `DELETE FROM \`test-project.${ds}.request_locks\` WHERE lock_key = @lock_key`,
        ]);
      } else expect(sql).not.toMatch(/\b(UPDATE|DELETE|MERGE|INSERT)\b/i);
    }
    expect((await store.tracker.get('r1'))?.status).toBe('completed');
  });

  it('a create retried after its answer was lost stores the request once and reports it', async () => {
    const ds = freshDataset();
    const a = openBigQueryStore({ client: fake.client(), tracking: { dataset: ds } });
    await a.tracker.create([aRequest('r1', '2025-03-01', 1_000)]);
    const again = await a.tracker.create([aRequest('r1', '2025-03-01', 1_000)]);
    expect(again.created).toEqual([]);
    expect(again.existing.map((r) => r.requestId)).toEqual(['r1']);
    expect(fake.rows(`test-project.${ds}.backfill_request_events`)).toHaveLength(1);
  });
});

describe('races between processes (separate trackers, no shared in-process lock)', () => {
  it('racing claims from two processes: the read-back tells the loser, which gets an Err', async () => {
    const ds = freshDataset();
    const a = openBigQueryStore({ client: fake.client(), tracking: { dataset: ds } });
    const b = openBigQueryStore({ client: fake.client(), tracking: { dataset: ds } });
    await a.tracker.create([aRequest('r1', '2025-03-01', 1_000)]);
    const [ra, rb] = await Promise.all([
      a.tracker.apply('r1', { _tag: 'Claim', at: 2_000, owner: 'worker-a', leaseMs: 1_000 }),
      b.tracker.apply('r1', { _tag: 'Claim', at: 2_000, owner: 'worker-b', leaseMs: 1_000 }),
    ]);
    expect([ra._tag, rb._tag].sort()).toEqual(['Err', 'Ok']);
    const loser = ra._tag === 'Err' ? ra : rb;
    expect(loser._tag === 'Err' && loser.error._tag).toBe('IllegalTransition');
    const winner = [ra, rb].find((r) => r._tag === 'Ok');
    const stored = await a.tracker.get('r1');
    expect([stored?.attempt, stored?.leaseOwner]).toEqual([1, winner?._tag === 'Ok' ? winner.value.leaseOwner : 'none']);
  });

  it("a create after another process's create of the same date reports the first, whatever their ids sort as", async () => {
    const ds = freshDataset();
    const a = openBigQueryStore({ client: fake.client(), tracking: { dataset: ds } });
    const b = openBigQueryStore({ client: fake.client(), tracking: { dataset: ds } });
    const q = { processorName: P, start: isoDate('2025-03-01'), end: isoDate('2025-03-01') };
    await a.tracker.forWindow(q);
    await b.tracker.forWindow(q); // both checks saw no request: the race
    const ra = await a.tracker.create([aRequest('y-2', '2025-03-01', 1_000)]);
    const rb = await b.tracker.create([aRequest('y-1', '2025-03-01', 1_000)]);
    expect(ra.created.map((r) => r.requestId)).toEqual(['y-2']);
    expect(rb.created).toEqual([]);
    expect(rb.existing.map((r) => r.requestId)).toEqual(['y-2']);
    expect((await b.tracker.forWindow(q)).map((r) => r.requestId)).toEqual(['y-2']);
    expect(await b.tracker.get('y-1')).toBeUndefined();
  });
});

describe('answers and errors as the client surfaces them', () => {
  it('follows getQueryResults pages', async () => {
    const store = openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset() } });
    await store.tracker.create(Array.from({ length: 7 }, (_, i) => aRequest(`p${i}`, `2025-03-0${i + 1}`, 1_000 + i)));
    fake.pageSize = 2;
    const mark = fake.requests.length;
    try {
      expect((await store.tracker.list({})).map((r) => r.requestId)).toEqual(['p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0']);
    } finally {
      fake.pageSize = 500;
    }
    const gets = since(mark).filter((r) => r.method === 'GET');
    expect(gets.map((r) => r.search.get('pageToken'))).toEqual(['1', '2', '3']);
  });

  it('5xx then success: the client retries jobs.query with the same requestId', async () => {
    const store = openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset() } });
    fake.fail({
      match: (r) => r.path.endsWith('/queries') && r.method === 'POST',
      status: 503,
      body: apiError(503, 'backendError', 'Service unavailable'),
    });
    const mark = fake.requests.length;
    expect(await store.tracker.get('nothing')).toBeUndefined();
    const posts = queriesSince(mark);
    expect(posts).toHaveLength(2);
    expect((posts[0]!.body as { requestId: string }).requestId).toBe((posts[1]!.body as { requestId: string }).requestId);
  });

  it('5xx then success on insertAll: same insertIds resent, one row stored', async () => {
    const ds = freshDataset();
    const store = openBigQueryStore({ client: fake.client(), verifyWrites: false, tracking: { dataset: ds } });
    fake.fail({ match: (r) => r.path.endsWith('/insertAll'), status: 500, body: apiError(500, 'backendError', 'internal') });
    const mark = fake.requests.length;
    await store.runLog.append({
      runId: 'run-1',
      processorName: P,
      runDate: isoDate('2025-03-05'),
      trigger: 'scheduled',
      isBackfill: false,
      outcome: 'skipped',
      skipReason: 'backfill_queued',
      errorMessage: null,
      startedAt: 5_000,
      finishedAt: 5_100,
      durationMs: 100,
      metadata: { gap_size: 2, missing_dates: [isoDate('2025-03-01'), isoDate('2025-03-02')] },
    });
    const sent = insertsSince(mark).map((r) => (r.body as { rows: { insertId: string }[] }).rows.map((x) => x.insertId));
    expect(sent).toEqual([['run:run-1'], ['run:run-1']]);
    const rows = fake.rows(`test-project.${ds}.analytics_processor_runs`);
    expect(rows).toHaveLength(1);
    // The seed's monitoring queries read these columns.
    expect(rows[0]).toMatchObject({
      processor_name: P,
      run_date: '1970-01-01T00:00:05.000Z',
      skip_reason: 'backfill_queued',
      success: true,
      metadata: '{"gap_size":2,"missing_dates":["2025-03-01","2025-03-02"]}',
    });
  });

  it('a 400 streaming-buffer error names the statement, the table and what to do', async () => {
    const { ds } = seedTables();
    const store = openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset() } });
    const target = store.target({ table: `${ds}.player_game_summary`, dateColumn: 'date_range_start', dateColumnType: 'TIMESTAMP' });
    fake.fail({
      match: (r) => r.path.endsWith('/queries'),
      status: 400,
      body: apiError(
        400,
        'invalidQuery',
        `UPDATE or DELETE statement over table test-project.${ds}.player_game_summary would affect rows in the streaming buffer, which is not supported`,
      ),
    });
    const e = await target
      .recordCounts({ processorName: P, start: isoDate('2025-03-01'), end: isoDate('2025-03-02') })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BigQueryAdapterError);
    const err = e as BigQueryAdapterError;
    expect(err.message).toMatch(
      new RegExp(
        `^\\[smart-backfill\\] \\[bigquery\\] reading counts from \`test-project\\.${ds}\\.player_game_summary\` failed: UPDATE or DELETE`,
      ),
    );
    expect(err.message).toContain('streaming buffer cannot be updated');
    expect(err.code).toBe('query_failed');
    expect(err.reasons).toEqual(['invalidQuery']);
    expect((err.cause as { code?: number }).code).toBe(400);
  });

  it.each([
    // Data errors: the statement met data it cannot handle; retrying the same call will not help.
    [400, 'invalidQuery', 'Bad int64 value: abc', 'query_failed'],
    [400, 'invalid', "Could not cast literal '2025-02-30' to type DATE", 'query_failed'],
    [400, 'bytesBilledLimitExceeded', 'Query exceeded limit for bytes billed: 1000000', 'query_failed'],
    // BigQuery failing on its side: retrying later may help.
    [503, 'backendError', 'Backend error. Job aborted.', 'unavailable'],
    [403, 'quotaExceeded', 'Quota exceeded: too many concurrent queries', 'unavailable'],
    // The loser of two concurrent transactions on one table: the statement was fine, running it again may pass.
    [400, 'invalidQuery', 'Transaction is aborted due to concurrent update against table p:d.request_locks.', 'contention'],
    [400, 'invalidQuery', 'Could not serialize access to table p:d.t due to concurrent update', 'contention'],
  ])('a %i %s error (%s) is coded %s', async (status, reason, message, code) => {
    const { ds } = seedTables();
    const store = openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset() } });
    const target = store.target({ table: `${ds}.player_game_summary`, dateColumn: 'date_range_start', dateColumnType: 'TIMESTAMP' });
    // Fails every try (the client retries 5xx); matched on this test's own dataset (`nba_1.`, not `nba_1` of `nba_11`) so no leftover touches another test.
    fake.fail({
      match: (r) => r.path.endsWith('/queries') && JSON.stringify(r.body).includes(`${ds}.`),
      status,
      body: apiError(status, reason, message),
      times: 100,
    });
    const e = await target
      .recordCounts({ processorName: P, start: isoDate('2025-03-01'), end: isoDate('2025-03-02') })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BigQueryAdapterError);
    expect(isSmartBackfillError(e)).toBe(true);
    expect(e).toMatchObject({ code, detail: 'query_failed', reasons: [reason] });
    expect((e as Error).message).toContain(message);
  });

  it('insertErrors (partial failure) surface with the rejected insertIds; nothing of the batch is stored', async () => {
    const ds = freshDataset();
    const store = openBigQueryStore({ client: fake.client(), verifyWrites: false, tracking: { dataset: ds } });
    fake.fail({
      match: (r) => r.path.endsWith('/insertAll'),
      insertErrors: [
        { index: 0, errors: [{ reason: 'invalid', message: 'no such field: surprise' }] },
        { index: 1, errors: [{ reason: 'stopped', message: '' }] },
      ],
      times: 2,
    });
    const mark = fake.requests.length;
    await store.tracker.create([aRequest('bad', '2025-03-01', 1), aRequest('good', '2025-03-02', 1)]);
    const e = await Promise.all([
      store.tracker.apply('bad', { _tag: 'MarkPublished', at: 2 }),
      store.tracker.apply('good', { _tag: 'MarkPublished', at: 2 }),
    ]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BigQueryAdapterError);
    const err = e as BigQueryAdapterError;
    // A row BigQuery refused is a data error: `query_failed`, with the statement kind as detail.
    expect([err.code, err.detail]).toEqual(['query_failed', 'insert_failed']);
    expect(err.message).toContain('2 of 2 rows were rejected');
    expect(err.message).toContain('bad:0:0:queued:MarkPublished: invalid no such field: surprise');
    expect(err.message).toContain('nothing of this batch was stored');
    expect(err.reasons).toEqual(['invalid', 'stopped']);
    // The client re-sent the failed rows once (insertPartialRetries = 1), with the same insertIds.
    expect(insertsSince(mark).map((r) => (r.body as { rows: { insertId: string }[] }).rows.map((x) => x.insertId))).toEqual([
      ['bad:0:0:queued:MarkPublished', 'good:0:0:queued:MarkPublished'],
      ['bad:0:0:queued:MarkPublished', 'good:0:0:queued:MarkPublished'],
    ]);
    expect(fake.rows(`test-project.${ds}.backfill_request_events`).map((r) => r['event'])).toEqual(['Create', 'Create']);
  });

  it('quota exceeded is not retried and says so; a rate limit is retried', async () => {
    const store = openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset() } });
    fake.fail({
      match: (r) => r.path.endsWith('/queries'),
      status: 403,
      body: apiError(403, 'quotaExceeded', 'Quota exceeded: Your project exceeded quota for concurrent queries'),
    });
    let mark = fake.requests.length;
    const e = (await store.alertLog.list({}).catch((x: unknown) => x)) as BigQueryAdapterError;
    expect(e.message).toMatch(
      /listing alerts from `test-project\.[^`]+\.alert_events` failed: Quota exceeded.*\[quotaExceeded\].*a BigQuery quota was hit/,
    );
    expect(queriesSince(mark)).toHaveLength(1);
    fake.fail({
      match: (r) => r.path.endsWith('/queries'),
      status: 403,
      body: apiError(403, 'rateLimitExceeded', 'Exceeded rate limits: too many table update operations'),
    });
    mark = fake.requests.length;
    expect(await store.alertLog.list({})).toEqual([]);
    expect(queriesSince(mark)).toHaveLength(2);
  });

  it('maximumBytesBilled: a per-adapter limit overrides the store default, and an exceeded limit is explained', async () => {
    const { ds } = seedTables();
    const store = openBigQueryStore({ client: fake.client(), maximumBytesBilled: '1000000', tracking: { dataset: freshDataset() } });
    const target = store.target({
      table: `${ds}.player_game_summary`,
      dateColumn: 'date_range_start',
      dateColumnType: 'TIMESTAMP',
      maximumBytesBilled: 5_000,
    });
    fake.fail({
      match: (r) => r.path.endsWith('/queries'),
      status: 400,
      body: apiError(400, 'bytesBilledLimitExceeded', 'Query exceeded limit for bytes billed: 5000. 10485760 or higher required.'),
    });
    const mark = fake.requests.length;
    const e = (await target
      .recordCounts({ processorName: P, start: isoDate('2025-03-01'), end: isoDate('2025-03-02') })
      .catch((x: unknown) => x)) as BigQueryAdapterError;
    expect((queriesSince(mark)[0]!.body as { maximumBytesBilled: string }).maximumBytesBilled).toBe('5000');
    expect(e.message).toContain('raise maximumBytesBilled');
    const m2 = fake.requests.length;
    await store.tracker.list({});
    expect((queriesSince(m2)[0]!.body as { maximumBytesBilled: string }).maximumBytesBilled).toBe('1000000');
  });

  it('why dates go through client.date(): the 8.x client drops a plain string typed DATE', async () => {
    const client = fake.client();
    const mark = fake.requests.length;
    await client.query({ query: '-- smart-backfill:ddl\nSELECT @d', params: { d: '2025-03-01' }, types: { d: 'DATE' } });
    await client.query({ query: '-- smart-backfill:ddl\nSELECT @d', params: { d: client.date('2025-03-01') }, types: { d: 'DATE' } });
    const sent = queriesSince(mark).map((r) => paramsOf(r.body)['d']!.value);
    expect(sent).toEqual([{}, { value: '2025-03-01' }]);
    expect(BigQuery.date('2025-03-01').value).toBe('2025-03-01');
  });
});

describe('DDL', () => {
  it('applyDdl runs every statement of renderDdl as its own job, in order', async () => {
    const client = fake.client();
    const mark = fake.requests.length;
    const ran = await applyDdl({ client, location: 'US', tracking: { dataset: 'smart_backfill' } });
    expect(ran).toHaveLength(13);
    const sent = queriesSince(mark).map((r) => String((r.body as { query: string }).query));
    expect(sent).toEqual(ran.map((s) => `-- smart-backfill:ddl\n${s}`));
    expect(renderDdl({ projectId: 'test-project', location: 'US', tracking: { dataset: 'smart_backfill' } })).toBe(
      `-- smart-backfill tracking tables for BigQuery. Safe to run again.\n\n${ran.join(';\n\n')};\n`,
    );
  });

  it('creates idempotently: partitioned, clustered as the seed suggests, views replaced', () => {
    const ddl = renderDdl({ projectId: 'my-proj', tracking: { dataset: 'nba_processing' } });
    expect(ddl).toContain('CREATE SCHEMA IF NOT EXISTS `my-proj.nba_processing`');
    expect(ddl).toMatch(
      /CREATE TABLE IF NOT EXISTS `my-proj\.nba_processing\.backfill_request_events` \([\s\S]*?\)\nPARTITION BY game_date\nCLUSTER BY processor_name, status, requested_at\nOPTIONS \(require_partition_filter = FALSE/,
    );
    expect(ddl).toMatch(
      /CREATE TABLE IF NOT EXISTS `my-proj\.nba_processing\.analytics_processor_runs` \([\s\S]*?\)\nPARTITION BY DATE\(run_date\)\nCLUSTER BY processor_name, skip_reason\nOPTIONS \(require_partition_filter = TRUE/,
    );
    expect(ddl).toContain('CREATE OR REPLACE VIEW `my-proj.nba_processing.backfill_requests` AS');
    expect(ddl).toContain(
      'QUALIFY ROW_NUMBER() OVER (PARTITION BY game_date, processor_name, request_id ORDER BY version DESC, event_time DESC, event_id DESC, writer_id DESC) = 1',
    );
    for (const v of ['gap_detection_frequency', 'backfill_success_rate', 'time_to_recovery', 'held_runs', 'alerts'])
      expect(ddl).toContain(`CREATE OR REPLACE VIEW \`my-proj.nba_processing.${v}\` AS`);
    expect(ddl).not.toMatch(/CREATE TABLE (?!IF NOT EXISTS)/);
    expect(ddl).not.toMatch(/CREATE VIEW/);
  });
});
