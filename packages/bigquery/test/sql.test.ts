/**
 * Every statement we send, checked for BigQuery syntax with node-sql-parser, and
 * hostile values shown to travel only as query parameters or insertAll data.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import pkg from 'node-sql-parser';
import type { BigQuery } from '@google-cloud/bigquery';
import { isoDate, type IsoDate, type WindowQuery } from '@smart-backfill/core';
import { openBigQueryStore, type BigQueryStore } from '@smart-backfill/bigquery';
import { ddlStatements } from '../src/ddl.js';
import { freshDataset, startFake } from './harness.js';

const { Parser } = pkg;
const parser = new Parser();
const fake = await startFake();
const P = 'player_game_summary';
const W: WindowQuery = { processorName: P, start: isoDate('2025-03-01'), end: isoDate('2025-03-31') };

/** Exercise every method and option shape of every adapter; return the SQL the client sent. */
const everyStatement = async (): Promise<string[]> => {
  const ds = freshDataset('sql');
  for (const [t, type] of [
    ['sched', 'DATE'],
    ['ts', 'TIMESTAMP'],
    ['dt', 'DATETIME'],
  ] as const) {
    fake.defineUserTable(`test-project.${ds}.${t}`, {
      dateColumn: 'd_col',
      dateColumnType: type,
      statusColumn: 'st',
      processorColumn: 'proc',
      partitionColumn: 'part',
      partitionColumnType: 'DATE',
    });
  }
  fake.defineUserTable(`test-project.${ds}.ing`, {
    dateColumn: 'd_col',
    dateColumnType: 'TIMESTAMP',
    partitionColumn: '_PARTITIONTIME',
    partitionColumnType: 'TIMESTAMP',
  });
  const mark = fake.requests.length;
  const s = openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset() }, verifyWrites: true });
  for (const t of ['sched', 'ts', 'dt'] as const) {
    const type = t === 'sched' ? 'DATE' : t === 'ts' ? 'TIMESTAMP' : 'DATETIME';
    const opts = {
      table: `${ds}.${t}`,
      dateColumn: 'd_col',
      dateColumnType: type,
      processorColumn: 'proc',
      partitionColumn: 'part',
      partitionColumnType: 'DATE',
      partitionLagDays: 2,
    } as const;
    await s.schedule({ ...opts, statusColumn: 'st', statuses: ['Final'] }).expectedDates(W);
    await s.target(opts).recordCounts(W);
    await s.window({ ...opts, statusColumn: 'st', statuses: ['Final'] }, opts).readWindow(W);
  }
  await s
    .target({ table: `${ds}.ing`, dateColumn: 'd_col', dateColumnType: 'TIMESTAMP', partitionColumn: '_PARTITIONTIME' })
    .recordCounts(W);
  const t = s.tracker;
  await t.create([
    {
      requestId: 'r1',
      processorName: P,
      date: isoDate('2025-03-02'),
      requestType: 'auto',
      priority: 'normal',
      requestedAt: 1,
      requestedBy: 'x',
      triggerReason: 'auto_backfill',
      metadata: {},
    },
  ]);
  await t.forWindow(W);
  await t.get('r1');
  await t.apply('r1', { _tag: 'Claim', at: 2, owner: 'w', leaseMs: 10 });
  await t.unpublished({ olderThan: 5, limit: 10 });
  await t.expiredLeases({ now: 50, limit: 10 });
  await t.list({});
  await t.list({ processorName: P, statuses: ['queued'], since: 0, limit: 5 });
  const run = {
    runId: 'x',
    processorName: P,
    runDate: isoDate('2025-03-05'),
    trigger: 'scheduled',
    isBackfill: false,
    outcome: 'succeeded',
    skipReason: null,
    errorMessage: null,
    startedAt: 1,
    finishedAt: 2,
    durationMs: 1,
    metadata: {},
  } as const;
  await s.runLog.append(run);
  await s.runLog.runs({});
  await s.runLog.runs({ processorName: P, since: 0, until: 10, limit: 3 });
  await s.runLog.lastBuilds?.({ processorNames: [P], since: 0 });
  await s.runLog.hold({
    processorName: P,
    runDate: isoDate('2025-03-05'),
    heldAt: 1,
    reason: 'backfill_queued',
    waitingFor: [isoDate('2025-03-01')],
  });
  await s.runLog.heldRuns({});
  await s.runLog.heldRuns({ processorName: P, status: 'held' });
  await s.runLog.release(P, isoDate('2025-03-05'), 'resumed', 3);
  await s.alertLog.upsertOpen({
    alertKey: 'k',
    processorName: P,
    reason: 'gap_exceeds_threshold',
    runDate: isoDate('2025-03-05'),
    missingDates: [],
    lastError: null,
    openedAt: 1,
    at: 1,
  });
  await s.alertLog.markSent('k', 2);
  await s.alertLog.resolve('k', 3);
  await s.alertLog.list({});
  await s.alertLog.list({ processorName: P, openOnly: true });
  await t.apply('r1', { _tag: 'MarkPublished', at: 4 });
  // A guard check: window, requests, alerts and held runs in one combined statement.
  const w = s.window(
    {
      table: `${ds}.sched`,
      dateColumn: 'd_col',
      statusColumn: 'st',
      statuses: ['Final'],
      processorColumn: 'proc',
      partitionColumn: 'part',
    },
    {
      table: `${ds}.ts`,
      dateColumn: 'd_col',
      dateColumnType: 'TIMESTAMP',
      processorColumn: 'proc',
      partitionColumn: 'part',
      partitionColumnType: 'DATE',
    },
  );
  await w.readCheck({ ...W, runDate: isoDate('2025-04-01') });
  await w.readWindow(W);
  await t.forWindow(W);
  return fake.requests
    .slice(mark)
    .filter((r) => r.method === 'POST' && r.path.endsWith('/queries'))
    .map((r) => (r.body as { query: string }).query);
};

