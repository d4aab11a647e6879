/**
 * Every statement the BigQuery adapter can issue, analyzed by ZetaSQL — the
 * open-source implementation of BigQuery's SQL dialect — with BigQuery's language
 * features and the parameter types the real client sends. The statements are
 * captured from the wire (real client, loopback REST fake); the catalog is what the
 * DDL of `init --bigquery` creates, plus the user tables the scenarios configure.
 *
 * Needs the ZetaSQL server: `scripts/zetasql-install.sh` (CI runs it). Without it the
 * suite is skipped with a visible SKIP line, unless SMART_BACKFILL_ZETASQL_REQUIRED=1.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryCatalog, parametersOf, type TypeProto } from './zetasql/analyzer.js';
import { captureStatements, distinct, PROJECT, USER_TABLES, type CapturedStatement } from './zetasql/capture.js';
import { findZetaSql, INSTALL_COMMAND, startZetaSql, type ZetaSqlServer } from './zetasql/server.js';
import { startFake } from './harness.js';

const found = findZetaSql();
const skip = 'skip' in found ? found.skip : false;
if (skip !== false) {
  if (process.env['SMART_BACKFILL_ZETASQL_REQUIRED'] === '1') throw new Error(`[bigquery zetasql] required but unavailable: ${skip}`);
  console.log(`SKIP [bigquery zetasql] ${skip}${skip.includes(INSTALL_COMMAND) ? '' : ` (install: ${INSTALL_COMMAND})`}`);
}

const fake = skip === false ? await startFake() : undefined;

/** Markers the adapter's source puts on its statements; each must be among the captured ones. */
const sourceOps = (): string[] => {
  const src = fileURLToPath(new URL('../src/', import.meta.url));
  const ops = new Set<string>();
  for (const f of readdirSync(src).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(join(src, f), 'utf8');
    for (const m of text.matchAll(/-- smart-backfill:([a-z]+(?:\.[a-zA-Z]+)?)(?=\\n|`)/g)) ops.add(m[1]!);
    // The tracker's templated marker (`tracker.${op}`): its ops are the first argument of select/selectRows/readKeys.
    if (text.includes('smart-backfill:tracker.${op}'))
      for (const m of text.matchAll(/\b(?:select|selectRows|readKeys)\(\s*'([a-zA-Z]+)'/g)) ops.add(`tracker.${m[1]!}`);
  }
  ops.delete('check'); // the combined check's marker carries its parts: `check window+requests`
  return [...ops].sort();
};

describe.skipIf(skip !== false)('ZetaSQL analysis of every statement the BigQuery adapter issues', () => {
  let server: ZetaSqlServer;
  let catalog: BigQueryCatalog;
  let statements: CapturedStatement[];
  let outcomes: string[];

  beforeAll(async () => {
    if ('skip' in found) return;
    server = await startZetaSql(found);
    catalog = new BigQueryCatalog(server);
    const captured = await captureStatements(fake!);
    statements = distinct(captured.statements);
    outcomes = captured.outcomes;
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('the DDL of init --bigquery analyzes statement by statement and builds the catalog', async () => {
    for (const t of USER_TABLES) {
      const extra = (t.pseudo ?? []).map((c) => ({ name: c.name, type: { type_kind: `TYPE_${c.type}` } as TypeProto, pseudo: true }));
      const a = await catalog.create(`CREATE TABLE \`${PROJECT}.${t.name}\` ${t.ddl}`, extra);
      expect(a.error).toBeUndefined();
    }
    const ddl = statements.filter((s) => s.op === 'ddl');
    const failures: string[] = [];
    for (const s of ddl) {
      const a = await catalog.create(s.sql);
      if (!a.ok) failures.push(`${a.error}\n${s.sql}`);
    }
    expect(failures).toEqual([]);
    // Four event tables, three latest-state views, three monitoring views.
    const tracking = [...catalog.tables.keys()].filter((k) => k.startsWith(`${PROJECT}.ops.`));
    expect(tracking.sort()).toEqual(
      [
        'alert_events',
        'alerts',
        'analytics_processor_runs',
        'backfill_request_events',
        'backfill_requests',
        'backfill_success_rate',
        'gap_detection_frequency',
        'held_run_events',
        'held_runs',
        'request_locks',
        'time_to_recovery',
      ].map((t) => `${PROJECT}.ops.${t}`),
    );
  });

  it('captures every kind of statement the adapter source contains', () => {
    // The flows reached every guard decision: queued and held, held again while in flight, ran, escalated, healed.
    expect(outcomes).toEqual(Array.from({ length: 3 }, () => ['Held', 'Held', 'Ran', 'Escalated', 'Escalated', 'Ran']).flat());
    const captured = new Set(statements.map((s) => s.op.split(' ')[0]!));
    expect(sourceOps().filter((op) => !captured.has(op))).toEqual([]);
    // Every combination of the guard check's combined read that the flows reach.
    expect(statements.filter((s) => s.op.startsWith('check ')).map((s) => s.op)).toContain('check window+requests+alerts+held');
  });

  it('every captured statement analyzes clean, with the parameter types the client sent', async () => {
    const failures: string[] = [];
    const queries = statements.filter((s) => s.op !== 'ddl');
    for (const s of queries) {
      // A script (the tracker's create transaction): each statement between BEGIN and COMMIT TRANSACTION
      // is analyzed alone, against the same catalog and parameters.
      const parts = s.sql.includes('BEGIN TRANSACTION;')
        ? s.sql
            .split(/;\n/)
            .map((x) => x.replace(/^-- smart-backfill:\S+\n/, '').replace(/;\s*$/, ''))
            .filter((x) => x !== 'BEGIN TRANSACTION' && x !== 'COMMIT TRANSACTION')
        : [s.sql];
      for (const sql of parts) {
        const a = await catalog.analyze(sql, parametersOf(s.params));
        if (!a.ok) failures.push(`${s.op}: ${a.error}\n${sql}\nparameters: ${JSON.stringify(s.params)}`);
      }
    }
    console.log(
      `[bigquery zetasql] ${statements.length} distinct statements analyzed (${statements.length - queries.length} DDL, ${queries.length} queries): ${[
        ...new Set(statements.map((s) => s.op)),
      ].join(', ')}`,
    );
    expect(failures).toEqual([]);
  });

  describe('the analyzer rejects a broken statement', () => {
    const one = (op: string): CapturedStatement => {
      const s = statements.find((x) => x.op === op);
      if (s === undefined) throw new Error(`no captured ${op} statement`);
      return s;
    };
    const rejects = async (sql: string, params: CapturedStatement['params'], message: RegExp): Promise<void> => {
      const a = await catalog.analyze(sql, parametersOf(params));
      expect(a.ok).toBe(false);
      expect(a.error).toMatch(message);
    };

    it('an unknown column', async () => {
      const s = one('tracker.get');
      await rejects(
        s.sql.replace('WHERE request_id = @request_id', 'WHERE requestid = @request_id'),
        s.params,
        /Unrecognized name: requestid/,
      );
    });

    it('a parameter of the wrong type', async () => {
      const s = one('tracker.since');
      const params = s.params.map((p) => (p.name === 'version' ? { ...p, parameterType: { type: 'STRING' } } : p));
      expect(params).not.toEqual(s.params);
      await rejects(s.sql, params, /No matching signature for operator >= for argument types: INT64, STRING/);
    });

    it('a parameter the statement uses but the client did not send', async () => {
      const s = one('held.get');
      await rejects(
        s.sql,
        s.params.filter((p) => p.name !== 'run_date'),
        /Query parameter 'run_date' not found/,
      );
    });

    it('a DDL option BigQuery does not have, and one of the wrong type', async () => {
      const table = statements.find((x) => x.op === 'ddl' && x.sql.includes('CREATE TABLE'))!;
      expect(table.sql).toContain('require_partition_filter = ');
      await rejects(
        table.sql.replace('require_partition_filter = ', 'require_partition_filtr = '),
        [],
        /Unknown option: require_partition_filtr/,
      );
      await rejects(
        table.sql.replace(/require_partition_filter = (TRUE|FALSE)/, "require_partition_filter = 'yes'"),
        [],
        /require_partition_filter/,
      );
    });

    it("the seed's SUM over a JSON_EXTRACT_SCALAR string", async () => {
      const view = statements.find((x) => x.op === 'ddl' && x.sql.includes('gap_detection_frequency'))!;
      const seed = "SUM(CAST(JSON_EXTRACT_SCALAR(metadata, '$.gap_size') AS INT64))";
      expect(view.sql).toContain(seed);
      await rejects(
        view.sql.replace(seed, "SUM(JSON_EXTRACT_SCALAR(metadata, '$.gap_size'))"),
        [],
        /No matching signature for aggregate function SUM for argument types: STRING/,
      );
    });
  });
});
