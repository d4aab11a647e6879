import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './helpers.js';

// `backfill --with-downstream` on a weather pipeline: station_readings (raw) → daily_weather
// (the same day) → rain_trend (the three days before and the day). rain_trend runs on its own
// calendar, which has no 7th: its schedule does not expect that date.

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const { temp } = cleanupAfterEach();

const sb = (cwd: string, args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const day = (d: number): string => `2025-06-${String(d).padStart(2, '0')}`;
const days = (...ds: number[]): string[] => ds.map(day);

type Level = 'station_readings' | 'daily_weather' | 'rain_trend';
const COLUMN: Record<Level, string> = { station_readings: 'read_on', daily_weather: 'weather_on', rain_trend: 'trend_on' };

/** Days 1–10 on the station calendar; the trend calendar skips the 7th. `has` lists the days each table holds. */
const makeWeather = (file: string, has: Record<Level, number[]>): void => {
  const w = new Database(file);
  w.exec(`CREATE TABLE station_days(day TEXT PRIMARY KEY);
          CREATE TABLE trend_days(day TEXT PRIMARY KEY);`);
  for (const level of Object.keys(COLUMN) as Level[]) w.exec(`CREATE TABLE ${level}(${COLUMN[level]} TEXT NOT NULL)`);
  for (let d = 1; d <= 10; d++) {
    w.prepare('INSERT INTO station_days VALUES (?)').run(day(d));
    if (d !== 7) w.prepare('INSERT INTO trend_days VALUES (?)').run(day(d));
  }
  for (const level of Object.keys(COLUMN) as Level[]) for (const d of has[level]) w.prepare(`INSERT INTO ${level} VALUES (?)`).run(day(d));
  w.close();
};

/** A processor that inserts one row for its date into its own table. */
const writer = (name: Level, file: string, calendar: string, dependsOn?: { processor: Level; lookbackDays: number }[]) => {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `const D = require(${JSON.stringify(sqlite)}); const db = new D(process.env.WEATHER_DB); db.pragma('busy_timeout = 10000'); db.prepare('INSERT INTO ${name} VALUES (?)').run(process.env.SMART_BACKFILL_DATE); db.close();`;
  return {
    name,
    schedule: { table: calendar, dateColumn: 'day' },
    target: { table: name, dateColumn: COLUMN[name] },
    policy: { lookbackDays: 7, criticalLookbackDays: 7, minRecordsPerDate: 1, autoBackfillThreshold: 3 },
    command: [process.execPath, '-e', script],
    env: { WEATHER_DB: file },
    ...(dependsOn === undefined ? {} : { dependsOn }),
  };
};

const setup = (has: Record<Level, number[]>) => {
  const t = temp();
  const file = join(t.dir, 'weather.db');
  makeWeather(file, has);
  t.write('smart-backfill.config.json', {
    store: { type: 'sqlite', path: './weather.db' },
    processors: [
      writer('rain_trend', file, 'trend_days', [{ processor: 'daily_weather', lookbackDays: 3 }]),
      writer('daily_weather', file, 'station_days', [{ processor: 'station_readings', lookbackDays: 0 }]),
      writer('station_readings', file, 'station_days'),
    ],
  });
  return { dir: t.dir, file };
};

interface DownstreamJson {
  processorName: string;
  from: string;
  to: string;
  dates: { date: string; reason: string }[];
  toQueue: string[];
  inFlight: string[];
  queued?: { date: string; reason: string }[];
}
interface BackfillJson {
  toQueue: string[];
  queued?: { date: string }[];
  downstream: DownstreamJson[];
}

/** `processor date trigger` of each successful run, in the order they started. */
const builds = (file: string): string[] => {
  const db = new Database(file, { readonly: true });
  const rows = db
    .prepare(
      "SELECT processor_name AS p, run_date AS d, run_trigger AS t FROM analytics_processor_runs WHERE outcome = 'succeeded' ORDER BY started_at, rowid",
    )
    .all() as { p: string; d: string; t: string }[];
  db.close();
  return rows.map((r) => `${r.p} ${r.d} ${r.t}`);
};

const drain = (dir: string): void => {
  for (let i = 0; i < 3; i++) {
    const w = sb(dir, ['worker', '--once']);
    expect(w.code, w.stderr).toBe(0);
  }
};

describe('backfill --with-downstream', () => {
  it('queues the downstream dates that read the range and were never built, each once, in dependency order; the worker builds them after their inputs', () => {
    // The station lost the 5th; nothing downstream ran from the 5th on (except daily_weather's 9th and 10th).
    const { dir, file } = setup({
      station_readings: [1, 2, 3, 4, 6, 7, 8, 9, 10],
      daily_weather: [1, 2, 3, 4, 9, 10],
      rain_trend: [1, 2, 3, 4],
    });
    const args = ['backfill', 'station_readings', '--from', day(5), '--to', day(8), '--with-downstream', '--yes'];
    const dry = sb(dir, [...args, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as BackfillJson;
    expect(plan.toQueue).toEqual([day(5)]);
    // daily_weather: the range's own days (lookback 0); rain_trend: every day that reads one
    // of them (up to three days on), except the 7th, which its calendar does not expect.
    expect(plan.downstream.map((q) => [q.processorName, q.from, q.to, q.toQueue])).toEqual([
      ['daily_weather', day(5), day(8), days(5, 6, 7, 8)],
      ['rain_trend', day(5), '2025-06-11', days(5, 6, 8, 9, 10)],
    ]);
    expect(new Set(plan.downstream.flatMap((q) => q.dates.map((d) => d.reason)))).toEqual(new Set(['backfill']));

    const text = sb(dir, [...args, '--dry-run']);
    expect(text.stdout).toContain('  downstream daily_weather 2025-06-05 … 2025-06-08\n    would queue 2025-06-05…2025-06-08 (4 dates)');
    expect(text.stdout).toContain('(backfill: never built or incomplete)');

    const first = sb(dir, [...args, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const queued = JSON.parse(first.stdout) as BackfillJson;
    expect(queued.queued?.map((r) => r.date)).toEqual([day(5)]);
    expect(queued.downstream.map((q) => [q.processorName, q.queued?.map((r) => `${r.date} ${r.reason}`)])).toEqual([
      ['daily_weather', days(5, 6, 7, 8).map((d) => `${d} backfill`)],
      ['rain_trend', days(5, 6, 8, 9, 10).map((d) => `${d} backfill`)],
    ]);
    // Again: everything is in flight, nothing is queued twice.
    const again = JSON.parse(sb(dir, [...args, '--json']).stdout) as BackfillJson;
    expect(again.queued).toEqual([]);
    expect(again.downstream.map((q) => [q.processorName, q.queued, q.inFlight])).toEqual([
      ['daily_weather', [], days(5, 6, 7, 8)],
      ['rain_trend', [], days(5, 6, 8, 9, 10)],
    ]);

    drain(dir);
    expect(builds(file)).toEqual([
      `station_readings ${day(5)} backfill`,
      ...days(5, 6, 7, 8).map((d) => `daily_weather ${d} backfill`),
      ...days(5, 6, 8, 9, 10).map((d) => `rain_trend ${d} backfill`),
    ]);
    const after = JSON.parse(sb(dir, ['plan', '--from', day(1), '--to', day(10), '--json']).stdout) as { steps: unknown[] };
    expect(after.steps).toEqual([]);
  }, 240_000);

  it('a forced rebuild rebuilds the filled downstream dates that read it, not a date the downstream schedule does not expect', () => {
    const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const { dir, file } = setup({ station_readings: all, daily_weather: all, rain_trend: all.filter((d) => d !== 7) });
    const bf = sb(dir, [
      'backfill',
      'station_readings',
      '--from',
      day(5),
      '--to',
      day(5),
      '--force',
      '--with-downstream',
      '--yes',
      '--json',
    ]);
    expect(bf.code, bf.stderr).toBe(0);
    const out = JSON.parse(bf.stdout) as BackfillJson;
    expect(out.queued?.map((r) => r.date)).toEqual([day(5)]);
    expect(out.downstream.map((q) => [q.processorName, q.queued?.map((r) => `${r.date} ${r.reason}`)])).toEqual([
      ['daily_weather', [`${day(5)} rebuild`]],
      // The 7th reads the 5th, but rain_trend's calendar does not expect it.
      ['rain_trend', days(5, 6, 8).map((d) => `${d} rebuild`)],
    ]);
    drain(dir);
    expect(builds(file)).toEqual([
      `station_readings ${day(5)} backfill`,
      `daily_weather ${day(5)} cascade`,
      ...days(5, 6, 8).map((d) => `rain_trend ${d} cascade`),
    ]);
  }, 240_000);
});