describe('BigQuery syntax (node-sql-parser, bigquery dialect)', () => {
  it('parses every query the adapters send', async () => {
    const sqls = await everyStatement();
    const kinds = new Set(sqls.map((s) => /^-- smart-backfill:(\S+)/.exec(s)?.[1]));
    expect([...kinds].sort()).toEqual(
      [
        'alerts.get',
        'alerts.list',
        'alerts.since',
        'check',
        'counts',
        'held.apply',
        'held.get',
        'held.list',
        'held.since',
        'runs.lastBuilds',
        'runs.list',
        'schedule',
        'tracker.apply',
        'tracker.create',
        'tracker.expiredLeases',
        'tracker.forWindow',
        'tracker.get',
        'tracker.getMany',
        'tracker.list',
        'tracker.since',
        'tracker.unpublished',
        'window',
      ].sort(),
    );
    for (const sql of sqls) {
      if (sql.startsWith('-- smart-backfill:tracker.create')) {
        // A script: node-sql-parser has no BEGIN/COMMIT TRANSACTION, so each statement between them is parsed alone.
        const parts = sql.split(/;\n/).map((x) => x.replace(/^-- smart-backfill:\S+\n/, '').trim());
        expect(parts[0]).toBe('BEGIN TRANSACTION');
        expect(parts.filter((x) => x === 'COMMIT TRANSACTION')).toHaveLength(1);
        for (const part of parts.filter((x) => !x.endsWith('TRANSACTION')))
          expect(() => parser.astify(part.replace(/;$/, ''), { database: 'bigquery' }), part).not.toThrow();
        continue;
      }
      expect(() => parser.astify(sql, { database: 'bigquery' }), sql).not.toThrow();
      // Transitions are INSERT … SELECT (DML); nothing else writes through a query.
      expect(sql).not.toMatch(
        /^-- smart-backfill:(tracker|held)\.apply\n/.test(sql)
          ? /\b(UPDATE|DELETE|MERGE|TRUNCATE)\b/
          : /\b(UPDATE|DELETE|MERGE|INSERT|TRUNCATE)\b/,
      );
    }
  });

  it('parses the DDL, with three documented substitutions for parser gaps', () => {
    const statements = ddlStatements({
      projectId: 'my-proj',
      location: 'EU',
      tracking: { dataset: 'nba_processing' },
      partitionExpirationDays: 400,
    });
    expect(statements).toHaveLength(13);
    for (const sql of statements) {
      if (sql.startsWith('CREATE SCHEMA')) {
        // node-sql-parser 5.4 crashes on CREATE SCHEMA (any form); checked by shape instead.
        expect(sql).toBe("CREATE SCHEMA IF NOT EXISTS `my-proj.nba_processing`\nOPTIONS (location = 'EU')");
        continue;
      }
      // node-sql-parser 5.4 has no JSON column type, nor ADD COLUMN IF NOT EXISTS; STRING and a
      // plain ADD COLUMN take their place for the syntax check (ZetaSQL analyzes the real text).
      const parseable = sql.replace(/ JSON(,|\n)/g, ' STRING$1').replace(/ADD COLUMN IF NOT EXISTS /g, 'ADD COLUMN ');
      expect(() => parser.astify(parseable, { database: 'bigquery' }), sql).not.toThrow();
    }
  });
});

