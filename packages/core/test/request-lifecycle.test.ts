import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isActive,
  isoDate,
  newRequest,
  summarizeRequests,
  transition,
  type BackfillRequest,
  type RequestEvent,
  type RequestStatus,
} from '@smart-backfill/core';

/** What the lifecycle should be, in the fewest fields. */
interface Model {
  now: number;
  status: RequestStatus;
  attempt: number;
  failures: number;
  gaveUp: boolean;
  leaseExpiresAt: number | null;
  notBefore: number | null;
  publishedAt: number | null;
}
interface Real {
  r: BackfillRequest;
}

const T0 = 1_763_280_000_000;
const fresh = (): BackfillRequest =>
  newRequest({
    requestId: 'r1',
    processorName: 'PlayerGameSummaryProcessor',
    date: isoDate('2025-11-15'),
    requestType: 'auto',
    priority: 'normal',
    requestedAt: T0,
    requestedBy: 'smart_backfill_detection',
    triggerReason: 'auto_backfill',
    metadata: {},
  });

/** Checked after every command: states no sequence may reach. */
const invariants = (r: BackfillRequest): void => {
  expect(['queued', 'processing', 'completed', 'failed']).toContain(r.status);
  expect(r.attempt).toBeGreaterThanOrEqual(0);
  // Each claim ends in at most one Fail, so real failures never outnumber claims.
  expect(r.failures).toBeGreaterThanOrEqual(0);
  expect(r.failures).toBeLessThanOrEqual(r.attempt);
  if (r.gaveUp) expect(r.status).toBe('failed');
  expect(r.status === 'processing').toBe(r.leaseOwner !== null);
  expect(r.status === 'processing').toBe(r.leaseExpiresAt !== null);
  if (r.status !== 'queued') expect(r.attempt).toBeGreaterThanOrEqual(1);
  if (r.attempt > 0) expect(r.startedAt).not.toBeNull();
  expect(r.status === 'completed' || r.status === 'failed').toBe(r.completedAt !== null);
  if (r.status === 'failed') expect(r.errorMessage).not.toBeNull();
  if (r.status === 'completed') expect(r.errorMessage).toBeNull();
  if (r.status !== 'queued') expect(r.notBefore).toBeNull();
  expect(isActive(r.status)).toBe(r.status === 'queued' || r.status === 'processing');
};

/** Outcomes reached across all runs, to show the generator exercises every edge. */
const reached = new Set<string>();

/** Apply one event to both; compare the outcome with the model's expectation. */
const step = (m: Model, real: Real, e: RequestEvent, expectErr: string | null, next: (m: Model) => void): void => {
  const before = real.r;
  const res = transition(before, e);
  if (expectErr !== null) {
    expect(res._tag).toBe('Err');
    if (res._tag === 'Err') {
      reached.add(`${e._tag}:${res.error._tag}`);
      expect(res.error._tag).toBe(expectErr);
      expect(res.error.message.length).toBeGreaterThan(10);
    }
    // An illegal or stale event changes nothing: the caller keeps the old state.
    return;
  }
  expect(res._tag).toBe('Ok');
  if (res._tag !== 'Ok') return;
  next(m);
  reached.add(`${before.status}-${e._tag}->${res.value.status}`);
  if (res.value.gaveUp) reached.add('Fail:final');
  real.r = res.value;
  expect(real.r.updatedAt).toBeGreaterThanOrEqual(before.updatedAt);
  // failures never decrease, and only a Fail moves them — by exactly one.
  expect(real.r.failures - before.failures).toBe(e._tag === 'Fail' ? 1 : 0);
  if (before.publishedAt !== null) expect(real.r.publishedAt).toBe(before.publishedAt);
  expect({
    status: real.r.status,
    attempt: real.r.attempt,
    failures: real.r.failures,
    gaveUp: real.r.gaveUp,
    leaseExpiresAt: real.r.leaseExpiresAt,
    notBefore: real.r.notBefore,
    publishedAt: real.r.publishedAt,
  }).toEqual({
    status: m.status,
    attempt: m.attempt,
    failures: m.failures,
    gaveUp: m.gaveUp,
    leaseExpiresAt: m.leaseExpiresAt,
    notBefore: m.notBefore,
    publishedAt: m.publishedAt,
  });
  invariants(real.r);
};

