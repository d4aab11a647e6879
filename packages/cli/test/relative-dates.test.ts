import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { nbaFixture } from './nba-fixture.js';

// 11:00 UTC on Nov 16: already Nov 17 on Kiritimati (UTC+14), still Nov 16 in Los Angeles (UTC-8).
const env = { SMART_BACKFILL_NOW: '2025-11-16T11:00:00Z' };
let fx: ReturnType<typeof nbaFixture> | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

describe('--date, --from and --to take today, yesterday and -N in the config timeZone', () => {
  it.each([
    ['Pacific/Kiritimati', '2025-11-16', '2025-11-14'],
    ['America/Los_Angeles', '2025-11-15', '2025-11-13'],
    [undefined, '2025-11-15', '2025-11-13'],
  ])('in %s, yesterday is %s and -3 is %s', async (zone, yesterday, threeBack) => {
    fx = nbaFixture({ configExtra: zone === undefined ? {} : { timeZone: zone } });
    const r = await cli(['backfill', 'player_game_summary', '--from', '-3', '--to', 'yesterday', '--force', '--dry-run', '--json'], {
      cwd: fx.dir,
      env,
    });
    expect(r.code).toBe(0);
    expect(r.json<{ from: string; to: string }>()).toMatchObject({ from: threeBack, to: yesterday });
    expect(r.errors).toEqual([`from: -3 → ${threeBack} (${zone ?? 'UTC'})`, `to: yesterday → ${yesterday} (${zone ?? 'UTC'})`]);
    const check = await cli(['check', 'player_game_summary', '--date', 'yesterday', '--json'], { cwd: fx.dir, env });
    expect(check.errors).toEqual([`date: yesterday → ${yesterday} (${zone ?? 'UTC'})`]);
    expect(check.stdout).toContain(`"${yesterday}"`);
  });

  it('names the forms it accepts when the date is neither', async () => {
    fx = nbaFixture();
    const r = await cli(['run', 'player_game_summary', '--date', 'tomorrow'], { cwd: fx.dir, env });
    expect(r.code).toBe(2);
    expect(r.errors).toEqual(['error: --date: "tomorrow" is not a date: use YYYY-MM-DD, today, yesterday or -N (N days before today)']);
  });

  it('refuses an unknown timeZone at load, naming the field', async () => {
    fx = nbaFixture({ configExtra: { timeZone: 'Mars/Olympus_Mons' } });
    const r = await cli(['status'], { cwd: fx.dir, env });
    expect(r.code).toBe(2);
    expect(r.errors).toContain(
      '  timeZone: unknown time zone "Mars/Olympus_Mons" (expected an IANA name, e.g. "UTC" or "America/New_York")',
    );
  });
});