/** Strings built to break out of quoting, each with a marker that cannot occur in our SQL by accident. */
const hostile = fc
  .tuple(
    fc.constantFrom(
      "'",
      '"',
      '`',
      '\\',
      "'; DROP TABLE x; --",
      '` OR 1=1 --',
      '/* */',
      '\n--',
      '@processor',
      ')) UNION ALL SELECT 1 --',
      '${x}',
      'ё́🙂\u0000',
      '%_',
    ),
    fc.string({ maxLength: 12 }),
    fc.nat(),
  )
  .map(([a, b, n]) => `${a}${b}«${n}»${a}`);

/** A client that records what would be sent, to push many values through every method quickly. */
const recordingClient = (): { client: BigQuery; sql: string[]; params: unknown[]; rows: unknown[] } => {
  const sql: string[] = [];
  const params: unknown[] = [];
  const rows: unknown[] = [];
  const real = fake.client();
  const client = {
    projectId: 'test-project',
    date: (v: string) => real.date(v),
    timestamp: (v: Date) => real.timestamp(v),
    datetime: (v: string) => real.datetime(v),
    query: async (q: { query: string; params?: Record<string, unknown> }) => {
      sql.push(q.query);
      params.push(q.params ?? {});
      return [[]];
    },
    dataset: () => ({ table: () => ({ insert: async (r: unknown[]) => void rows.push(...r) }) }),
  };
  return { client: client as unknown as BigQuery, sql, params, rows };
};

const exerciseWith = async (s: BigQueryStore, name: string, date: IsoDate): Promise<void> => {
  const q = { processorName: name, start: date, end: date };
  const src = { table: 'ds.sched', dateColumn: 'game_date', statusColumn: 'st', statuses: [name], processorColumn: 'proc' };
  const tgt = { table: 'ds.tgt', dateColumn: 'ts', dateColumnType: 'TIMESTAMP', processorColumn: 'proc' } as const;
  await s.schedule(src).expectedDates(q);
  await s.target(tgt).recordCounts(q);
  await s.window(src, tgt).readWindow(q);
  await s.tracker.forWindow(q);
  await s.tracker.create([
    {
      requestId: name,
      processorName: name,
      date,
      requestType: 'manual',
      priority: 'low',
      requestedAt: 1,
      requestedBy: name,
      triggerReason: name,
      metadata: { note: name },
    },
  ]);
  await s.tracker.get(name);
  await s.tracker.apply(name, { _tag: 'Fail', at: 1, attempt: 1, error: name });
  await s.tracker.list({ processorName: name, statuses: ['queued'] });
  await s.runLog.append({
    runId: name,
    processorName: name,
    runDate: date,
    trigger: 'manual',
    isBackfill: true,
    outcome: 'failed',
    skipReason: null,
    errorMessage: name,
    startedAt: 1,
    finishedAt: 2,
    durationMs: 1,
    metadata: { why: name },
  });
  await s.runLog.runs({ processorName: name });
  await s.runLog.hold({ processorName: name, runDate: date, heldAt: 1, reason: 'backfill_queued', waitingFor: [date] });
  await s.runLog.heldRuns({ processorName: name });
  await s.runLog.release(name, date, 'cancelled', 2);
  await s.alertLog.upsertOpen({
    alertKey: name,
    processorName: name,
    reason: 'backfill_keeps_failing',
    runDate: date,
    missingDates: [date],
    lastError: name,
    openedAt: 1,
    at: 1,
  });
  await s.alertLog.markSent(name, 2);
  await s.alertLog.resolve(name, 3);
  await s.alertLog.list({ processorName: name });
};

