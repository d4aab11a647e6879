/**
 * A port may throw before it returns a promise (a driver checking its arguments, a wrapper
 * refusing a closed client). The guard's reads start together; one such throw must end as a
 * recorded failed check, not as an unhandled rejection from the read started beside it — which
 * would end a Node process (and fails this file under Vitest).
 */
import { describe, expect, it } from 'vitest';
import type { RequestTracker, ScheduleSource, TargetTable } from '@smart-backfill/core';
import { withSmartBackfill } from '@smart-backfill/engine';
import { D, P, world } from './support/world.js';

const thrown = (what: string) => (): never => {
  throw new Error(`${what} refused before it began`);
};

describe('a port that throws synchronously', () => {
  it('the schedule rejects, the target throws at once: a failed check, recorded', async () => {
    const w = world({ missing: [D('2025-11-14')] });
    const schedule: ScheduleSource = { expectedDates: () => Promise.reject(new Error('schedule unavailable')) };
    const target: TargetTable = { recordCounts: thrown('target') };
    const guarded = withSmartBackfill(w.filler, { ...w.store, window: { schedule, target } });
    const o = await guarded.run({ date: D('2025-11-16') });
    expect(o._tag).toBe('Failed');
    expect(o._tag === 'Failed' && o.stage).toBe('check');
    const runs = await w.store.runLog.runs({ processorName: P });
    expect(runs.map((r) => r.outcome)).toEqual(['failed']);
    expect(w.calls).toHaveLength(0);
  });

  it('the window read rejects, the tracker throws at once: a failed check, recorded', async () => {
    const w = world({ missing: [D('2025-11-14')] });
    const schedule: ScheduleSource = { expectedDates: () => Promise.reject(new Error('schedule unavailable')) };
    const tracker: RequestTracker = { ...w.store.tracker, forWindow: thrown('tracker') };
    const guarded = withSmartBackfill(w.filler, { ...w.store, tracker, window: { schedule, target: w.store.target } });
    const o = await guarded.run({ date: D('2025-11-16') });
    expect(o._tag === 'Failed' && o.error.message).toMatch(/could not check .* (schedule unavailable|tracker refused)/);
    expect(w.calls).toHaveLength(0);
  });
});
