import { describe, expect, it } from 'vitest';
import { runNbaDemo, DEFAULT_SCRIPT } from '../src/demo/nba-demo.js';
import { cli } from './helpers.js';

describe('demo: the NBA season story', () => {
  it('a failed day is held, backfilled and resumed; a partial day is caught; a five-day outage alerts once and heals', async () => {
    const r = await runNbaDemo();
    const f = r.figures;
    const runs = r.events.filter((e) => e._tag === 'Run');
    const tags = runs.map((e) => (e._tag === 'Run' ? `${e.date}:${e.outcome._tag}` : ''));
    // Nov 15 fails; Nov 16 is held for it; the worker fills Nov 15 and Nov 16 resumes by itself.
    expect(tags).toContain('2025-11-15:Failed');
    expect(tags).toContain('2025-11-16:Held');
    const fill = r.events.find((e) => e._tag === 'Worker' && e.filled.some((x) => x.date === '2025-11-15'));
    expect(fill?._tag === 'Worker' ? fill.resumed : []).toEqual(['2025-11-16']);
    // The partial day is caught as incomplete (rows below the minimum), not as absent.
    expect(f.incompleteCaught).toEqual(['2025-11-24']);
    const caught = runs.find((e) => e._tag === 'Run' && e.date === '2025-11-25');
    expect(
      caught?._tag === 'Run' && caught.outcome._tag === 'Held' ? caught.outcome.analysis.incompleteDates.map((i) => i.date) : [],
    ).toEqual(['2025-11-24']);
    expect(f.healedAutomatically).toEqual(['2025-11-15', '2025-11-24']);
    // The outage: five escalated runs, one alert, then the manual backfill heals it and the healed notice follows.
    expect(f.escalatedRuns).toBe(5);
    expect(f.alertsSent).toBe(1);
    expect(r.events.filter((e) => e._tag === 'Alert').map((e) => (e._tag === 'Alert' ? e.notice.kind : ''))).toEqual([
      'escalated',
      'healed',
    ]);
    const manual = r.events.find((e) => e._tag === 'Manual');
    expect(manual?._tag === 'Manual' ? manual.queued : []).toEqual(expect.arrayContaining([...DEFAULT_SCRIPT.outage]));
    expect(f.healedNotices).toBe(1);
    expect(f.escalationRecoveryMs).toBeGreaterThan(3 * 86_400_000);
    // Every held run was released: resumed, or made moot by a backfill of its own date.
    expect([...f.resumedRuns, ...f.supersededRuns].sort()).toEqual(f.heldRuns);
    expect(f.resumedRuns).toEqual(expect.arrayContaining(['2025-11-16', '2025-11-25']));
    expect(r.status.openAlerts).toEqual([]);
    expect(r.status.openRequests).toEqual([]);
    expect(r.status.heldRuns).toEqual([]);
    expect(f.autoRecoveryMs).toEqual([5 * 60_000, 5 * 60_000]);
    // One outage is one gap (five held runs, one time to recovery): three healed gaps, the report's median.
    expect(f.healedGaps).toBe(3);
    expect(f.medianRecoveryMs).toBe(5 * 60_000);
    // The final calendar: every game day complete, nothing else open.
    const { calendarDays } = await import('../src/format/calendar.js');
    const states = new Set(
      calendarDays(r.status.calendar)
        .days.filter((d) => d.date <= '2025-12-13')
        .map((d) => d.state),
    );
    expect([...states].sort()).toEqual(['complete', 'nothing_scheduled']);
  });

  it('is deterministic: the same seed tells the same story', async () => {
    const a = await runNbaDemo();
    const b = await runNbaDemo();
    expect(b.figures).toEqual(a.figures);
    expect(JSON.stringify(b.events.map((e) => e._tag))).toBe(JSON.stringify(a.events.map((e) => e._tag)));
  });

  it('prints the timeline, the calendar and the figures', async () => {
    const r = await cli(['demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/run Nov 15: x failed: box score feed timed out/);
    expect(r.stdout).toMatch(/run Nov 16: q held: Nov 15 missing → backfill queued for Nov 15/);
    expect(r.stdout).toMatch(/worker: # filled Nov 15 \(\d+ rows\) → held run Nov 16 resumed by itself/);
    expect(r.stdout).toMatch(/Nov 24 incomplete \(\d+ rows < 30\)/);
    expect(r.stdout).toMatch(/ALERT \(escalated\) player_game_summary: 5 dates missing/);
    expect(r.stdout).toMatch(/escalated again; the alert is already open: 0 new alerts sent/);
    expect(r.stdout).toMatch(/\$ smart-backfill backfill player_game_summary --from 2025-12-01 --to 2025-12-08 --only-missing/);
    expect(r.stdout).toMatch(/ALERT \(healed\)/);
    expect(r.stdout).toContain('# complete  ~ incomplete');
    // The demo's data is a game schedule: its calendars keep its own words.
    expect(r.stdout).toContain('! escalated  . no games');
    expect(r.stdout).not.toContain('nothing scheduled');
    expect(r.stdout).toMatch(/escalated\s+5 runs, 1 alert sent, 1 healed notice/);
  });
});
