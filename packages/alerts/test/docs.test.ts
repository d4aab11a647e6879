/** docs/alerts.md shows real output and a real config: this keeps them true. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AlertsConfigError, createAlertersFromConfig, decodeAlertsConfig, formatAlert } from '@smart-backfill/alerts';
import { notice } from './helpers.js';

const doc = readFileSync(new URL('../../../docs/alerts.md', import.meta.url), 'utf8');

/** Bodies of the fenced blocks whose info string is exactly `info`. */
const blocks = (info: string): string[] => {
  const out: string[] = [];
  const re = /^```([^\n]*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(doc); m !== null; m = re.exec(doc)) if (m[1]!.trim() === info) out.push(m[2]!.replace(/\n$/, ''));
  return out;
};

describe('docs/alerts.md', () => {
  it('the example alert is what formatAlert prints', () => {
    const [example] = blocks('text alert-example');
    const f = formatAlert(notice({ alertKey: 'player_game_summary:2025-11-03' }));
    expect(example).toBe(`${f.title}\n${f.text}`);
  });

  it('the healed example is what formatAlert prints', () => {
    const healedAt = Date.parse('2025-11-21T09:12:00Z');
    const f = formatAlert(
      notice({
        alertKey: 'player_game_summary:2025-11-03',
        kind: 'healed',
        at: healedAt,
        timeToRecoveryMs: healedAt - Date.parse('2025-11-20T06:00:00Z'),
      }),
    );
    expect(blocks('text').some((b) => b === `${f.title}\n${f.text}`)).toBe(true);
  });

  it('the example config is valid and builds its channels', () => {
    const [json] = blocks('json alerts-config');
    const config = (JSON.parse(json!) as { alerts: unknown }).alerts;
    expect(decodeAlertsConfig(config).ok).toBe(true);
    const env = {
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x',
      ONCALL_WEBHOOK_URL: 'https://oncall.example/hook',
      ONCALL_TOKEN: 't',
    };
    expect(createAlertersFromConfig(config, { env, processorName: 'player_game_summary' }).channels).toEqual(['log', 'slack', 'oncall']);
    expect(createAlertersFromConfig(config, { env, processorName: 'other' }).channels).toEqual(['log', 'oncall']);
  });

  it('the error lines shown are the ones a person gets', () => {
    let err: unknown;
    try {
      createAlertersFromConfig(
        [
          { type: 'log' },
          { type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL' },
          { type: 'webhook', urlEnv: 'HOOK', urlenv: 'x', headers: { Authorization: 'Bearer abc' } },
        ],
        { env: {} },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AlertsConfigError);
    const shown = doc
      .split('\n')
      .filter((l) => /^ {2}alerts\[\d\]\./.test(l))
      .map((l) => l.trim());
    expect(shown).toHaveLength(3);
    // Validation runs before secrets are read, so one config cannot show both kinds at once: check each line exists.
    const all = new Set((err as AlertsConfigError).problems.map((p) => `${p.path}: ${p.message}`));
    let envErr: unknown;
    try {
      createAlertersFromConfig([{ type: 'log' }, { type: 'slack', urlEnv: 'SLACK_WEBHOOK_URL' }], { env: {} });
    } catch (e) {
      envErr = e;
    }
    for (const p of (envErr as AlertsConfigError).problems) all.add(`${p.path}: ${p.message}`);
    for (const line of shown) expect(all).toContain(line);
  });
});
