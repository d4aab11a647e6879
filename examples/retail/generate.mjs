#!/usr/bin/env node
// Build the retail example's warehouse:
//   node examples/retail/generate.mjs --db warehouse.db --from 2025-03-01 --through 2025-04-15 \
//        --build --skip 2025-04-10 --partial 2025-04-03
// creates calendar, pos_sales and orders_daily; the calendar runs to --calendar-to (default: a
// month after --through); sales are
// uploaded for every open day through --through; with --build the nightly job has built
// orders_daily for every open day before --through except the --skip days, and for the
// --partial days with only one store's row (a job that died half-way).
import Database from 'better-sqlite3';
import { parseArgs } from 'node:util';
import { buildOrdersDaily, createRetailTables, days, isSunday, loadCalendar, loadSales } from './warehouse.mjs';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'warehouse.db' },
    from: { type: 'string', default: '2025-03-01' },
    through: { type: 'string', default: '2025-04-15' },
    'calendar-to': { type: 'string' },
    build: { type: 'boolean', default: false },
    skip: { type: 'string', multiple: true, default: [] },
    partial: { type: 'string', multiple: true, default: [] },
  },
});
// The calendar runs a month past the last upload unless told otherwise: the shop plans ahead.
values['calendar-to'] ??= new Date(Date.parse(`${values.through}T00:00:00Z`) + 30 * 86_400_000).toISOString().slice(0, 10);
for (const k of ['from', 'through', 'calendar-to']) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(values[k])) {
    console.error(`--${k}: expected YYYY-MM-DD, got ${JSON.stringify(values[k])}`);
    process.exit(2);
  }
}
const db = new Database(values.db);
createRetailTables(db);
loadCalendar(db, values.from, values['calendar-to']);
const sales = loadSales(db, values.from, values.through);
let built = 0;
if (values.build) {
  for (const d of days(values.from, values.through)) {
    if (d >= values.through || isSunday(d) || values.skip.includes(d)) continue;
    built += buildOrdersDaily(db, d).rows;
    if (values.partial.includes(d)) db.prepare("DELETE FROM orders_daily WHERE order_date = ? AND store_id <> 'east'").run(d);
  }
}
db.close();
console.log(
  `${values.db}: ${sales} sales ${values.from}..${values.through}${values.build ? `, ${built} orders_daily rows built (skipped: ${values.skip.join(', ') || 'none'}; partial: ${values.partial.join(', ') || 'none'})` : ''}`,
);
