import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, isoDate, type IsoDate } from '@smart-backfill/core';
import type { ZetaSqlBigQuery } from '../../bigquery/test/zetasql/zetasql-bigquery.js';
import { startZetaSqlFake, zetasqlSkip } from '../../bigquery/test/zetasql/harness.js';
import { emulatorOrSkip, type Emulator } from '../../pubsub/test/emulator.js';
import { cleanupAfterEach, cli } from './helpers.js';

// A three-level pipeline on the cloud path: `store: bigquery` (SQL evaluated by ZetaSQL) and
// `queue: pubsub` (Google's emulator). raw_events loses a day; sessions (same day) and
// weekly_retention (the seven days before and the day) are held; the worker backfills the
// raw day once, and each downstream level is resumed once, in dependency order. A person's
// rebuild of the raw day with --with-downstream then rebuilds each level once, in order.
// Needs the ZetaSQL server and the emulator; without either: a visible SKIP (CI requires both).

const PROJECT = 'pipeline-project';
const DATASET = 'sb_pipe';
const LOST = isoDate('2025-11-16');
const LEVELS = ['raw_events', 'sessions', 'weekly_retention'] as const;
const ROWS = 3;

const zskip = zetasqlSkip('cli pipeline bigquery zetasql');
const found = zskip === false ? await emulatorOrSkip('cli pipeline on BigQuery and the Pub/Sub emulator') : { skip: zskip };
const emulator = 'skip' in found ? null : (found as Emulator);
const bq: ZetaSqlBigQuery | undefined = emulator !== null ? await startZetaSqlFake() : undefined;
let savedHost: string | undefined;
beforeAll(() => {
  if (bq === undefined) return;
  bq.allowNoAuth = true;
  savedHost = process.env['BIGQUERY_EMULATOR_HOST'];
  process.env['BIGQUERY_EMULATOR_HOST'] = bq.emulatorHost;
});
afterAll(async () => {
  if (savedHost === undefined) delete process.env['BIGQUERY_EMULATOR_HOST'];
  else process.env['BIGQUERY_EMULATOR_HOST'] = savedHost;
  await emulator?.stop();
});
const { temp } = cleanupAfterEach();

/** A user's processor for `table`: streams the date's rows with the real client, and notes each build in builds.log. */
const processorModule = (table: string): string => `import { appendFileSync } from 'node:fs';
import bigquery from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('@google-cloud/bigquery')).href)};
const { BigQuery } = bigquery;
export async function run({ date, trigger, store }) {
  const client = new BigQuery({ projectId: store.projectId });
  const rows = Array.from({ length: ${ROWS} }, (_, i) => ({ insertId: date + ':' + i + ':' + trigger, json: { event_date: date, n: i, run_trigger: trigger } }));
  await client.dataset('events').table(${JSON.stringify(table)}).insert(rows, { raw: true });
  appendFileSync(new URL('./builds.log', import.meta.url), ${JSON.stringify(table)} + ' ' + date + ' ' + trigger + '\\n');
}
`;

const seed = async (fake: ZetaSqlBigQuery): Promise<void> => {
  await fake.createTable(`${PROJECT}.events.calendar`, '(day DATE, state STRING)');
  const days: IsoDate[] = [];
  for (let d = isoDate('2025-10-20'); d <= '2025-11-20'; d = addDays(d, 1)) days.push(d);
  fake.addUserRows(
    `${PROJECT}.events.calendar`,
    days.map((d) => ({ day: d, state: 'open' })),
  );
  for (const level of LEVELS) {
    await fake.createTable(`${PROJECT}.events.${level}`, '(event_date DATE, n INT64, run_trigger STRING)');
    // Every level whole up to the day before the lost one; the lost day never arrived anywhere.
    for (const d of days.filter((x) => x < LOST))
      fake.addUserRows(
        `${PROJECT}.events.${level}`,
        Array.from({ length: ROWS }, (_, n) => ({ event_date: d, n, run_trigger: 'seed' })),
      );
  }
};

