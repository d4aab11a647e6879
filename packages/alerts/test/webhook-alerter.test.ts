import { afterEach, describe, expect, it } from 'vitest';
import { AlertDeliveryError, AlertsConfigError, webhookAlerter } from '@smart-backfill/alerts';
import { backoffDelay, parseRetryAfter } from '../src/retry.js';
import { closedPort, memoryLogger, notice, recordingSleep, startServer, type TestServer } from './helpers.js';

const SECRET_PATH = '/services/T0000/B0000/s3cretT0kenXYZ';
const TOKEN = 'tok-SECRET-4567';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Every string reachable from an error: message, stack, cause chain, own fields. */
const everythingIn = (e: unknown): string => {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 6 && cur !== undefined && cur !== null; i++) {
    if (cur instanceof Error) {
      parts.push(cur.message, cur.stack ?? '', JSON.stringify({ ...cur }));
      cur = cur.cause;
    } else {
      parts.push(String(cur));
      break;
    }
  }
  return parts.join('\n');
};

const rejection = async (p: Promise<unknown>): Promise<AlertDeliveryError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AlertDeliveryError);
    return e as AlertDeliveryError;
  }
  throw new Error('expected the send to reject');
};

describe('webhookAlerter against a local server', () => {
  it('2xx: one POST of the JSON payload with the configured headers', async () => {
    server = await startServer((_req, _n, res) => res.writeHead(204).end());
    const { delays, sleep } = recordingSleep();
    const alerter = webhookAlerter({
      urlEnv: 'ONCALL_URL',
      env: { ONCALL_URL: `${server.origin}/hook`, ALERT_TOKEN: TOKEN },
      headers: { Authorization: { env: 'ALERT_TOKEN', prefix: 'Bearer ' }, 'X-Source': 'smart-backfill' },
      sleep,
    });
    await alerter.send(notice());
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hook');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(req.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(req.headers['x-source']).toBe('smart-backfill');
    const body = JSON.parse(req.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      schema: 'smart-backfill.alert/v1',
      event: 'smart_backfill.alert',
      kind: 'escalated',
      alert_key: 'player_game_summary:gap:2025-11-03',
      processor: 'player_game_summary',
      run_date: '2025-11-20',
      reason: 'gap_exceeds_threshold',
      missing_ranges: 'Nov 3–7, Nov 12',
      heal_commands: [
        'smart-backfill backfill player_game_summary --from 2025-11-03 --to 2025-11-07',
        'smart-backfill backfill player_game_summary --from 2025-11-12 --to 2025-11-12',
      ],
    });
    expect(body['title']).toBe('player_game_summary: 6 dates missing (Nov 3–7, Nov 12), too many to backfill automatically');
    expect(String(body['text'])).toContain('incomplete (too few rows): Nov 6 (12 rows), Nov 7 (40 rows)');
    expect(delays).toEqual([]);
    expect(alerter.target).toBe(`${server.origin} (URL from $ONCALL_URL)`);
  });

  it('slack format: { text, blocks } of mrkdwn sections, escaped, with the commands in a code block', async () => {
    server = await startServer((_req, _n, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    const alerter = webhookAlerter({ url: `${server.origin}${SECRET_PATH}`, format: 'slack' });
    expect(alerter.name).toBe('slack');
    await alerter.send(
      notice({
        processorName: 'team<defense>&co',
        healCommand: 'smart-backfill backfill team<defense>&co --from 2025-11-03 --to 2025-11-12',
      }),
    );
    const body = JSON.parse(server.requests[0]!.body) as {
      text: string;
      blocks: {
        type: string;
        text?: { type: string; text: string };
        fields?: { type: string; text: string }[];
        elements?: { type: string; text: string }[];
      }[];
    };
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
    expect(body.text).toBe('team&lt;defense&gt;&amp;co: 6 dates missing (Nov 3–7, Nov 12), too many to backfill automatically');
    expect(body.blocks.map((b) => b.type)).toEqual(['section', 'section', 'section', 'section', 'section', 'context']);
    const texts = body.blocks.flatMap((b) => [...(b.text ? [b.text] : []), ...(b.fields ?? []), ...(b.elements ?? [])]);
    for (const t of texts) {
      expect(t.type).toBe('mrkdwn');
      expect(t.text.length).toBeLessThanOrEqual(3000);
      expect(t.text).not.toMatch(/[<>]/); // every < and > arrived escaped
    }
    const all = texts.map((t) => t.text).join('\n');
    expect(all).toContain('*Processor*\n`team&lt;defense&gt;&amp;co`');
    expect(all).toContain('• absent (no rows): Nov 3–5, Nov 12');
    expect(all).toContain(
      '*Heal it with (one command per range):*\n```smart-backfill backfill team&lt;defense&gt;&amp;co --from 2025-11-03 --to 2025-11-07\nsmart-backfill backfill team&lt;defense&gt;&amp;co --from 2025-11-12 --to 2025-11-12```',
    );
  });

  it('429 with Retry-After (seconds, then an HTTP date) waits what the server asked, capped', async () => {
    const nowMs = Date.parse('2025-11-20T06:00:00Z');
    server = await startServer((_req, n, res) => {
      if (n === 1) res.writeHead(429, { 'retry-after': '7' }).end('slow down');
      else if (n === 2) res.writeHead(429, { 'retry-after': 'Thu, 20 Nov 2025 06:00:03 GMT' }).end();
      else if (n === 3) res.writeHead(429, { 'retry-after': '3600' }).end();
      else res.writeHead(200).end('ok');
    });
    const { delays, sleep } = recordingSleep();
    const alerter = webhookAlerter({ url: `${server.origin}/hook`, maxRetries: 3, maxRetryAfterMs: 20_000, sleep, now: () => nowMs });
    await alerter.send(notice());
    expect(server.requests).toHaveLength(4);
    expect(delays).toEqual([7_000, 3_000, 20_000]);
  });

  it('5xx then success: retries with exponential backoff and jitter', async () => {
    server = await startServer((_req, n, res) => (n <= 3 ? res.writeHead(n === 2 ? 502 : 503).end() : res.writeHead(200).end()));
    const { delays, sleep } = recordingSleep();
    const logger = memoryLogger();
    const alerter = webhookAlerter({
      url: `${server.origin}/hook`,
      maxRetries: 5,
      backoff: { baseMs: 100, maxMs: 1_000 },
      random: () => 0.5,
      sleep,
      logger,
    });
    await alerter.send(notice());
    expect(server.requests).toHaveLength(4);
    // ceilings 100, 200, 400 ms; equal jitter with r = 0.5 lands at three quarters of each
    expect(delays).toEqual([75, 150, 300]);
    expect(logger.calls.map((c) => c.fields?.['status'])).toEqual([503, 502, 503]);
    // every request carried the same body
    expect(new Set(server.requests.map((r) => r.body)).size).toBe(1);
  });

  it('5xx every time: gives up after maxRetries with the status and attempt count', async () => {
    server = await startServer((_req, _n, res) => res.writeHead(500).end('internal'));
    const { delays, sleep } = recordingSleep();
    const alerter = webhookAlerter({
      name: 'oncall',
      url: `${server.origin}/hook`,
      maxRetries: 2,
      backoff: { baseMs: 1_000, maxMs: 1_500 },
      random: () => 1,
      sleep,
    });
    const e = await rejection(alerter.send(notice()));
    expect(server.requests).toHaveLength(3);
    expect(delays).toEqual([1_000, 1_500]); // the second ceiling (2000) is capped at maxMs
    expect(e).toMatchObject({ channel: 'oncall', status: 500, attempts: 3, retryable: true });
    expect(e.message).toBe(
      `[smart-backfill] [alerts] channel "oncall": ${server.origin} answered HTTP 500: internal (gave up after 3 attempts)`,
    );
  });

  it('other 4xx: no retry', async () => {
    server = await startServer((_req, _n, res) => res.writeHead(400).end('invalid_payload'));
    const { delays, sleep } = recordingSleep();
    const e = await rejection(webhookAlerter({ url: `${server.origin}/hook`, format: 'slack', sleep }).send(notice()));
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
    expect(e).toMatchObject({ channel: 'slack', status: 400, attempts: 1, retryable: false, code: 'invalid_config' });
    expect(e.message).toContain('answered HTTP 400: invalid_payload');
  });

  it('a redirect is not followed (a POST would silently become a GET)', async () => {
    server = await startServer((_req, n, res) =>
      n === 1 ? res.writeHead(302, { location: '/elsewhere' }).end() : res.writeHead(200).end(),
    );
    const e = await rejection(webhookAlerter({ url: `${server.origin}/hook`, sleep: recordingSleep().sleep }).send(notice()));
    expect(server.requests).toHaveLength(1);
    expect(e.status).toBe(302);
    expect(e.message).toContain('redirects are not followed');
  });

  it('timeout: each attempt is aborted after timeoutMs and retried', async () => {
    server = await startServer(() => undefined); // never answers
    const { delays, sleep } = recordingSleep();
    const alerter = webhookAlerter({
      url: `${server.origin}/hook`,
      timeoutMs: 150,
      maxRetries: 1,
      backoff: { baseMs: 10 },
      random: () => 0,
      sleep,
    });
    const e = await rejection(alerter.send(notice()));
    expect(server.requests).toHaveLength(2);
    expect(delays).toEqual([5]);
    expect(e.status).toBeUndefined();
    expect(e.retryable).toBe(true);
    expect(e.message).toContain(`no answer from ${server.origin} within 150 ms (gave up after 2 attempts)`);
  });

  it('unreachable (closed port): network errors are retried, then reported', async () => {
    const port = await closedPort();
    const { delays, sleep } = recordingSleep();
    const alerter = webhookAlerter({
      url: `http://127.0.0.1:${port}${SECRET_PATH}`,
      maxRetries: 2,
      backoff: { baseMs: 10 },
      random: () => 0,
      sleep,
    });
    const e = await rejection(alerter.send(notice()));
    expect(delays).toEqual([5, 10]);
    expect(e.attempts).toBe(3);
    expect(e.message).toContain(`could not reach http://127.0.0.1:${port}: `);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(everythingIn(e)).not.toContain('s3cretT0kenXYZ');
  });

  it('secrets (URL path, token) appear in no error, cause or log line, even when the server echoes them', async () => {
    server = await startServer((req, n, res) => {
      const echo = `you called ${req.url} with ${String(req.headers['authorization'])}`;
      res.writeHead(n === 1 ? 503 : 403).end(echo);
    });
    const logger = memoryLogger();
    const env = { SLACK_WEBHOOK_URL: `${server.origin}${SECRET_PATH}`, ALERT_TOKEN: TOKEN };
    const alerter = webhookAlerter({
      urlEnv: 'SLACK_WEBHOOK_URL',
      env,
      format: 'slack',
      headers: { Authorization: { env: 'ALERT_TOKEN', prefix: 'Bearer ' } },
      sleep: recordingSleep().sleep,
      logger,
    });
    const e = await rejection(alerter.send(notice()));
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]!.url).toBe(SECRET_PATH); // the secret was really used...
    const seen = `${everythingIn(e)}\n${JSON.stringify(logger.calls)}`;
    expect(seen).toContain('you called [redacted] with [redacted]'); // ...and scrubbed from what was reported
    for (const secret of ['s3cretT0kenXYZ', TOKEN, SECRET_PATH]) expect(seen).not.toContain(secret);
    expect(e.message).toContain('(URL from $SLACK_WEBHOOK_URL)');
  });
});

