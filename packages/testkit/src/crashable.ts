import type { BackfillQueue, Delivery, RequestTracker, RunLog } from '@smart-backfill/core';
import type { GuardedProcessor } from '@smart-backfill/engine';
import type { RandomSource } from './seeded-random.js';
import { replaceRun } from './guard-wrappers.js';

/** Where a simulated worker process dies (`before-resume-write`/`after-resume-write`: only by `crash`, in a re-run of a held run). */
export type CrashPoint =
  'after-receive' | 'after-claim' | 'during-run' | 'after-run' | 'after-complete' | 'before-resume-write' | 'after-resume-write';
export const CRASH_POINTS: readonly CrashPoint[] = ['after-receive', 'after-claim', 'during-run', 'after-run', 'after-complete'];

/** Thrown by every call a dead worker process makes: nothing it does after dying takes effect. */
export class WorkerCrashed extends Error {
  override readonly name = 'WorkerCrashed';
  constructor(readonly point: CrashPoint | 'dead') {
    super(`[smart-backfill] [testkit] simulated worker crash (${point})`);
  }
}

/**
 * The ports one simulated worker process sees. When it "crashes", every later
 * call through them throws and changes nothing, as if the process were gone:
 * its leases lapse, its deliveries come back, its fenced attempt goes stale.
 */
export class CrashableProcess {
  dead = false;
  crashedAt: CrashPoint | null = null;
  /** Crash points armed per request id, chosen when the delivery arrives. */
  private readonly armed = new Map<string, CrashPoint>();
  /** Runs in progress: a dying process takes them down with it (their rows are never written). */
  private readonly running = new Set<AbortController>();

  constructor(
    private readonly random: RandomSource,
    private readonly crashRate: number,
    private readonly onCrash: (point: CrashPoint) => void,
    /** For `during-run`: wait this long into the run, then die. */
    private readonly sleep?: (ms: number) => Promise<void>,
  ) {}

  private kill(point: CrashPoint): void {
    if (this.dead) return;
    this.dead = true;
    this.crashedAt = point;
    this.onCrash(point);
    for (const run of this.running) run.abort(new WorkerCrashed(point));
  }

  /** Kill the process now, from inside something it runs (a processor's body): every later call of it throws. */
  crash(point: CrashPoint): never {
    return this.die(point);
  }

  private die(point: CrashPoint): never {
    this.kill(point);
    throw new WorkerCrashed(point);
  }

  private alive(): void {
    if (this.dead) throw new WorkerCrashed('dead');
  }

  private fires(requestId: string, point: CrashPoint): boolean {
    if (this.armed.get(requestId) !== point) return false;
    this.armed.delete(requestId);
    return true;
  }

  queue(inner: BackfillQueue): BackfillQueue {
    const wrapDelivery = (d: Delivery): Delivery => ({
      deliveryId: d.deliveryId,
      message: d.message,
      deliveryAttempt: d.deliveryAttempt,
      ack: async () => {
        this.alive();
        await d.ack();
      },
      nack: async (ms?: number) => {
        this.alive();
        await (ms === undefined ? d.nack() : d.nack(ms));
      },
      extendLease: async (ms: number) => {
        this.alive();
        await d.extendLease(ms);
      },
      deadLetter:
        d.deadLetter === undefined
          ? undefined
          : async (reason: string) => {
              this.alive();
              await d.deadLetter!(reason);
            },
    });
    return {
      publish: async (ms) => {
        this.alive();
        return inner.publish(ms);
      },
      receive: async (opts) => {
        this.alive();
        const got = await inner.receive(opts);
        let dieNow = false;
        for (const d of got) {
          if (!this.random.chance(this.crashRate)) continue;
          const point = this.random.pick(CRASH_POINTS);
          if (point === 'after-receive') dieNow = true;
          else this.armed.set(d.message.id, point);
        }
        if (dieNow) this.die('after-receive');
        return got.map(wrapDelivery);
      },
    };
  }

  tracker(inner: RequestTracker): RequestTracker {
    return {
      create: async (rs) => {
        this.alive();
        return inner.create(rs);
      },
      get: async (id) => {
        this.alive();
        return inner.get(id);
      },
      forWindow: async (q) => {
        this.alive();
        return inner.forWindow(q);
      },
      apply: async (id, e) => {
        this.alive();
        const res = await inner.apply(id, e);
        if (res._tag === 'Ok' && e._tag === 'Claim' && this.fires(id, 'after-claim')) this.die('after-claim');
        if (res._tag === 'Ok' && e._tag === 'Complete' && this.fires(id, 'after-complete')) this.die('after-complete');
        return res;
      },
      unpublished: async (q) => {
        this.alive();
        return inner.unpublished(q);
      },
      expiredLeases: async (q) => {
        this.alive();
        return inner.expiredLeases(q);
      },
      list: async (q) => {
        this.alive();
        return inner.list(q);
      },
    };
  }

  runLog(inner: RunLog): RunLog {
    return {
      append: async (r) => {
        this.alive();
        return inner.append(r);
      },
      runs: async (q) => {
        this.alive();
        return inner.runs(q);
      },
      hold: async (h) => {
        this.alive();
        return inner.hold(h);
      },
      heldRuns: async (q) => {
        this.alive();
        return inner.heldRuns(q);
      },
      release: async (p, d, s, at) => {
        this.alive();
        return inner.release(p, d, s, at);
      },
      claimResume: async (p, d, c) => {
        this.alive();
        return inner.claimResume(p, d, c);
      },
      finishResume: async (c, done) => {
        this.alive();
        return inner.finishResume(c, done);
      },
    };
  }

  /** The guarded processor as this process runs it: dead processes run nothing; `after-run` dies once the rows are written. */
  processor(guard: GuardedProcessor): GuardedProcessor {
    return replaceRun(guard, async (opts) => {
      this.alive();
      const run = new AbortController();
      const outer = opts.signal;
      const forward = (): void => run.abort(outer?.reason);
      if (outer?.aborted === true) forward();
      outer?.addEventListener('abort', forward, { once: true });
      this.running.add(run);
      if (opts.requestId !== undefined && this.sleep !== undefined && this.fires(opts.requestId, 'during-run')) {
        const sleep = this.sleep;
        void sleep(this.random.int(1, 5) * 60_000).then(() => this.kill('during-run'));
      }
      try {
        const out = await guard.run({ ...opts, signal: run.signal });
        this.alive();
        if (opts.requestId !== undefined && this.fires(opts.requestId, 'after-run')) this.die('after-run');
        return out;
      } finally {
        this.running.delete(run);
        outer?.removeEventListener('abort', forward);
      }
    });
  }
}
