import { afterEach, describe, expect, it } from 'vitest';
import type { AlertNotice, Alerter } from '@smart-backfill/core';
import { AlertDeliveryError, fanOutAlerter, logAlerter, sendTestAlert, webhookAlerter, type ChannelFailure } from '@smart-backfill/alerts';
import { memoryLogger, memorySink, notice, recordingSleep, startServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const recorder = (name: string): Alerter & { name: string; got: AlertNotice[] } => {
  const got: AlertNotice[] = [];
  return { name, got, send: async (n) => void got.push(n) };
};

describe('fanOutAlerter', () => {
  it('one failing channel (HTTP 500) still lets the others deliver, and send does not throw', async () => {
    server = await startServer((_req, _n, res) => res.writeHead(500).end());
    const sink = memorySink();
    const kept = recorder('audit');
    const failures: ChannelFailure[] = [];
    const logger = memoryLogger();
    const fan = fanOutAlerter(
      [
        webhookAlerter({ name: 'slack', url: `${server.origin}/hook`, format: 'slack', maxRetries: 1, sleep: recordingSleep().sleep }),
        logAlerter({ stream: sink }),
        kept,
      ],
      { logger, onError: (f) => failures.push(f) },
    );
    await expect(fan.send(notice())).resolves.toBeUndefined();
    expect(server.requests).toHaveLength(2);
    expect(sink.lines()).toHaveLength(1);
    expect(kept.got).toHaveLength(1);
    expect(failures.map((f) => f.channel)).toEqual(['slack']);
    expect(failures[0]!.error).toBeInstanceOf(AlertDeliveryError);
    expect((failures[0]!.error as AlertDeliveryError).status).toBe(500);
    expect(failures[0]!.error).toMatchObject({ code: 'unavailable', name: 'AlertDeliveryError' });
    expect(logger.calls).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'alert channel "slack" failed',
        fields: expect.objectContaining({ channel: 'slack', alert_key: 'player_game_summary:gap:2025-11-03' }),
      }),
    ]);
  });

  it('deliver() reports each channel; sync throws, rejections and hangs are all contained', async () => {
    const ok = recorder('ok');
    const throwsSync: Alerter & { name: string } = {
      name: 'sync',
      send: () => {
        throw new Error('boom');
      },
    };
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the case under test: a channel that rejects with a non-Error
    const rejects: Alerter = { send: async () => Promise.reject('not an Error') };
    const hangs: Alerter & { name: string } = { name: 'hangs', send: () => new Promise<void>(() => undefined) };
    const fan = fanOutAlerter([ok, throwsSync, rejects, hangs, recorder('ok')], {
      deadlineMs: 50,
      onError: () => {
        throw new Error('callback bug');
      },
    });
    expect(fan.channels).toEqual(['ok', 'sync', 'channel-3', 'hangs', 'ok#2']);
    const report = await fan.deliver(notice());
    expect(report.delivered).toEqual(['ok', 'ok#2']);
    expect(report.failed.map((f) => [f.channel, f.error.message])).toEqual([
      ['sync', 'boom'],
      ['channel-3', 'not an Error'],
      ['hangs', '[smart-backfill] [alerts] channel "hangs": still sending after 50 ms; stopped waiting'],
    ]);
    expect(ok.got).toHaveLength(1);
  });

  it('rejectWhen "all-failed" rejects only when nothing got through', async () => {
    const bad: Alerter = {
      send: async () => {
        throw new Error('down');
      },
    };
    await expect(fanOutAlerter([bad, bad], { rejectWhen: 'all-failed' }).send(notice())).rejects.toThrow(
      /no channel delivered: down; down/,
    );
    await expect(fanOutAlerter([bad, recorder('ok')], { rejectWhen: 'all-failed' }).send(notice())).resolves.toBeUndefined();
    await expect(fanOutAlerter([bad, bad]).send(notice())).resolves.toBeUndefined();
    await expect(fanOutAlerter([], { rejectWhen: 'all-failed' }).send(notice())).resolves.toBeUndefined();
  });

  it('channels run concurrently: a slow channel does not delay the start of the next', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: Alerter = {
      send: async () => {
        order.push('slow:start');
        await gate;
        order.push('slow:end');
      },
    };
    const fast: Alerter = {
      send: async () => {
        order.push('fast');
        release();
      },
    };
    await fanOutAlerter([slow, fast]).send(notice());
    expect(order).toEqual(['slow:start', 'fast', 'slow:end']);
  });
});

describe('sendTestAlert', () => {
  it('sends a sample marked as a test and reports channel by channel', async () => {
    const sink = memorySink();
    const bad: Alerter & { name: string } = {
      name: 'pager',
      send: async () => {
        throw new Error('pager down');
      },
    };
    const { notice: sample, report } = await sendTestAlert(fanOutAlerter([logAlerter({ stream: sink }), bad]), {
      processorName: 'player_game_summary',
      now: Date.parse('2025-11-20T06:00:00Z'),
    });
    expect(report.delivered).toEqual(['log']);
    expect(report.failed.map((f) => f.channel)).toEqual(['pager']);
    expect(sample).toMatchObject({ processorName: 'player_game_summary', runDate: '2025-11-20', kind: 'escalated' });
    const entry = JSON.parse(sink.lines()[0]!) as Record<string, unknown>;
    expect(entry['test']).toBe(true);
    expect(String(entry['message'])).toMatch(/^\[TEST\] player_game_summary: 6 dates missing \(Nov 3–7, Nov 12\)/);
    expect(entry['heal_commands']).toEqual([
      'smart-backfill backfill player_game_summary --from 2025-11-03 --to 2025-11-07',
      'smart-backfill backfill player_game_summary --from 2025-11-12 --to 2025-11-12',
    ]);
  });

  it('works with a plain alerter too, and never rejects', async () => {
    const { report } = await sendTestAlert({
      send: async () => {
        throw new Error('nope');
      },
    });
    expect(report).toMatchObject({ delivered: [], failed: [{ channel: 'alerter' }] });
  });
});