class Advance implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  run(m: Model): void {
    m.now += this.ms;
  }
  toString = () => `Advance(${this.ms})`;
}
class Claim implements fc.Command<Model, Real> {
  constructor(
    readonly owner: string,
    readonly leaseMs: number,
  ) {}
  check = () => true;
  run(m: Model, real: Real): void {
    const err = m.status !== 'queued' ? 'IllegalTransition' : m.notBefore !== null && m.now < m.notBefore ? 'NotYetDue' : null;
    step(m, real, { _tag: 'Claim', at: m.now, owner: this.owner, leaseMs: this.leaseMs }, err, (mm) => {
      mm.status = 'processing';
      mm.attempt++;
      mm.leaseExpiresAt = mm.now + this.leaseMs;
      mm.notBefore = null;
    });
    if (err === null) expect(real.r.leaseOwner).toBe(this.owner);
  }
  toString = () => `Claim(${this.owner}, ${this.leaseMs})`;
}
/** Heartbeat / Complete / Fail carry an attempt; `lag` > 0 makes it a stale worker's. */
class Finish implements fc.Command<Model, Real> {
  constructor(
    readonly kind: 'Heartbeat' | 'Complete' | 'Fail',
    readonly lag: number,
    readonly final: boolean | undefined = undefined,
  ) {}
  check = () => true;
  run(m: Model, real: Real): void {
    const attempt = m.attempt - this.lag;
    const err = m.status !== 'processing' ? 'IllegalTransition' : attempt !== m.attempt ? 'StaleAttempt' : null;
    const e: RequestEvent =
      this.kind === 'Heartbeat'
        ? { _tag: 'Heartbeat', at: m.now, attempt, leaseMs: 60_000 }
        : this.kind === 'Complete'
          ? { _tag: 'Complete', at: m.now, attempt }
          : { _tag: 'Fail', at: m.now, attempt, error: 'boom', ...(this.final === undefined ? {} : { final: this.final }) };
    step(m, real, e, err, (mm) => {
      if (this.kind === 'Heartbeat') mm.leaseExpiresAt = mm.now + 60_000;
      else {
        mm.status = this.kind === 'Complete' ? 'completed' : 'failed';
        mm.leaseExpiresAt = null;
        if (this.kind === 'Fail') {
          mm.failures++;
          mm.gaveUp = this.final === true;
        }
      }
    });
  }
  toString = () => `${this.kind}(lag ${this.lag}${this.final === undefined ? '' : `, final ${this.final}`})`;
}
class Retry implements fc.Command<Model, Real> {
  constructor(readonly backoffMs: number) {}
  check = () => true;
  run(m: Model, real: Real): void {
    step(
      m,
      real,
      { _tag: 'Retry', at: m.now, notBefore: m.now + this.backoffMs },
      m.status !== 'failed' ? 'IllegalTransition' : null,
      (mm) => {
        mm.status = 'queued';
        mm.gaveUp = false;
        mm.notBefore = mm.now + this.backoffMs;
      },
    );
  }
  toString = () => `Retry(${this.backoffMs})`;
}
class Expire implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, real: Real): void {
    const err =
      m.status !== 'processing' ? 'IllegalTransition' : m.leaseExpiresAt !== null && m.now < m.leaseExpiresAt ? 'LeaseNotExpired' : null;
    step(m, real, { _tag: 'LeaseExpired', at: m.now }, err, (mm) => {
      mm.status = 'queued';
      mm.leaseExpiresAt = null;
    });
  }
  toString = () => 'LeaseExpired';
}
class Publish implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, real: Real): void {
    step(m, real, { _tag: 'MarkPublished', at: m.now }, null, (mm) => {
      if (mm.publishedAt === null) mm.publishedAt = mm.now;
    });
  }
  toString = () => 'MarkPublished';
}