describe.skipIf(emulator === null)('a pipeline on store: bigquery (ZetaSQL) and queue: pubsub (the emulator)', { timeout: 180_000 }, () => {
  it('a lost raw day holds both levels; one upstream backfill by the worker; each level resumed once, in order', async () => {
    const fake = bq!;
    await seed(fake);
    const t = temp('sb-cli-pipe-');
    for (const level of LEVELS) t.write(`${level}.mjs`, processorModule(level));
    const id = `${process.pid}`;
    const processor = (name: (typeof LEVELS)[number], dependsOn?: { processor: string; lookbackDays: number }[]) => ({
      name,
      schedule: { table: 'events.calendar', dateColumn: 'day', statusColumn: 'state', statuses: ['open'] },
      target: { table: `events.${name}`, dateColumn: 'event_date' },
      policy: { minRecordsPerDate: ROWS, lookbackDays: 10 },
      module: `./${name}.mjs`,
      ...(dependsOn === undefined ? {} : { dependsOn }),
    });
    t.write('smart-backfill.config.json', {
      store: { type: 'bigquery', projectId: PROJECT, dataset: DATASET, location: 'US' },
      queue: {
        type: 'pubsub',
        projectId: PROJECT,
        topic: `pipe-requests-${id}`,
        subscription: `pipe-worker-${id}`,
        apiEndpoint: emulator!.host,
      },
      worker: { pollIntervalMs: 100 },
      // Declared out of order: the graph, not the file, decides the order.
      processors: [
        processor('weekly_retention', [{ processor: 'sessions', lookbackDays: 7 }]),
        processor('sessions', [{ processor: 'raw_events', lookbackDays: 0 }]),
        processor('raw_events'),
      ],
    });
    const cwd = t.dir;
    const env = { PUBSUB_EMULATOR_HOST: '' };
    expect((await cli(['init', '--bigquery', '--apply', '--json'], { cwd, env })).code).toBe(0);
    const init = await cli(['init', '--pubsub', '--apply', '--json'], { cwd, env });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);

    // The dry run says what would hold sessions, and queues nothing.
    const dry = await cli(['check', 'sessions', '--date', LOST, '--json'], { cwd, env });
    expect(dry.code, dry.stderr).toBe(3);
    expect(dry.json<{ upstream: unknown[] }>().upstream).toEqual([
      { processor: 'raw_events', missing: [LOST], queued: [LOST], inFlight: [], escalated: [] },
    ]);

    type Out = { outcome: { _tag: string; queued: { date: string }[]; inFlight: string[]; upstream?: unknown[] } };
    const sessions = await cli(['run', 'sessions', '--date', LOST, '--json'], { cwd, env });
    expect(sessions.stderr).toBe('');
    expect(sessions.code).toBe(3);
    expect(sessions.json<Out>().outcome).toMatchObject({
      _tag: 'Held',
      upstream: [{ processor: 'raw_events', missing: [LOST], queued: [LOST] }],
    });
    // weekly_retention reads sessions' lost day: it waits for it (its input, raw_events, is
    // missing), and queues no backfill of sessions that would build it from the missing raw day.
    const weekly = await cli(['run', 'weekly_retention', '--date', LOST, '--json'], { cwd, env });
    expect(weekly.stderr).toBe('');
    expect(weekly.code).toBe(3);
    expect(weekly.json<Out>().outcome).toMatchObject({
      _tag: 'Held',
      upstream: [{ processor: 'sessions', missing: [LOST], queued: [], inFlight: [LOST] }],
    });

    const status = async () =>
      (await cli(['status', '--json', '--today', LOST], { cwd, env })).json<{
        processors: { name: string; openRequests: { date: string }[]; heldRuns: { runDate: string }[] }[];
      }>().processors;
    // Keyed by name: the order `status` lists processors in is not what this test is about.
    const before = Object.fromEntries(
      (await status()).map((p) => [p.name, [p.openRequests.map((r) => r.date), p.heldRuns.map((h) => h.runDate)]]),
    );
    expect(before).toEqual({ raw_events: [[LOST], []], sessions: [[], [LOST]], weekly_retention: [[], [LOST]] });

    // One worker pass: the raw day is backfilled, and the heal flows down level by level.
    const tags: Record<string, unknown>[] = [];
    for (let i = 0; i < 20 && !tags.some((l) => l['_tag'] === 'Completed'); i++) {
      const w = await cli(['worker', '--once', '--json'], { cwd, env });
      expect(w.stderr).toBe('');
      for (const l of w.stdout.trim().split('\n'))
        if (l.startsWith('{')) {
          const o = JSON.parse(l) as Record<string, unknown>;
          if (o['_tag'] !== undefined) tags.push(o);
        }
    }
    expect(tags.map((l) => l['_tag'])).toEqual(['Completed']);

    const builds = readFileSync(join(cwd, 'builds.log'), 'utf8').trim().split('\n');
    expect(builds).toEqual([`raw_events ${LOST} backfill`, `sessions ${LOST} resume`, `weekly_retention ${LOST} resume`]);
    for (const level of LEVELS) expect(fake.rows(`${PROJECT}.events.${level}`).filter((r) => r['event_date'] === LOST)).toHaveLength(ROWS);
    const after = Object.fromEntries((await status()).map((p) => [p.name, [p.openRequests.length, p.heldRuns.length]]));
    expect(after).toEqual({ raw_events: [0, 0], sessions: [0, 0], weekly_retention: [0, 0] });

    // A person rebuilds the raw day with what reads it: each level after the one it reads, once.
    const bf = await cli(['backfill', 'raw_events', '--from', LOST, '--to', LOST, '--force', '--with-downstream', '--yes'], { cwd, env });
    expect(bf.code, bf.stderr).toBe(0);
    const built = () => readFileSync(join(cwd, 'builds.log'), 'utf8').trim().split('\n').slice(3);
    // Pub/Sub hands the three out together: sessions and weekly_retention wait (nacked for a second
    // or two, no attempt spent) while what they read is being built, so it takes a few passes.
    for (let i = 0; i < 300 && built().length < 3; i++) expect((await cli(['worker', '--once'], { cwd, env })).code).toBe(0);
    expect(built()).toEqual([`raw_events ${LOST} backfill`, `sessions ${LOST} cascade`, `weekly_retention ${LOST} cascade`]);
    expect(fake.jobErrors).toEqual([]);
  });
});
