import { describe, expect, it } from 'vitest';
import { createResumer, resumeHeldRuns, withSmartBackfill, type Processor, type RunOptions } from '@smart-backfill/engine';
import type { RunLog } from '@smart-backfill/core';
import { D, P, world } from './support/world.js';
import { advance, settle } from './support/time.js';

const LEASE = 15 * 60_000;
const RUN_DATE = D('2025-11-16');

/** Nov 16 held behind Nov 15, whose backfill then completed: ready to resume. */
const heldAndReady = async (processor: (w: ReturnType<typeof world>) => Processor, policy: { readonly maxAttempts?: number } = {}) => {
  const w = world({ missing: [D('2025-11-15')] });
  const guarded = withSmartBackfill(processor(w), { ...w.store, policy });
  expect(await guarded.run({ date: RUN_DATE })).toMatchObject({ _tag: 'Held' });
  w.store.setCount(P, D('2025-11-15'), 150);
  const [r] = w.store.requests();
  await w.store.tracker.apply(r!.requestId, { _tag: 'Claim', at: w.clock.now(), owner: 'x', leaseMs: 1000 });
  await w.store.tracker.apply(r!.requestId, { _tag: 'Complete', at: w.clock.now(), attempt: 1 });
  return { ...w, guarded };
};

const resumeRuns = async (runLog: RunLog) => (await runLog.runs({})).filter((r) => r.trigger === 'resume' && r.runDate === RUN_DATE);

describe('a resumer that dies while re-running a held run', () => {
  it('leaves the run claimed and visible; after the lease another resumer re-runs it exactly once', async () => {
    const entered: RunOptions[] = [];
    let dieOnce = true;
    const w = await heldAndReady(({ filler }) => ({
      name: P,
      run: async (o) => {
        entered.push(o);
        if (o.trigger === 'resume' && dieOnce) {
          dieOnce = false;
          return new Promise<never>(() => undefined); // the process is gone: this never returns
        }
        return filler.run(o);
      },
    }));
    const deps = { ...w.store, guardFor: () => w.guarded };
    void resumeHeldRuns({ ...deps, claimant: 'doomed' }, P);
    for (let i = 0; i < 50 && entered.length === 0; i++) await settle(1);
    expect(entered.map((o) => o.trigger)).toEqual(['resume']);

    // Not lost, not marked done: claimed by the dead resumer, and listed as such.
    expect(await w.store.runLog.heldRuns({ processorName: P })).toMatchObject([
      { runDate: RUN_DATE, status: 'resuming', claimedBy: 'doomed', leaseUntil: w.clock.now() + LEASE, resumeRunId: null },
    ]);
    const rescuer = createResumer({ ...deps, claimant: 'rescuer' });
    // While the lease runs, nobody else touches it (the resumer may just be slow).
    expect((await rescuer.runOnce()).resumed).toEqual([]);
    await advance(w.clock, LEASE);
    const pass = await rescuer.runOnce();
    expect(pass.resumed).toEqual([{ processorName: P, runDate: RUN_DATE }]);
    expect(pass.outcomes).toMatchObject([{ _tag: 'Ran' }]);
    expect((await rescuer.runOnce()).resumed).toEqual([]);

    expect(w.calls.filter((c) => c.trigger === 'resume').map((c) => c.date)).toEqual([RUN_DATE]);
    const runs = await resumeRuns(w.store.runLog);
    expect(runs).toHaveLength(1);
    expect(await w.store.runLog.heldRuns({ processorName: P })).toMatchObject([
      { status: 'resumed', claimedBy: 'rescuer', claims: 2, resumeRunId: runs[0]!.runId },
    ]);
  });

  it('dying after the re-run was recorded: the takeover finishes it from the record and runs nothing again', async () => {
    const w = await heldAndReady(({ filler }) => filler);
    // The resumer records the re-run, then dies before marking the held run resumed.
    const dying: RunLog = {
      ...w.store.runLog,
      finishResume: async () => {
        throw new Error('killed');
      },
    };
    await expect(resumeHeldRuns({ ...w.store, runLog: dying, guardFor: () => w.guarded, claimant: 'doomed' }, P)).rejects.toThrow('killed');
    expect(await w.store.runLog.heldRuns({ processorName: P })).toMatchObject([{ status: 'resuming', claimedBy: 'doomed' }]);
    await advance(w.clock, LEASE);
    const pass = await createResumer({ ...w.store, guardFor: () => w.guarded, claimant: 'rescuer' }).runOnce();
    expect(pass.resumed).toEqual([{ processorName: P, runDate: RUN_DATE }]);
    expect(pass.outcomes).toEqual([]);
    const runs = await resumeRuns(w.store.runLog);
    expect(runs).toHaveLength(1);
    expect(w.calls.filter((c) => c.trigger === 'resume')).toHaveLength(1);
    expect(await w.store.runLog.heldRuns({ processorName: P })).toMatchObject([{ status: 'resumed', resumeRunId: runs[0]!.runId }]);
  });

  it('the completion path and the periodic pass use one rule: a run a re-check held again waits for a new closing', async () => {
    // The backfill completed (verified filled then) but the date is empty again: a new gap,
    // so the re-run queues a new backfill and holds the run again.
    const w = await heldAndReady(() => ({ name: P, run: async () => ({ rows: 0 }) }), { maxAttempts: 1 });
    w.store.setCount(P, D('2025-11-15'), 0);
    const deps = { ...w.store, guardFor: () => w.guarded };
    await advance(w.clock, 1000); // the re-check starts after the completion it judges
    expect((await resumeHeldRuns(deps, P)).outcomes).toMatchObject([{ _tag: 'Held' }]);
    expect(await w.store.runLog.heldRuns({ status: 'held' })).toMatchObject([{ runDate: RUN_DATE, reason: 'backfill_queued' }]);
    expect(w.store.requests().filter((r) => r.status === 'queued' || r.status === 'processing')).toHaveLength(1);
    // Neither path re-runs it again on the same evidence.
    expect((await resumeHeldRuns(deps, P)).resumed).toEqual([]);
    expect((await createResumer(deps).runOnce()).resumed).toEqual([]);
    expect(await resumeRuns(w.store.runLog)).toHaveLength(1);
  });
});
