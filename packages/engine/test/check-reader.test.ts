/**
 * A store's `CheckReader`: the guard reads a check in one call, reads none of it again,
 * builds its changes on what the check returned, and hands the run it held to resume.
 */
import { describe, expect, it } from 'vitest';
import type { AlertLog, HeldRun, RequestTracker, RunLog } from '@smart-backfill/core';
import { withSmartBackfill } from '@smart-backfill/engine';
import { memoryCheckReader } from '@smart-backfill/memory';
import { D, P, world } from './support/world.js';

const counted = () => {
  const calls: Record<string, number> = {};
  const count = (k: string): void => void (calls[k] = (calls[k] ?? 0) + 1);
  return { calls, count };
};

const setup = (missing: readonly string[]) => {
  const w = world({ missing: missing.map(D) });
  const { calls, count } = counted();
  const holds: (HeldRun | null | undefined)[] = [];
  const tracker: RequestTracker = {
    ...w.store.tracker,
    forWindow: (q) => (count('tracker.forWindow'), w.store.tracker.forWindow(q)),
  };
  const alertLog: AlertLog = {
    ...w.store.alertLog,
    list: (q) => (count('alertLog.list'), w.store.alertLog.list(q)),
  };
  const runLog: RunLog = {
    ...w.store.runLog,
    heldRuns: (q) => (count('runLog.heldRuns'), w.store.runLog.heldRuns(q)),
    hold: (run, o) => (holds.push(o?.current), w.store.runLog.hold(run, o)),
  };
  // The reader reads the store's own ports, not the counted ones: only the guard's reads count.
  const reader = memoryCheckReader(w.store.window, w.store);
  const window = { ...reader, readCheck: (q: Parameters<typeof reader.readCheck>[0]) => (count('readCheck'), reader.readCheck(q)) };
  const guarded = withSmartBackfill(w.filler, { ...w.store, tracker, alertLog, runLog, window });
  return { ...w, guarded, calls, holds };
};

describe('the guard over a CheckReader', () => {
  it('reads a check in one call and hands the run it held to resume instead of reading it back', async () => {
    const s = setup(['2025-11-10', '2025-11-11']);
    const first = await s.guarded.run({ date: D('2025-11-16') });
    expect(first._tag).toBe('Held');
    expect(s.calls).toEqual({ readCheck: 1 });
    // Nothing was held for this date yet: the check says so, and the hold builds on that.
    expect(s.holds).toEqual([null]);

    for (const k of Object.keys(s.calls)) delete s.calls[k];
    const again = await s.guarded.run({ date: D('2025-11-16') });
    expect(again._tag).toBe('Held');
    // The re-check after holding reads the tracker again (a backfill may have completed since
    // the check), never the held runs: it judges the run it was handed.
    expect(s.calls).toEqual({ readCheck: 1, 'tracker.forWindow': 1 });
    expect(s.holds[1]).toMatchObject({ runDate: D('2025-11-16'), status: 'held' });
  });

  it('escalates and heals with the alerts the check returned, without listing them', async () => {
    const missing = ['2025-11-08', '2025-11-09', '2025-11-10', '2025-11-11', '2025-11-12'];
    const s = setup(missing);
    const opened = await s.guarded.run({ date: D('2025-11-16') });
    expect(opened._tag).toBe('Escalated');
    for (const d of missing) s.store.setCount(P, D(d), 150);
    const healed = await s.guarded.run({ date: D('2025-11-16') });
    expect(healed._tag).toBe('Ran');
    expect(s.store.alerter.notices.map((n) => n.kind)).toEqual(['escalated', 'healed']);
    expect(s.calls['alertLog.list']).toBeUndefined();
    expect(s.calls['readCheck']).toBe(2);
  });
});
