import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAfterEach, cli } from './helpers.js';

const { temp } = cleanupAfterEach();

const processor = (name: string) => ({
  name,
  schedule: { table: 'game_schedule', dateColumn: 'game_date' },
  target: { table: 'player_game_summary', dateColumn: 'game_date' },
  command: 'node build-summary.js --date {date}',
});

/** A folder with a config whose `alerts` are the given channels. */
const configWith = (alerts: unknown[]): string => {
  const t = temp();
  t.write('smart-backfill.config.json', {
    store: { type: 'sqlite', path: './s.db' },
    processors: [processor('player_game_summary'), processor('team_stats')],
    alerts,
  });
  return t.dir;
};

/** A webhook receiver on 127.0.0.1 answering with `status`; keeps every body it got. */
interface Receiver {
  status: number;
  readonly bodies: unknown[];
  readonly url: string;
}
let server: Server;
let receiver: Receiver;
beforeAll(async () => {
  const bodies: unknown[] = [];
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as unknown);
      res.writeHead(receiver.status, { 'content-type': 'text/plain' }).end(receiver.status === 200 ? 'ok' : 'boom');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver = { status: 200, bodies, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
});
afterEach(() => {
  receiver.bodies.length = 0;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('alert test', () => {
  it('a log channel: prints the sample, the channel writes its [TEST] line, exit 0', async () => {
    const r = await cli(['alert', 'test'], { cwd: configWith([{ type: 'log' }]) });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^test alert for player_game_summary to 1 channel\(s\)$/m);
    expect(r.stdout).toMatch(/^ {2}ok log: delivered$/m);
    expect(r.stdout).toMatch(/smart-backfill backfill player_game_summary --from \d{4}-\d{2}-\d{2} --to \d{4}-\d{2}-\d{2}/);
    const line = JSON.parse(r.errors[0] ?? '') as { test: boolean; alert_key: string; processor: string; severity: string };
    expect(line).toMatchObject({ test: true, processor: 'player_game_summary', severity: 'ERROR' });
    expect(line.alert_key).toMatch(/^test:player_game_summary:/);
  });

  it('a webhook answering 500: retried, reported failed, exit 1 — the log channel still delivers', async () => {
    receiver.status = 500;
    const dir = configWith([
      { type: 'log', stream: 'stderr' },
      { type: 'webhook', name: 'oncall', urlEnv: 'ONCALL_URL', maxRetries: 2, backoff: { baseMs: 1, maxMs: 2 } },
    ]);
    const r = await cli(['alert', 'test', '--json'], { cwd: dir, env: { ONCALL_URL: receiver.url } });
    expect(r.code).toBe(1);
    expect(receiver.bodies).toHaveLength(3);
    const out = r.json<{
      channels: string[];
      delivered: string[];
      failed: { channel: string; error: string }[];
      notice: { alertKey: string };
    }>();
    expect(out.channels).toEqual(['log', 'oncall']);
    expect(out.delivered).toEqual(['log']);
    expect(out.failed).toEqual([
      {
        channel: 'oncall',
        error: expect.stringMatching(
          /^channel "oncall": http:\/\/127\.0\.0\.1:\d+ \(URL from \$ONCALL_URL\) answered HTTP 500.*\(gave up after 3 attempts\)$/,
        ),
      },
    ]);
    expect(out.notice.alertKey).toMatch(/^test:/);
    // The URL is a secret: only its origin is ever printed.
    expect(r.stdout + r.stderr).not.toContain('/hook');
  });

  it("a webhook answering 200 gets the [TEST] payload; --processor picks that processor's channels", async () => {
    receiver.status = 200;
    const dir = configWith([
      { type: 'webhook', urlEnv: 'HOOK_URL', processors: ['team_stats'] },
      { type: 'log', processors: ['player_game_summary'] },
    ]);
    const r = await cli(['alert', 'test', '--processor', 'team_stats'], { cwd: dir, env: { HOOK_URL: receiver.url } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}ok webhook: delivered$/m);
    expect(r.stdout).not.toMatch(/ log: /);
    expect(receiver.bodies).toHaveLength(1);
    expect(receiver.bodies[0]).toMatchObject({ processor: 'team_stats', test: true });

    const unknown = await cli(['alert', 'test', '--processor', 'nope'], { cwd: dir, env: { HOOK_URL: receiver.url } });
    expect(unknown.code).toBe(2);
    expect(unknown.errors).toEqual(['error: --processor: unknown processor "nope" (configured: player_game_summary, team_stats)']);
  });

  it('a missing environment variable is exit 2 naming alerts[0].urlEnv, and nothing is sent', async () => {
    const dir = configWith([{ type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL' }, { type: 'log' }]);
    const r = await cli(['alert', 'test'], { cwd: dir, env: {} });
    expect(r.code).toBe(2);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^error: alerts\[0\]\.urlEnv: .*SLACK_WEBHOOK_URL/);
    expect(r.stdout).toBe('');
    expect(receiver.bodies).toHaveLength(0);
  });

  it('no channel left after filtering is exit 2', async () => {
    const r = await cli(['alert', 'test'], { cwd: configWith([{ type: 'log', enabled: false }]) });
    expect(r.code).toBe(2);
    expect(r.errors).toEqual(['error: alerts: no enabled channel; nothing to test']);
  });
});
