import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAfterEach, cli } from './helpers.js';

const { temp, track } = cleanupAfterEach();

/**
 * A shop's own tables: `calendar(day, state)` says which days are open,
 * `orders_daily(order_date, store_id, amount)` is filled per day — except
 * Nov 10–14, a gap larger than the automatic threshold, so `run` escalates.
 */
const shop = (hookEnv: string) => {
  const t = temp('sb-cli-shop-');
  const dbPath = join(t.dir, 'shop.db');
  const db = new Database(dbPath);
  db.exec('CREATE TABLE calendar (day TEXT, state TEXT); CREATE TABLE orders_daily (order_date TEXT, store_id INTEGER, amount REAL);');
  for (let d = 1; d <= 20; d++) {
    const day = `2025-11-${String(d).padStart(2, '0')}`;
    db.prepare('INSERT INTO calendar VALUES (?, ?)').run(day, 'open');
    if (d >= 10 && d <= 14) continue;
    for (let s = 1; s <= 3; s++) db.prepare('INSERT INTO orders_daily VALUES (?, ?, ?)').run(day, s, 10 * s);
  }
  db.close();
  t.write(
    'fill.mjs',
    `import Database from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href)};
const date = process.argv[process.argv.indexOf('--date') + 1];
const db = new Database(${JSON.stringify(dbPath)});
db.pragma('busy_timeout = 5000');
for (let s = 1; s <= 3; s++) db.prepare('INSERT INTO orders_daily VALUES (?, ?, ?)').run(date, s, 1);
db.close();
`,
  );
  t.write('smart-backfill.config.json', {
    store: { type: 'sqlite', path: './shop.db' },
    processors: [
      {
        name: 'orders_daily',
        schedule: { table: 'calendar', dateColumn: 'day', statusColumn: 'state', statuses: ['open'] },
        target: { table: 'orders_daily', dateColumn: 'order_date' },
        policy: { minRecordsPerDate: 3 },
        command: ['node', join(t.dir, 'fill.mjs'), '--date', '{date}'],
      },
    ],
    alerts: [{ type: 'log' }, { type: 'webhook', name: 'oncall', urlEnv: hookEnv, maxRetries: 0 }].slice(hookEnv === 'LOG_ONLY' ? 0 : 1),
  });
  const alerts = () => {
    const d = new Database(dbPath, { readonly: true });
    try {
      return d.prepare('SELECT * FROM backfill_alerts ORDER BY id').all() as {
        alert_key: string;
        send_count: number;
        send_failures: number;
        last_send_error: string | null;
        resolved_at: number | null;
      }[];
    } finally {
      d.close();
    }
  };
  /** As if a while had passed since the failed delivery (the CLI runs on the real clock). */
  const age = (ms: number): void => {
    const d = new Database(dbPath);
    d.prepare('UPDATE backfill_alerts SET opened_at = opened_at - ?, last_send_failed_at = last_send_failed_at - ?').run(ms, ms);
    d.close();
  };
  return { dir: t.dir, alerts, age };
};

