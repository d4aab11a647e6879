import { afterEach, describe, expect, it } from 'vitest';
import * as t from 'io-ts';
import {
  AlertsConfig,
  AlertsConfigError,
  createAlertersFromConfig,
  decodeAlertsConfig,
  toConfigProblems,
  unsetSecretProblems,
} from '@smart-backfill/alerts';
import { memorySink, notice, recordingSleep, startServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const problemsOf = (config: unknown, env: Record<string, string> = {}): { path: string; message: string }[] => {
  try {
    createAlertersFromConfig(config, { env });
  } catch (e) {
    expect(e).toBeInstanceOf(AlertsConfigError);
    expect(e).toMatchObject({ code: 'invalid_config' });
    return [...(e as AlertsConfigError).problems];
  }
  throw new Error('expected the config to be refused');
};

describe('AlertsConfig validation', () => {
  it('names the path and the problem for each mistake, all at once', () => {
    expect(
      problemsOf([
        { type: 'log' },
        { type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL', timeoutMs: 2.5, processors: ['a', ''] },
        { type: 'webhook', urlEnv: 'HOOK', urlenv: 'typo', format: 'xml' },
        { type: 'pagerduty' },
        42,
        { type: 'log', processors: [], stream: 'stdin' },
      ]),
    ).toEqual([
      { path: 'alerts[1].processors[1]', message: 'expected a non-empty string, got ""' },
      { path: 'alerts[1].timeoutMs', message: 'expected a whole number >= 1, got 2.5' },
      {
        path: 'alerts[2].urlenv',
        message:
          'unknown field (known: type, urlEnv, name, processors, enabled, format, headers, timeoutMs, maxRetries, maxRetryAfterMs, backoff)',
      },
      { path: 'alerts[2].format', message: 'expected "json" or "slack", got "xml"' },
      { path: 'alerts[3].type', message: 'expected one of "log", "webhook", "slack", got "pagerduty"' },
      { path: 'alerts[4]', message: 'expected an alert channel object like { "type": "slack", "urlEnv": "SLACK_WEBHOOK_URL" }, got 42' },
      {
        path: 'alerts[5].processors',
        message: 'lists no processor, so the channel would never alert (leave "processors" out to alert for all)',
      },
      { path: 'alerts[5].stream', message: 'expected "stderr" or "stdout", got "stdin"' },
    ]);
  });

  it('refuses secrets written in the file: a URL, a plain Authorization header', () => {
    const problems = problemsOf([
      {
        type: 'slack',
        url: 'https://hooks.slack.com/services/T0/B0/s3cret',
        urlEnv: 'SLACK_WEBHOOK_URL',
        headers: { Authorization: 'Bearer s3cret', 'X-Team': 'data' },
      },
    ]);
    expect(problems.map((p) => p.path)).toEqual(['alerts[0].url', 'alerts[0].headers.Authorization']);
    expect(problems[0]!.message).toMatch(/secret .* put it in an environment variable and name that variable in "urlEnv"/);
    expect(problems[1]!.message).toContain('use { "env": "VAR_NAME", "prefix": "Bearer " }');
    expect(JSON.stringify(problems)).not.toContain('s3cret');
  });

  it('reports unset environment variables with the path of the field that names them', () => {
    expect(
      problemsOf(
        [
          { type: 'log' },
          { type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL' },
          { type: 'webhook', urlEnv: 'HOOK', headers: { Authorization: { env: 'ALERT_TOKEN', prefix: 'Bearer ' } } },
        ],
        { HOOK: 'http://127.0.0.1:9/x' },
      ),
    ).toEqual([
      { path: 'alerts[1].urlEnv', message: 'environment variable SLACK_WEBHOOK_URL is not set', unsetEnv: 'SLACK_WEBHOOK_URL' },
      { path: 'alerts[2].headers.Authorization.env', message: 'environment variable ALERT_TOKEN is not set', unsetEnv: 'ALERT_TOKEN' },
    ]);
    expect(() => createAlertersFromConfig([{ type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL' }], { env: {} })).toThrow(
      '[smart-backfill] [alerts] invalid alert config: alerts[0].urlEnv: environment variable SLACK_WEBHOOK_URL is not set',
    );
  });

  it('reports unset variables together with the mistakes of other channels, not only once those are fixed', () => {
    const config = [
      { type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL' },
      { type: 'webhook', urlenv: 'HOOK' },
      { type: 'webhook', urlEnv: 'HOOK', headers: { Authorization: { env: 'ALERT_TOKEN' } }, enabled: false },
    ];
    expect(problemsOf(config).map((p) => p.path)).toEqual(['alerts[1].urlenv', 'alerts[1].urlEnv', 'alerts[0].urlEnv']);
    // The same lines for a caller whose own config holds the alerts (the CLI): a disabled channel reads no secret.
    expect(unsetSecretProblems(config, { env: {} })).toEqual([
      { path: 'alerts[0].urlEnv', message: 'environment variable SLACK_WEBHOOK_URL is not set', unsetEnv: 'SLACK_WEBHOOK_URL' },
    ]);
    expect(unsetSecretProblems('not a list', { env: {} })).toEqual([]);
  });

  it('the codec composes inside a bigger io-ts config, and its paths follow', () => {
    const File = t.type({ alerts: AlertsConfig });
    const r = File.decode({ alerts: [{ type: 'slack' }] });
    expect(r._tag).toBe('Left');
    if (r._tag === 'Left') {
      expect(toConfigProblems(r.left, 'config')).toEqual([
        {
          path: 'config.alerts[0].urlEnv',
          message: 'is required (expected an environment variable name (letters, digits and _, e.g. SLACK_WEBHOOK_URL))',
        },
      ]);
    }
    expect(decodeAlertsConfig([{ type: 'log', extra: { team: 'data' } }])).toEqual({
      ok: true,
      value: [{ type: 'log', extra: { team: 'data' } }],
    });
  });
});

describe('createAlertersFromConfig', () => {
  const config = [
    { type: 'log', name: 'audit' },
    { type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL', processors: ['player_game_summary'] },
    { type: 'webhook', name: 'oncall', urlEnv: 'ONCALL_URL', processors: ['team_defense', '*'], enabled: false },
    { type: 'log', name: 'team-log', processors: ['team_defense'] },
  ];

  it('builds the channels that apply to the processor, global ones included', () => {
    const env = { SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/hook', ONCALL_URL: 'http://127.0.0.1:9/oncall' };
    expect(createAlertersFromConfig(config, { env, processorName: 'player_game_summary' }).channels).toEqual(['audit', 'slack']);
    expect(createAlertersFromConfig(config, { env, processorName: 'team_defense' }).channels).toEqual(['audit', 'team-log']);
    expect(createAlertersFromConfig(config, { env }).channels).toEqual(['audit', 'slack', 'team-log']);
    expect(createAlertersFromConfig(config, { env, processorName: '*' }).channels).toEqual(['audit', 'slack', 'team-log']);
    expect(createAlertersFromConfig(undefined, { env }).channels).toEqual([]);
  });

  it('only checks the secrets of channels it builds', () => {
    expect(createAlertersFromConfig(config, { env: {}, processorName: 'team_defense' }).channels).toEqual(['audit', 'team-log']);
    expect(() => createAlertersFromConfig(config, { env: {}, processorName: 'player_game_summary' })).toThrow(
      /alerts\[1\]\.urlEnv: environment variable SLACK_WEBHOOK_URL is not set/,
    );
  });

  it('the fan-out it returns rejects only when every channel failed (so the guard retries later)', async () => {
    server = await startServer((_req, _n, res) => res.writeHead(410).end());
    const env = { SLACK_WEBHOOK_URL: `${server.origin}/gone` };
    const stderr = memorySink();
    const onlySlack = createAlertersFromConfig([{ type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL' }], { env });
    await expect(onlySlack.send(notice())).rejects.toThrow(/no channel delivered: .*answered HTTP 410/);
    const withLog = createAlertersFromConfig([{ type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL' }, { type: 'log' }], { env, stderr });
    await expect(withLog.send(notice())).resolves.toBeUndefined();
    expect(stderr.lines()).toHaveLength(1);
    const never = createAlertersFromConfig([{ type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL' }], { env, fanOut: { rejectWhen: 'never' } });
    await expect(never.send(notice())).resolves.toBeUndefined();
  });

  it('the built channels deliver: Slack to the env URL with retries as configured, logs to the given stream', async () => {
    server = await startServer((_req, n, res) => res.writeHead(n === 1 ? 503 : 200).end());
    const stderr = memorySink();
    const { delays, sleep } = recordingSleep();
    const fan = createAlertersFromConfig(
      [{ type: 'log' }, { type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL', maxRetries: 1, backoff: { baseMs: 40, maxMs: 40 } }],
      { env: { SLACK_WEBHOOK_URL: `${server.origin}/services/x` }, processorName: 'player_game_summary', stderr, sleep },
    );
    const report = await fan.deliver(notice());
    expect(report).toEqual({ delivered: ['log', 'slack'], failed: [] });
    expect(server.requests.map((r) => r.url)).toEqual(['/services/x', '/services/x']);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(20);
    expect(delays[0]).toBeLessThanOrEqual(40);
    expect(Object.keys(JSON.parse(server.requests[1]!.body) as object).sort()).toEqual(['blocks', 'text']);
    expect(JSON.parse(stderr.lines()[0]!)).toMatchObject({ severity: 'ERROR', alert_key: 'player_game_summary:gap:2025-11-03' });
  });
});
