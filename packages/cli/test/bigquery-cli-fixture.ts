import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { addDays, isoDate, type IsoDate } from '@smart-backfill/core';

/** What the `store: bigquery` CLI flows (hand fake and ZetaSQL fake) share: names, and the user's processor. */
export const PROJECT = 'test-project';
export const P = 'player_game_summary';
export const SCHEDULE = `${PROJECT}.nba_raw.game_schedule`;
export const TARGET = `${PROJECT}.nba_analytics.player_game_summary`;
export const TOPIC = `projects/${PROJECT}/topics/bq-requests`;
export const SUB = `projects/${PROJECT}/subscriptions/bq-worker`;
export const ROWS_PER_DATE = 40;

/** The schedule's days, Oct 10 – Nov 17 (the flows hold the Nov 16 run for a missing Nov 15). */
export const scheduleDays = (): IsoDate[] => {
  const days: IsoDate[] = [];
  for (let d = isoDate('2025-10-10'); d <= '2025-11-17'; d = addDays(d, 1)) days.push(d);
  return days;
};

/**
 * The processor a user would write: it streams the date's rows into its BigQuery
 * target with the real client (here in emulator mode), idempotently (insertId per row).
 * It tags each row with the trigger so the test can tell a backfill from a resume.
 */
export const PROCESSOR_MODULE = `import bigquery from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('@google-cloud/bigquery')).href)};
const { BigQuery } = bigquery;
export async function run({ date, trigger, store }) {
  if (store.type !== 'bigquery') throw new Error('expected the BigQuery store, got ' + store.type);
  const client = new BigQuery({ projectId: store.projectId });
  const rows = Array.from({ length: ${ROWS_PER_DATE} }, (_, i) => ({ insertId: date + ':' + i, json: { game_date: date, player_id: i, run_trigger: trigger } }));
  await client.dataset('nba_analytics').table('player_game_summary').insert(rows, { raw: true });
  return { date, rows: rows.length };
}
`;