/** A webhook on 127.0.0.1: `mode` answers 200, or never answers at all. */
let server: Server;
let url: string;
let mode: 'ok' | 'hang' = 'ok';
const bodies: { kind: string; alert_key: string }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      if (mode === 'hang') return;
      bodies.push(JSON.parse(text) as { kind: string; alert_key: string });
      // No keep-alive: the fetch pool is shared by every in-process run, and closeAllConnections() below would break a reused socket.
      res.writeHead(200, { connection: 'close' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A port nothing listens on: bound, then closed. */
const refusedUrl = async (): Promise<string> => {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}/hook`;
};

const RUN = ['run', 'orders_daily', '--date', '2025-11-20'];

describe('alert delivery: exit 4 means a person was told', () => {
  it('a refused webhook: exit 5, the failure on stderr and in --json, recorded undelivered; the worker delivers it later', async () => {
    const s = shop('HOOK_URL');
    const r = await cli([...RUN, '--json'], { cwd: s.dir, env: { HOOK_URL: await refusedUrl() } });
    expect(r.code).toBe(5);
    const out = r.json<{ exitCode: number; outcome: { _tag: string; alerted: boolean; told: boolean; deliveryError: string } }>();
    expect(out.outcome).toMatchObject({ _tag: 'Escalated', alerted: false, told: false });
    expect(out.outcome.deliveryError).toMatch(/channel "oncall": could not reach http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stderr).toMatch(/alert NOT delivered, nobody has been told yet: .*could not reach/);
    expect(s.alerts()).toMatchObject([{ send_count: 0, send_failures: 1, last_send_error: expect.stringMatching(/could not reach/) }]);

    const status = await cli(['status', 'orders_daily', '--today', '2025-11-20'], { cwd: s.dir, env: { HOOK_URL: url } });
    expect(status.stdout).toMatch(/NOT DELIVERED: .*could not reach/);

    // The channel works again a while later: the worker's retry pass delivers, no new run needed.
    s.age(120_000);
    bodies.length = 0;
    const w = await cli(['worker', '--once'], { cwd: s.dir, env: { HOOK_URL: url } });
    expect(w.code).toBe(0);
    expect(bodies.map((b) => b.kind)).toEqual(['escalated']);
    expect(s.alerts()).toMatchObject([{ send_count: 1, send_failures: 0, last_send_error: null }]);
    // Now a person has it: a later run says so with exit 4.
    const again = await cli(RUN, { cwd: s.dir, env: { HOOK_URL: url } });
    expect(again.code).toBe(4);
    expect(again.stdout).toMatch(/alert already open \(orders_daily:2025-11-10\); not sent again/);
  });

  it('a webhook that never answers: the run stops waiting at the deadline (alertDeadlineMs) and records the delivery as failed', async () => {
    const s = shop('HOOK_URL');
    const cfgPath = join(s.dir, 'smart-backfill.config.json');
    const Fs = await import('node:fs');
    Fs.writeFileSync(cfgPath, JSON.stringify({ ...(JSON.parse(Fs.readFileSync(cfgPath, 'utf8')) as object), alertDeadlineMs: 300 }));
    mode = 'hang';
    try {
      const r = await cli(RUN, { cwd: s.dir, env: { HOOK_URL: url } });
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/no channel confirmed delivery within 300 ms; stopped waiting/);
    } finally {
      mode = 'ok';
      server.closeAllConnections();
    }
    expect(s.alerts()).toMatchObject([{ send_count: 0, send_failures: 1, last_send_error: expect.stringMatching(/within 300 ms/) }]);
  });

  it('an unset secret: the run goes on (exit 4 through the log channel), and stderr, the run record and status name it', async () => {
    const s = shop('LOG_ONLY');
    const cfgPath = join(s.dir, 'smart-backfill.config.json');
    const Fs = await import('node:fs');
    const cfg = JSON.parse(Fs.readFileSync(cfgPath, 'utf8')) as { alerts: unknown[] };
    cfg.alerts = [{ type: 'log' }, { type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL' }];
    Fs.writeFileSync(cfgPath, JSON.stringify(cfg));
    const r = await cli(RUN, { cwd: s.dir, env: {} });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /warning: alert channel cannot deliver: alerts\[1\]\.urlEnv: environment variable SLACK_WEBHOOK_URL is not set/,
    );
    // The structured log line still went out.
    expect(r.errors.some((l) => l.includes('"event":"smart_backfill.alert"'))).toBe(true);
    const d = new Database(join(s.dir, 'shop.db'), { readonly: true });
    track(() => d.close());
    const meta = JSON.parse((d.prepare('SELECT metadata FROM analytics_processor_runs').get() as { metadata: string }).metadata) as {
      alert_channel_problems: string[];
    };
    expect(meta.alert_channel_problems).toEqual(['alerts[1].urlEnv: environment variable SLACK_WEBHOOK_URL is not set']);
    const status = await cli(['status', 'orders_daily', '--today', '2025-11-20'], { cwd: s.dir, env: {} });
    expect(status.stdout).toMatch(/alert channel cannot deliver: alerts\[1\]\.urlEnv: environment variable SLACK_WEBHOOK_URL is not set/);
  });

  it('a manual heal closes the alert: run escalates → backfill → worker --once → status shows none, healed sent once', async () => {
    const s = shop('HOOK_URL');
    bodies.length = 0;
    const env = { HOOK_URL: url };
    expect((await cli(RUN, { cwd: s.dir, env })).code).toBe(4);
    // The held run was given up (a person cancelled it): nothing resumes, so only the worker's own check can heal.
    const d = new Database(join(s.dir, 'shop.db'));
    d.prepare("UPDATE held_runs SET status = 'cancelled'").run();
    d.close();
    expect((await cli(['backfill', 'orders_daily', '--from', '2025-11-10', '--to', '2025-11-14'], { cwd: s.dir, env })).code).toBe(0);
    const w = await cli(['worker', '--once'], { cwd: s.dir, env });
    expect(w.code).toBe(0);
    const status = await cli(['status', 'orders_daily', '--today', '2025-11-20', '--json'], { cwd: s.dir, env });
    expect(status.json<{ processors: { openAlerts: unknown[] }[] }>().processors[0]?.openAlerts).toEqual([]);
    expect(bodies.map((b) => b.kind)).toEqual(['escalated', 'healed']);
    expect(s.alerts()).toMatchObject([{ resolved_at: expect.any(Number) as number }]);
  });
});
