import { describe, expect, it } from 'vitest';
import { logAlerter } from '@smart-backfill/alerts';
import { memorySink, notice } from './helpers.js';

describe('logAlerter', () => {
  it('writes one JSON object per line, in Cloud Logging shape', async () => {
    const sink = memorySink();
    const alerter = logAlerter({ stream: sink, extra: { service: 'nba-analytics', severity: 'DEBUG' } });
    await alerter.send(notice());
    await alerter.send(notice({ kind: 'reminder', at: Date.parse('2025-11-21T06:00:00Z') }));
    await alerter.send(notice({ kind: 'healed', at: Date.parse('2025-11-21T08:30:00Z') }));
    const lines = sink.lines();
    expect(lines).toHaveLength(3);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.map((e) => e['severity'])).toEqual(['ERROR', 'ERROR', 'NOTICE']); // extra never overrides our own fields
    expect(entries.map((e) => e['kind'])).toEqual(['escalated', 'reminder', 'healed']);
    // one alert, one key, through its whole life
    expect(new Set(entries.map((e) => e['alert_key']))).toEqual(new Set(['player_game_summary:gap:2025-11-03']));
    for (const e of entries) {
      expect(e).toMatchObject({
        service: 'nba-analytics',
        event: 'smart_backfill.alert',
        processor: 'player_game_summary',
        run_date: '2025-11-20',
        'logging.googleapis.com/labels': { alert_key: 'player_game_summary:gap:2025-11-03', processor: 'player_game_summary' },
      });
    }
    const [opened, reminder, healed] = entries;
    expect(String(opened!['message']).split('\n')[0]).toBe(
      'player_game_summary: 6 dates missing (Nov 3–7, Nov 12), too many to backfill automatically',
    );
    expect(opened).toMatchObject({
      time: '2025-11-20T06:00:00.000Z',
      missing_count: 6,
      absent_dates: ['2025-11-03', '2025-11-04', '2025-11-05', '2025-11-12'],
    });
    expect(opened!['heal_commands']).toHaveLength(2);
    expect(reminder).toMatchObject({ open_for: '1 day', open_for_ms: 86_400_000 });
    expect(healed).toMatchObject({ time_to_recovery: '1 day 2 hours', heal_commands: [] });
    expect(String(healed!['message'])).toMatch(/^Healed: player_game_summary is whole again after 1 day 2 hours\n/);
  });

  it('healed lines can be INFO', async () => {
    const sink = memorySink();
    await logAlerter({ stream: sink, healedSeverity: 'INFO' }).send(notice({ kind: 'healed' }));
    expect(JSON.parse(sink.lines()[0]!)).toMatchObject({ severity: 'INFO' });
  });
});