const commands = [
  fc.integer({ min: 1, max: 120_000 }).map((ms) => new Advance(ms)),
  fc.tuple(fc.constantFrom('w1', 'w2'), fc.integer({ min: 1, max: 90_000 })).map(([o, l]) => new Claim(o, l)),
  fc
    .tuple(
      fc.constantFrom('Heartbeat', 'Complete', 'Fail') as fc.Arbitrary<'Heartbeat' | 'Complete' | 'Fail'>,
      fc.constantFrom(0, 0, 0, 1, 2),
    )
    .map(([k, lag]) => new Finish(k, lag)),
  fc.tuple(fc.constantFrom(0, 0, 1), fc.constantFrom(undefined, false, true)).map(([lag, final]) => new Finish('Fail', lag, final)),
  fc.integer({ min: 0, max: 600_000 }).map((b) => new Retry(b)),
  fc.constant(new Expire()),
  fc.constant(new Publish()),
];

describe('request lifecycle (model-based)', () => {
  it('no command sequence reaches an illegal state; stale and illegal events change nothing', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 80, size: 'large' }), (cmds) => {
        const model: Model = {
          now: T0,
          status: 'queued',
          attempt: 0,
          failures: 0,
          gaveUp: false,
          leaseExpiresAt: null,
          notBefore: null,
          publishedAt: null,
        };
        const real: Real = { r: fresh() };
        invariants(real.r);
        fc.modelRun(() => ({ model, real }), cmds);
      }),
      { numRuns: 300 },
    );
    for (const edge of [
      'queued-Claim->processing',
      'processing-Heartbeat->processing',
      'processing-Complete->completed',
      'processing-Fail->failed',
      'failed-Retry->queued',
      'processing-LeaseExpired->queued',
      'completed-MarkPublished->completed',
      'Complete:StaleAttempt',
      'Fail:StaleAttempt',
      'Heartbeat:StaleAttempt',
      'Claim:NotYetDue',
      'LeaseExpired:LeaseNotExpired',
      'Claim:IllegalTransition',
      'Retry:IllegalTransition',
      'Fail:final',
    ]) {
      expect(reached, edge).toContain(edge);
    }
  });

  it('failures never decrease and grow by exactly one per accepted Fail; claims and lapsed leases leave them', () => {
    const event = fc.oneof(
      fc.record({ _tag: fc.constant('Claim' as const), owner: fc.constant('w'), leaseMs: fc.integer({ min: 1, max: 10 }) }),
      fc.record({ _tag: fc.constant('Heartbeat' as const), lag: fc.constantFrom(0, 1), leaseMs: fc.constant(10) }),
      fc.record({ _tag: fc.constant('Complete' as const), lag: fc.constantFrom(0, 0, 0, 1) }),
      fc.record({ _tag: fc.constant('Fail' as const), lag: fc.constantFrom(0, 1), final: fc.boolean() }),
      fc.record({ _tag: fc.constant('Retry' as const) }),
      fc.record({ _tag: fc.constant('LeaseExpired' as const) }),
      fc.record({ _tag: fc.constant('MarkPublished' as const) }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        let r = fresh();
        let at = T0;
        let fails = 0;
        let lapses = 0;
        for (const x of events) {
          at += 20;
          const e: RequestEvent =
            x._tag === 'Claim' || x._tag === 'LeaseExpired' || x._tag === 'MarkPublished'
              ? { ...x, at }
              : x._tag === 'Retry'
                ? { _tag: 'Retry', at, notBefore: at }
                : x._tag === 'Fail'
                  ? { _tag: 'Fail', at, attempt: r.attempt - x.lag, error: 'boom', final: x.final }
                  : x._tag === 'Complete'
                    ? { _tag: 'Complete', at, attempt: r.attempt - x.lag }
                    : { _tag: 'Heartbeat', at, attempt: r.attempt - x.lag, leaseMs: x.leaseMs };
          const res = transition(r, e);
          if (res._tag === 'Err') continue;
          expect(res.value.failures).toBe(r.failures + (e._tag === 'Fail' ? 1 : 0));
          if (e._tag === 'Fail') fails++;
          if (e._tag === 'LeaseExpired') lapses++;
          r = res.value;
        }
        expect(r.failures).toBe(fails);
        // Every claim ended in a Fail, a lapse, a completion, or is still running.
        expect(r.attempt).toBeGreaterThanOrEqual(r.failures + lapses);
      }),
      { numRuns: 300 },
    );
  });

  it('completed is terminal for every event but MarkPublished', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 30 }), fc.integer({ min: 0, max: 3 }), (cmds, lag) => {
        const model: Model = {
          now: T0,
          status: 'queued',
          attempt: 0,
          failures: 0,
          gaveUp: false,
          leaseExpiresAt: null,
          notBefore: null,
          publishedAt: null,
        };
        const real: Real = { r: fresh() };
        fc.modelRun(() => ({ model, real }), cmds);
        if (real.r.status !== 'completed') return;
        const at = model.now + 1;
        const events: RequestEvent[] = [
          { _tag: 'Claim', at, owner: 'w', leaseMs: 1 },
          { _tag: 'Heartbeat', at, attempt: real.r.attempt - lag, leaseMs: 1 },
          { _tag: 'Complete', at, attempt: real.r.attempt - lag },
          { _tag: 'Fail', at, attempt: real.r.attempt - lag, error: 'x' },
          { _tag: 'Retry', at, notBefore: at },
          { _tag: 'LeaseExpired', at },
        ];
        for (const e of events) expect(transition(real.r, e)._tag).toBe('Err');
      }),
    );
  });
});

