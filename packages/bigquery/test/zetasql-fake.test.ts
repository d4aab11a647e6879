/**
 * The ZetaSQL-evaluated BigQuery fake itself: DDL as its catalog, DML through
 * `EvaluateModify` (insert, update, delete), scripts run statement by statement,
 * transactions rolled back on ROLLBACK or error, pages of results, and streamed rows
 * that become visible `streamingVisibilityMs` after insertAll while DML rows are
 * visible at once. Time is a manual clock: nothing sleeps.
 *
 * Needs the ZetaSQL server (`scripts/zetasql-install.sh`); without it: a visible SKIP.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '@smart-backfill/testkit';
import { freshDataset } from './harness.js';
import { startZetaSqlFake, zetasqlSkip } from './zetasql/harness.js';

const skip = zetasqlSkip('bigquery zetasql fake');
const clock = new ManualClock(Date.UTC(2025, 10, 20, 8));
const fake = skip === false ? await startZetaSqlFake({ now: () => clock.now(), streamingVisibilityMs: 5_000 }) : undefined;

const query = async (sql: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]> => {
  const [rows] = await fake!.client().query({ query: sql, ...(params === undefined ? {} : { params }) });
  return rows as Record<string, unknown>[];
};

const table = async (): Promise<string> => {
  const ds = freshDataset('zfake');
  await query(`CREATE SCHEMA IF NOT EXISTS \`test-project.${ds}\``);
  await query(`CREATE TABLE \`test-project.${ds}.t\` (k STRING NOT NULL, v INT64, d DATE)`);
  return `test-project.${ds}.t`;
};

describe.skipIf(skip !== false)('the ZetaSQL-evaluated BigQuery fake', () => {
  it('streamed rows show up streamingVisibilityMs after insertAll; DML rows at once', async () => {
    const t = await table();
    const [p, d, name] = t.split('.');
    await fake!
      .client()
      .dataset(d!, { projectId: p! })
      .table(name!)
      .insert([{ insertId: 'a', json: { k: 'streamed', v: 1 } }], { raw: true });
    await query(`INSERT INTO \`${t}\` (k, v) VALUES ('dml', 2)`);
    expect((await query(`SELECT k FROM \`${t}\` ORDER BY k`)).map((r) => r['k'])).toEqual(['dml']);
    clock.advance(4_999);
    expect((await query(`SELECT k FROM \`${t}\` ORDER BY k`)).map((r) => r['k'])).toEqual(['dml']);
    clock.advance(1);
    expect((await query(`SELECT k FROM \`${t}\` ORDER BY k`)).map((r) => r['k'])).toEqual(['dml', 'streamed']);
  });

  it('runs UPDATE and DELETE on the rows they match, and reports the rows affected', async () => {
    const t = await table();
    await query(`INSERT INTO \`${t}\` (k, v) VALUES ('a', 1), ('b', 2), ('c', 3)`);
    const res = await fetch(`${fake!.url}/bigquery/v2/projects/test-project/queries`, {
      method: 'POST',
      headers: { authorization: 'Bearer fake-token-for-tests', 'content-type': 'application/json' },
      body: JSON.stringify({ query: `UPDATE \`${t}\` SET v = v * 10 WHERE k IN ('a', 'c')`, useLegacySql: false }),
    });
    expect(((await res.json()) as { numDmlAffectedRows?: string }).numDmlAffectedRows).toBe('2');
    await query(`DELETE FROM \`${t}\` WHERE k = 'b'`);
    expect(await query(`SELECT k, v FROM \`${t}\` ORDER BY k`)).toEqual([
      { k: 'a', v: 10 },
      { k: 'c', v: 30 },
    ]);
  });

  it('runs a script statement by statement, answering with its last SELECT', async () => {
    const t = await table();
    const rows = await query(
      `INSERT INTO \`${t}\` (k, v) VALUES ('x', 1);\nINSERT INTO \`${t}\` (k, v) SELECT 'y', v + 1 FROM \`${t}\` WHERE k = 'x';\nSELECT k, v FROM \`${t}\` ORDER BY k`,
    );
    expect(rows).toEqual([
      { k: 'x', v: 1 },
      { k: 'y', v: 2 },
    ]);
  });

  it('commits a transaction, rolls one back on ROLLBACK and on an error', async () => {
    const t = await table();
    await query(`BEGIN TRANSACTION;\nINSERT INTO \`${t}\` (k, v) VALUES ('kept', 1);\nCOMMIT TRANSACTION;`);
    await query(`BEGIN TRANSACTION;\nINSERT INTO \`${t}\` (k, v) VALUES ('rolled back', 2);\nROLLBACK TRANSACTION;`);
    await expect(
      query(
        `BEGIN TRANSACTION;\nINSERT INTO \`${t}\` (k, v) VALUES ('failed', 3);\nSELECT no_such_column FROM \`${t}\`;\nCOMMIT TRANSACTION;`,
      ),
    ).rejects.toThrow(/Unrecognized name: no_such_column/);
    expect((await query(`SELECT k FROM \`${t}\``)).map((r) => r['k'])).toEqual(['kept']);
  });

  /** Run job `a` up to its COMMIT, run job `b` whole, then let `a` commit. */
  const interleave = async (a: string, b: string): Promise<{ a: PromiseSettledResult<unknown>; b: PromiseSettledResult<unknown> }> => {
    let atCommit!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((r) => (atCommit = r));
    const held = new Promise<void>((r) => (release = r));
    fake!.beforeStatement = async (job, st) => {
      if (job === a && st.trim().startsWith('COMMIT')) {
        atCommit();
        await held;
      }
    };
    try {
      const first = query(a);
      await reached;
      const second = await Promise.allSettled([query(b)]);
      release();
      return { a: (await Promise.allSettled([first]))[0], b: second[0] };
    } finally {
      fake!.beforeStatement = undefined;
    }
  };

  it("aborts a transaction whose UPDATE meets another's committed since it began; INSERTs never conflict", async () => {
    const t = await table();
    await query(`INSERT INTO \`${t}\` (k, v) VALUES ('a', 0)`);
    const bump = (n: number) => `BEGIN TRANSACTION;\nUPDATE \`${t}\` SET v = v + ${n} WHERE k = 'a';\nCOMMIT TRANSACTION;`;
    const updates = await interleave(bump(1), bump(10));
    expect(updates.b.status).toBe('fulfilled');
    expect(updates.a.status === 'rejected' && String(updates.a.reason)).toMatch(/aborted due to concurrent update/);
    expect(await query(`SELECT v FROM \`${t}\``)).toEqual([{ v: 10 }]);

    const add = (k: string) => `BEGIN TRANSACTION;\nINSERT INTO \`${t}\` (k, v) VALUES ('${k}', 1);\nCOMMIT TRANSACTION;`;
    const inserts = await interleave(add('x'), add('y'));
    expect([inserts.a.status, inserts.b.status]).toEqual(['fulfilled', 'fulfilled']);
    expect((await query(`SELECT k FROM \`${t}\` ORDER BY k`)).map((r) => r['k'])).toEqual(['a', 'x', 'y']);
  });

  it('answers in pages, typed parameters included', async () => {
    const t = await table();
    await query(
      `INSERT INTO \`${t}\` (k, v, d) SELECT CONCAT('k', CAST(n AS STRING)), n, DATE '2025-11-01' FROM UNNEST(GENERATE_ARRAY(1, 25)) AS n`,
    );
    fake!.pageSize = 10;
    try {
      const rows = await query(`SELECT v FROM \`${t}\` WHERE d = @d AND v >= @min ORDER BY v`, {
        d: fake!.client().date('2025-11-01'),
        min: 3,
      });
      expect(rows.map((r) => r['v'])).toEqual(Array.from({ length: 23 }, (_, i) => i + 3));
    } finally {
      fake!.pageSize = 500;
    }
  });

  it('refuses what BigQuery refuses: a missing table, an unknown insertAll field, an existing table', async () => {
    const t = await table();
    await expect(query(`SELECT * FROM \`${t}_missing\``)).rejects.toThrow(/Not found: Table/);
    const [p, d, name] = t.split('.');
    await expect(
      fake!
        .client()
        .dataset(d!, { projectId: p! })
        .table(name!)
        .insert([{ insertId: 'z', json: { k: 'x', nope: 1 } }], { raw: true }),
    ).rejects.toThrow();
    await expect(query(`CREATE TABLE \`${t}\` (k STRING)`)).rejects.toThrow(/Already Exists/);
  });
});
