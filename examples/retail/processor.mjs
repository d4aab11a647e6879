// The nightly job as a `module` processor of `smart-backfill run` / `worker`
// (`"module": "./processor.mjs"` in the config): rebuild orders_daily for one date.
// smart-backfill only reads the warehouse; this job — the user's own — is what writes it.
import Database from 'better-sqlite3';
import { buildOrdersDaily } from './warehouse.mjs';

/** Called by the CLI for each date it runs. @public */
export async function run({ date, store }) {
  if (store.type !== 'sqlite') throw new Error(`this example processor reads SQLite; the store is ${store.type}`);
  const db = new Database(store.warehouse?.path ?? store.path);
  db.pragma('busy_timeout = 5000');
  try {
    return buildOrdersDaily(db, date);
  } finally {
    db.close();
  }
}