describe('webhookAlerter options', () => {
  it('reads secrets only from the environment it is given, naming the variable, never the value', () => {
    expect(() => webhookAlerter({ urlEnv: 'SLACK_WEBHOOK_URL', env: {} })).toThrow(
      'webhook.urlEnv: environment variable SLACK_WEBHOOK_URL is not set',
    );
    let err: unknown;
    try {
      webhookAlerter({
        urlEnv: 'HOOK',
        env: { HOOK: 'ftp://files.example/s3cretT0kenXYZ' },
        headers: { Authorization: { env: 'NOPE' } },
        timeoutMs: 0,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AlertsConfigError);
    expect((err as AlertsConfigError).problems).toEqual([
      { path: 'webhook.timeoutMs', message: 'must be a whole number >= 1, got 0' },
      { path: 'webhook.urlEnv', message: 'environment variable HOOK must hold an http(s) URL, got a ftp: URL' },
      { path: 'webhook.headers.Authorization.env', message: 'environment variable NOPE is not set', unsetEnv: 'NOPE' },
    ]);
    expect(String(err)).not.toContain('s3cretT0kenXYZ');
  });

  it('needs exactly one of url and urlEnv', () => {
    expect(() => webhookAlerter({})).toThrow(/urlEnv: a webhook needs "urlEnv"/);
    expect(() => webhookAlerter({ url: 'http://127.0.0.1/x', urlEnv: 'X', env: { X: 'http://127.0.0.1/y' } })).toThrow(
      /give either "url" or "urlEnv", not both/,
    );
  });
});

describe('retry arithmetic', () => {
  it('backoff doubles up to the cap and jitters within the upper half', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { baseMs: 500, maxMs: 8_000 }, () => 1))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 8_000,
    ]);
    expect([1, 2, 3].map((n) => backoffDelay(n, { baseMs: 500, maxMs: 8_000 }, () => 0))).toEqual([250, 500, 1_000]);
  });

  it('Retry-After: seconds, HTTP date, garbage', () => {
    const now = Date.parse('2025-11-20T06:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 20 Nov 2025 06:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Thu, 20 Nov 2025 05:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
