import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoDate, resumeEvidenceSince, resumeReadiness, type IsoDate, type ResumeEvidence } from '@smart-backfill/core';

const DATES = ['2025-11-10', '2025-11-11', '2025-11-12', '2025-11-13', '2025-11-14', '2025-11-15', '2025-11-16'].map(isoDate);
const dateArb = fc.constantFrom(...DATES);
const timeArb = fc.integer({ min: 0, max: 1000 });
const runArb = fc.record({
  runDate: dateArb,
  isBackfill: fc.boolean(),
  outcome: fc.constantFrom('succeeded' as const, 'failed' as const, 'skipped' as const),
  startedAt: timeArb,
  finishedAt: timeArb,
});
const heldArb = fc.record({
  runDate: dateArb,
  heldAt: timeArb,
  waitingFor: fc.uniqueArray(dateArb, { maxLength: 4 }),
});
const evidenceArb: fc.Arbitrary<ResumeEvidence> = fc.record({
  active: fc.uniqueArray(dateArb, { maxLength: 3 }).map((a) => new Set<IsoDate>(a)),
  completedAt: fc.array(fc.tuple(dateArb, timeArb), { maxLength: 5 }).map((kv) => new Map<IsoDate, number>(kv)),
  runs: fc.array(runArb, { maxLength: 8 }),
});

describe('resumeReadiness', () => {
  it('never resumes while an awaited date is active, whatever the run log says', () => {
    fc.assert(
      fc.property(heldArb, evidenceArb, fc.array(runArb, { maxLength: 8 }), (h, ev, otherRuns) => {
        fc.pre(h.waitingFor.some((d) => ev.active.has(d)));
        const r = resumeReadiness(h, ev);
        expect(r._tag).not.toBe('Resume');
        // The runs are not read until no awaited date is active.
        expect(resumeReadiness(h, { ...ev, runs: otherRuns })).toEqual(resumeReadiness(h, { ...ev, runs: [] }));
      }),
    );
  });

  it('resumes only when every awaited date is closed, at the latest closing, and no check of the run date came after it', () => {
    fc.assert(
      fc.property(heldArb, evidenceArb, (h, ev) => {
        const r = resumeReadiness(h, ev);
        if (r._tag !== 'Resume') return;
        expect(h.waitingFor.length).toBeGreaterThan(0);
        for (const d of h.waitingFor) {
          expect(ev.active.has(d)).toBe(false);
          const byRun = ev.runs.some((x) => x.runDate === d && x.outcome === 'succeeded' && x.finishedAt > h.heldAt);
          expect(ev.completedAt.has(d) || byRun).toBe(true);
        }
        expect(ev.runs.some((x) => x.runDate === h.runDate && !x.isBackfill && x.startedAt > r.closedAt)).toBe(false);
      }),
    );
  });

  it('a check of the run date after the closing makes it wait; a later closing makes it ready again', () => {
    fc.assert(
      fc.property(heldArb, evidenceArb, (h, ev) => {
        fc.pre(!h.waitingFor.includes(h.runDate));
        const r = resumeReadiness(h, ev);
        if (r._tag !== 'Resume') return;
        const judged = {
          ...ev,
          runs: [
            ...ev.runs,
            { runDate: h.runDate, isBackfill: false, outcome: 'skipped' as const, startedAt: r.closedAt + 1, finishedAt: r.closedAt + 2 },
          ],
        };
        expect(resumeReadiness(h, judged)).toMatchObject({ _tag: 'Wait', reason: 'already_judged' });
        const [first] = h.waitingFor as [IsoDate];
        const reclosed = { ...judged, completedAt: new Map(judged.completedAt).set(first, r.closedAt + 3) };
        expect(resumeReadiness(h, reclosed)).toEqual({ _tag: 'Resume', closedAt: r.closedAt + 3 });
      }),
    );
  });

  it('cancels exactly when its own date was backfilled after the hold and is not active again', () => {
    fc.assert(
      fc.property(heldArb, evidenceArb, (h, ev) => {
        const r = resumeReadiness(h, ev);
        const own = ev.completedAt.get(h.runDate);
        if (own !== undefined && own > h.heldAt && !ev.active.has(h.runDate)) expect(r).toEqual({ _tag: 'Cancel', backfilledAt: own });
        if (r._tag === 'Cancel') {
          expect(ev.active.has(h.runDate)).toBe(false);
          expect(r.backfilledAt).toBeGreaterThan(h.heldAt);
        }
      }),
    );
  });

  it('is a function of the evidence: the order of runs does not matter', () => {
    fc.assert(
      fc.property(heldArb, evidenceArb, (h, ev) => {
        expect(resumeReadiness(h, { ...ev, runs: [...ev.runs].reverse() })).toEqual(resumeReadiness(h, ev));
      }),
    );
  });

  it('examples: waits for nothing awaited, for an open date; resumes once closed', () => {
    const h = { runDate: isoDate('2025-11-16'), heldAt: 100, waitingFor: [isoDate('2025-11-15')] };
    const none: ResumeEvidence = { active: new Set(), completedAt: new Map(), runs: [] };
    expect(resumeReadiness({ ...h, waitingFor: [] }, none)).toMatchObject({ _tag: 'Wait', reason: 'nothing_awaited' });
    expect(resumeReadiness(h, none)).toEqual({ _tag: 'Wait', reason: 'awaited_open', dates: ['2025-11-15'] });
    expect(resumeReadiness(h, { ...none, active: new Set([isoDate('2025-11-15')]) })).toMatchObject({ reason: 'awaited_active' });
    expect(resumeReadiness(h, { ...none, completedAt: new Map([[isoDate('2025-11-15'), 200]]) })).toEqual({
      _tag: 'Resume',
      closedAt: 200,
    });
    // A backfill run that produced the date though its request never completed (its worker died).
    const run = { runDate: isoDate('2025-11-15'), isBackfill: true, outcome: 'succeeded' as const, startedAt: 150, finishedAt: 160 };
    expect(resumeReadiness(h, { ...none, runs: [run] })).toEqual({ _tag: 'Resume', closedAt: 160 });
    expect(resumeEvidenceSince([h], new Map([[isoDate('2025-11-15'), 50]]))).toBe(50);
  });
});
