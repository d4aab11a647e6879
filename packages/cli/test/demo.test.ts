import { describe, expect, it } from 'vitest';
import { dateRange, isoDate } from '@smart-backfill/core';
import { runNbaDemo, DEFAULT_SCRIPT } from '../src/demo/nba-demo.js';
import { cli } from './helpers.js';

describe('demo: the NBA season story', () => {
  it('a lost raw day and a partial one hold both levels below and heal once; a five-day outage alerts once, on the level whose own data is missing, and heals every level', async () => {
    const r = await runNbaDemo();
    const f = r.figures;
    const runs = r.events.filter((e) => e._tag === 'Run');
    const tags = runs.map((e) => (e._tag === 'Run' ? `${e.processor} ${e.date}:${e.outcome._tag}` : ''));
    // Nov 15's scrape fails; both levels below are held for it (not run on a missing input), and one backfill heals all three.
    expect(tags).toEqual(
      expect.arrayContaining(['box_scores 2025-11-15:Failed', 'player_game_summary 2025-11-15:Held', 'team_rolling_10d 2025-11-15:Held']),
    );
    const fill = r.events.find((e) => e._tag === 'Worker' && e.filled.some((x) => x.date === '2025-11-15'));
    expect(fill?._tag === 'Worker' ? fill.filled.map((x) => x.processor) : []).toEqual(['box_scores']);
    expect(fill?._tag === 'Worker' ? fill.rebuilt.map((x) => `${x.processor} ${x.date} ${x.trigger}`) : []).toEqual([
      'player_game_summary 2025-11-15 resume',
      'team_rolling_10d 2025-11-15 resume',
    ]);
    // The partial scrape is caught as incomplete (rows below the minimum), not as absent, before anything reads it.
    expect(f.incompleteCaught).toEqual(['2025-11-24']);
    const caught = runs.find((e) => e._tag === 'Run' && e.processor === 'player_game_summary' && e.date === '2025-11-24');
    expect(caught?._tag === 'Run' ? caught.waits : []).toEqual([
      { processor: 'box_scores', date: '2025-11-24', rows: expect.any(Number), state: 'queued' },
    ]);
    expect(f.healedAutomatically).toEqual(['2025-11-15', '2025-11-24']);
    expect(f.pipeline.upstreamBackfills.map((b) => `${b.processor} ${b.date}`)).toEqual(['box_scores 2025-11-15', 'box_scores 2025-11-24']);
    expect(f.pipeline.runsOnIncompleteInputs).toBe(0);
    expect(f.pipeline.rebuiltMoreThanOnce).toBe(0);
    // The outage: player_game_summary's own days are missing (its inputs are whole): five escalated runs and
    // one alert, there. team_rolling_10d's days are missing only because those are: it waits, never alerts.
    expect(f.escalatedRuns).toBe(5);
    expect(f.alertsSent).toBe(1);
    expect(
      r.events.filter((e) => e._tag === 'Alert').map((e) => (e._tag === 'Alert' ? `${e.notice.kind} ${e.notice.processorName}` : '')),
    ).toEqual(['escalated player_game_summary', 'healed player_game_summary']);
    const rolling = runs.find((e) => e._tag === 'Run' && e.processor === 'team_rolling_10d' && e.date === '2025-12-06');
    expect(rolling?._tag === 'Run' ? [rolling.outcome._tag, rolling.waits?.map((w) => `${w.processor} ${w.date} ${w.state}`)] : []).toEqual(
      ['Held', DEFAULT_SCRIPT.outage.map((d) => `player_game_summary ${d} escalated`)],
    );
    // One manual backfill (the alert's); its completion builds team_rolling_10d's days once each, after it.
    const manual = r.events.filter((e) => e._tag === 'Manual');
    expect(manual.map((m) => (m._tag === 'Manual' ? m.processor : ''))).toEqual(['player_game_summary']);
    for (const m of manual) expect(m._tag === 'Manual' ? m.queued : []).toEqual(expect.arrayContaining([...DEFAULT_SCRIPT.outage]));
    const built = r.events.flatMap((e) => (e._tag === 'Worker' ? e.rebuilt : [])).filter((x) => x.processor === 'team_rolling_10d');
    const outageBuilds = built.filter((x) => x.date >= '2025-12-01' && x.date <= '2025-12-10').map((x) => x.date);
    expect(outageBuilds.sort()).toEqual(dateRange(isoDate('2025-12-01'), isoDate('2025-12-10')));
    expect(f.healedNotices).toBe(1);
    for (const ms of f.escalationRecoveryMs) expect(ms).toBeGreaterThan(3 * 86_400_000);
    // Every held run was released: resumed, or made moot by a backfill of its own date.
    expect(f.resumedRuns + f.supersededRuns).toBe(f.heldRuns);
    for (const s of r.statuses) {
      expect(s.openAlerts).toEqual([]);
      expect(s.openRequests).toEqual([]);
      expect(s.heldRuns).toEqual([]);
    }
    // The final calendars: every game day complete at every level, nothing else open.
    const { calendarDays } = await import('../src/format/calendar.js');
    for (const s of r.statuses) {
      const states = new Set(
        calendarDays(s.calendar)
          .days.filter((d) => d.date <= '2025-12-13')
          .map((d) => d.state),
      );
      expect([...states].sort(), s.name).toEqual(['complete', 'nothing_scheduled']);
    }
  });

  it('is deterministic: the same seed tells the same story', async () => {
    const a = await runNbaDemo();
    const b = await runNbaDemo();
    expect(b.figures).toEqual(a.figures);
    expect(JSON.stringify(b.events.map((e) => e._tag))).toBe(JSON.stringify(a.events.map((e) => e._tag)));
  });

  it('prints the timeline, the calendars and the figures', async () => {
    const r = await cli(['demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/box_scores Nov 15: x failed: box score feed timed out/);
    expect(r.stdout).toMatch(/player_game_summary Nov 15: q held: waits for box_scores Nov 15 \(missing\)/);
    expect(r.stdout).toMatch(/worker: # filled box_scores Nov 15 \(\d+ rows\)/);
    expect(r.stdout).toMatch(/box_scores Nov 24 \(incomplete: \d+ rows < 30\)/);
    expect(r.stdout).toMatch(/ALERT \(escalated\) player_game_summary: 5 dates missing/);
    expect(r.stdout).toMatch(
      /team_rolling_10d Dec 6: q held: waits for player_game_summary Dec 1–5 \(missing\) → player_game_summary's alert is open for it \(a person was told; no alert here\)/,
    );
    expect(r.stdout).toMatch(
      /runs Dec 7–10 of player_game_summary and team_rolling_10d held again behind the open alert: 0 new alerts sent/,
    );
    expect(r.stdout).toMatch(/\$ smart-backfill backfill player_game_summary --from 2025-12-01 --to 2025-12-08 --only-missing/);
    expect(r.stdout).not.toMatch(/\$ smart-backfill backfill team_rolling_10d/);
    expect(r.stdout).toMatch(/team_rolling_10d Dec 1–5 built once its input was whole/);
    expect(r.stdout).toMatch(/ALERT \(healed\)/);
    expect(r.stdout).toContain('# complete  ~ incomplete');
    // The demo's data is a game schedule: its calendars keep its own words.
    expect(r.stdout).toContain('! escalated  . no games');
    expect(r.stdout).not.toContain('nothing scheduled');
    expect(r.stdout).toMatch(
      /escalated\s+5 runs, 1 alert sent \(on the level whose own data was missing; the levels below waited for it\), 1 healed notice;/,
    );
    for (const level of ['box_scores', 'player_game_summary', 'team_rolling_10d'])
      expect(r.stdout).toContain(`${level}, last 8 weeks to 2025-12-14`);
  });
});