describe('summarizeRequests', () => {
  const base = fresh();
  const at = (r: Partial<BackfillRequest>): BackfillRequest => ({ ...base, ...r });

  it('active dates, failed attempts since the last success, last error', () => {
    const d1 = isoDate('2025-11-14');
    const d2 = isoDate('2025-11-15');
    const s = summarizeRequests([
      at({ requestId: 'a', date: d1, status: 'failed', attempt: 2, failures: 2, completedAt: T0 + 10, errorMessage: 'old' }),
      at({ requestId: 'b', date: d1, status: 'completed', attempt: 1, completedAt: T0 + 20 }),
      at({ requestId: 'c', date: d1, status: 'failed', attempt: 1, failures: 1, completedAt: T0 + 30, errorMessage: 'new' }),
      at({ requestId: 'd', date: d2, status: 'processing', attempt: 1 }),
    ]);
    expect([...s.active.keys()]).toEqual([d2]);
    expect(s.failedAttempts.get(d1)).toBe(1);
    expect(s.lastError.get(d1)).toBe('new');
    expect(s.failedAttempts.has(d2)).toBe(false);
  });

  it('counts real failures, not claims: lapsed leases do not use up attempts', () => {
    const d1 = isoDate('2025-11-14');
    const s = summarizeRequests([
      // Claimed five times: four leases lapsed, then the processor threw once.
      at({ requestId: 'a', date: d1, status: 'failed', attempt: 5, failures: 1, completedAt: T0 + 10, errorMessage: 'boom' }),
      at({ requestId: 'b', date: d1, status: 'failed', attempt: 3, failures: 2, completedAt: T0 + 20, errorMessage: 'boom again' }),
    ]);
    expect(s.failedAttempts.get(d1)).toBe(3);
    expect(s.lastError.get(d1)).toBe('boom again');
  });
});
