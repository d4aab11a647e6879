// A small retail warehouse, the kind a user already has: a trading calendar, the
// point-of-sale feed, and the daily table a nightly job builds from it.
//   calendar(day, state)                      'open' | 'closed' (closed on Sundays)
//   pos_sales(sale_id, sale_date, store_id, amount)   raw sales, uploaded by each store
//   orders_daily(order_date, store_id, amount)        one row per store and open day (the target)
// Plain ESM so the built CLI can load it without a compiler.

export const STORES = ['north', 'south', 'east', 'west'];

const DAY = 86_400_000;
const toDate = (ms) => new Date(ms).toISOString().slice(0, 10);
const fromDate = (d) => Date.parse(`${d}T00:00:00Z`);

/** Every date from `from` to `to`, inclusive (YYYY-MM-DD). */
export const days = (from, to) => {
  const out = [];
  for (let t = fromDate(from); t <= fromDate(to); t += DAY) out.push(toDate(t));
  return out;
};

export const isSunday = (d) => new Date(fromDate(d)).getUTCDay() === 0;

export const createRetailTables = (db) => {
  db.exec(`
    CREATE TABLE IF NOT EXISTS calendar (day TEXT PRIMARY KEY, state TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS pos_sales (
      sale_id INTEGER PRIMARY KEY, sale_date TEXT NOT NULL, store_id TEXT NOT NULL, amount REAL NOT NULL);
    CREATE INDEX IF NOT EXISTS pos_sales_by_date ON pos_sales(sale_date);
    CREATE TABLE IF NOT EXISTS orders_daily (
      order_date TEXT NOT NULL, store_id TEXT NOT NULL, amount REAL NOT NULL, PRIMARY KEY (order_date, store_id));
  `);
};

/** The trading calendar: open every day but Sunday. */
export const loadCalendar = (db, from, to) => {
  const put = db.prepare('INSERT OR REPLACE INTO calendar (day, state) VALUES (?, ?)');
  db.transaction(() => {
    for (const d of days(from, to)) put.run(d, isSunday(d) ? 'closed' : 'open');
  })();
};

/** A small deterministic generator (mulberry32), so every run of the example sees the same sales. */
const random = (seed) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** Raw sales for every open day from `from` through `through`: 5–20 sales per store. */
export const loadSales = (db, from, through, { seed = 7, storesFor = () => STORES } = {}) => {
  const next = random(seed);
  const put = db.prepare('INSERT INTO pos_sales (sale_date, store_id, amount) VALUES (?, ?, ?)');
  let n = 0;
  db.transaction(() => {
    for (const d of days(from, through)) {
      if (isSunday(d)) continue;
      for (const store of storesFor(d)) {
        const count = 5 + Math.floor(next() * 16);
        for (let i = 0; i < count; i++, n++) put.run(d, store, Math.round(next() * 20_000) / 100);
      }
    }
  })();
  return n;
};

/**
 * The nightly job: rebuild `orders_daily` for one date from that date's sales,
 * in one transaction (idempotent: the date's rows are replaced). An open day
 * with no sales at all means the upload has not arrived: that is an error, not
 * an empty day.
 */
export const buildOrdersDaily = (db, date) => {
  const open = db.prepare('SELECT state FROM calendar WHERE day = ?').pluck().get(date);
  const totals = db
    .prepare('SELECT store_id, ROUND(SUM(amount), 2) AS amount FROM pos_sales WHERE sale_date = ? GROUP BY store_id ORDER BY store_id')
    .all(date);
  if (open === 'open' && totals.length === 0) throw new Error(`no point-of-sale upload for ${date} yet`);
  db.transaction(() => {
    db.prepare('DELETE FROM orders_daily WHERE order_date = ?').run(date);
    const put = db.prepare('INSERT INTO orders_daily (order_date, store_id, amount) VALUES (?, ?, ?)');
    for (const t of totals) put.run(date, t.store_id, t.amount);
  })();
  return { date, rows: totals.length };
};