const DATE = fc
  .integer({ min: 0, max: 3000 })
  .map((n) => isoDate(new Date(Date.UTC(2020, 0, 1) + n * 86_400_000).toISOString().slice(0, 10)));

describe('injection', () => {
  it('1,000 hostile processor names through every method: never in SQL text, always in parameters or row data', async () => {
    const rec = recordingClient();
    const s = openBigQueryStore({ client: rec.client, tracking: { dataset: 'smart_backfill' } });
    await fc.assert(
      fc.asyncProperty(hostile, DATE, async (name, date) => {
        const before = rec.sql.length;
        const rowsBefore = rec.rows.length;
        await exerciseWith(s, name, date);
        const sent = rec.sql.slice(before);
        expect(sent.length).toBeGreaterThanOrEqual(15);
        for (const sql of sent) expect(sql.includes(name)).toBe(false);
        const inParams = rec.params.slice(before).some((p) => JSON.stringify(p).includes(JSON.stringify(name).slice(1, -1)));
        const inRows = rec.rows.slice(rowsBefore).some((r) => JSON.stringify(r).includes(JSON.stringify(name).slice(1, -1)));
        expect(inParams && inRows).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('hostile dates are refused before any request, naming the field', async () => {
    const rec = recordingClient();
    const s = openBigQueryStore({ client: rec.client });
    await fc.assert(
      fc.asyncProperty(hostile, async (bad) => {
        const q = { processorName: P, start: bad as IsoDate, end: isoDate('2025-03-01') };
        await expect(s.tracker.forWindow(q)).rejects.toThrow(/forWindow\.start must be a YYYY-MM-DD date/);
        await expect(s.target({ table: 'd.t', dateColumn: 'c' }).recordCounts(q)).rejects.toThrow(
          /window\.start must be a YYYY-MM-DD date/,
        );
        await expect(
          s.tracker.create([
            {
              requestId: 'r',
              processorName: P,
              date: bad as IsoDate,
              requestType: 'auto',
              priority: 'normal',
              requestedAt: 1,
              requestedBy: 'x',
              triggerReason: 'x',
              metadata: {},
            },
          ]),
        ).rejects.toThrow(/requests\[0\]\.date must be a YYYY-MM-DD date/);
        await expect(
          s.runLog.hold({ processorName: P, runDate: bad as IsoDate, heldAt: 1, reason: 'backfill_queued', waitingFor: [] }),
        ).rejects.toThrow(/hold\.runDate: [\s\S]* is not a calendar date in YYYY-MM-DD form/);
      }),
      { numRuns: 200 },
    );
    expect(rec.sql).toEqual([]);
  });

  it('end to end through the real client: 25 hostile names arrive at the server as typed parameters only', async () => {
    const s = openBigQueryStore({ client: fake.client(), tracking: { dataset: freshDataset('inj') } });
    fake.defineUserTable('test-project.ds.sched', { dateColumn: 'game_date', statusColumn: 'st', processorColumn: 'proc' });
    fake.defineUserTable('test-project.ds.tgt', { dateColumn: 'ts', dateColumnType: 'TIMESTAMP', processorColumn: 'proc' });
    await fc.assert(
      fc.asyncProperty(hostile, DATE, async (name, date) => {
        const mark = fake.requests.length;
        await exerciseWith(s, name, date);
        const sent = fake.requests.slice(mark);
        for (const r of sent.filter((x) => x.path.endsWith('/queries'))) {
          const body = r.body as { query: string; queryParameters: unknown[] };
          expect(body.query.includes(name)).toBe(false);
        }
        expect(
          sent.some((r) =>
            JSON.stringify((r.body as { queryParameters?: unknown })?.queryParameters ?? null).includes(JSON.stringify(name).slice(1, -1)),
          ),
        ).toBe(true);
        expect(sent.some((r) => r.path.endsWith('/insertAll') && JSON.stringify(r.body).includes(JSON.stringify(name).slice(1, -1)))).toBe(
          true,
        );
      }),
      { numRuns: 25 },
    );
  });
});
