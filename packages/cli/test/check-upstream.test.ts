import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { calendarProcessor, cleanupAfterEach, runBuiltCli } from './helpers.js';

// `check PROCESSOR --date D` is the guard's dry run: it must say when an input the run reads
// would hold it, as the run itself would, and still write nothing.

const { temp } = cleanupAfterEach();

const day = (d: number): string => `2025-11-${String(d).padStart(2, '0')}`;
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** raw_events → sessions (same day); every day 1–10 open; raw_events lacks day 10. */
const setup = () => {
  const t = temp();
  const file = join(t.dir, 'events.db');
  const w = new Database(file);
  w.exec(`CREATE TABLE calendar(day TEXT PRIMARY KEY, state TEXT NOT NULL);
          CREATE TABLE raw_events(event_date TEXT NOT NULL);
          CREATE TABLE sessions(session_date TEXT NOT NULL);`);
  for (let d = 1; d <= 10; d++) {
    w.prepare('INSERT INTO calendar VALUES (?, ?)').run(day(d), 'open');
    if (d !== 10) w.prepare('INSERT INTO raw_events VALUES (?)').run(day(d));
    w.prepare('INSERT INTO sessions VALUES (?)').run(day(d));
  }
  w.close();
  const processor = (name: string, column: string, dependsOn?: unknown[]) =>
    calendarProcessor(name, column, { dependsOn, lookbackDays: 5 });
  t.write('smart-backfill.config.json', {
    store: { type: 'sqlite', path: './.smart-backfill/tracking.db', warehouse: { path: './events.db' } },
    processors: [
      processor('raw_events', 'event_date'),
      processor('sessions', 'session_date', [{ processor: 'raw_events', lookbackDays: 0 }]),
    ],
  });
  return { dir: t.dir, file };
};

describe('check looks upstream', () => {
  it('a run its own window would let go ahead is reported held by the input it reads; nothing is written', () => {
    const { dir, file } = setup();
    const before = sha(file);
    const r = runBuiltCli(dir, ['check', 'sessions', '--date', day(10)]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toContain(`input      raw_events missing ${day(10)}: would queue ${day(10)}, in flight none; the run would be held`);
    expect(r.stdout).toContain('dry run: nothing was queued or recorded');
    const j = runBuiltCli(dir, ['check', 'sessions', '--date', day(10), '--json']);
    expect(j.code, j.stderr).toBe(3);
    expect(JSON.parse(j.stdout)).toMatchObject({
      wouldHold: true,
      upstream: [{ processor: 'raw_events', missing: [day(10)], queued: [day(10)], inFlight: [], escalated: [] }],
    });
    // A date whose input is whole proceeds as before.
    expect(runBuiltCli(dir, ['check', 'sessions', '--date', day(9)]).code).toBe(0);
    expect(sha(file)).toBe(before);
    expect(existsSync(join(dir, '.smart-backfill'))).toBe(false);
  }, 120_000);
});
