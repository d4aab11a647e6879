import type { Delivery } from '@smart-backfill/core';
import type { Processor } from '@smart-backfill/engine';

/** Thrown by the write step a process dies right after, and by every call it makes from then on. */
export class ProcessKilled extends Error {
  override readonly name = 'ProcessKilled';
  constructor(readonly afterStep: string | null) {
    super(
      afterStep === null
        ? '[smart-backfill] [testkit] this process was killed earlier; nothing it does takes effect'
        : `[smart-backfill] [testkit] process killed right after step "${afterStep}"`,
    );
  }
}

/**
 * Methods that only read. Every other method of a wrapped port is a write step
 * (a `receive` leases messages, so it is one too): the places a process can die
 * with something already changed.
 */
const READS: Readonly<Record<string, ReadonlySet<string>>> = {
  tracker: new Set(['get', 'forWindow', 'unpublished', 'expiredLeases', 'list']),
  queue: new Set(['close']),
  runLog: new Set(['runs', 'heldRuns']),
  alertLog: new Set(['list', 'get']),
  alerter: new Set(),
  window: new Set(['readWindow', 'expectedDates', 'recordCounts', 'describeWindow']),
};

/**
 * One simulated process that is killed right after its `killAfter`-th write
 * step (1-based; `null`: never). The write that step made stays; everything the
 * process does after it throws {@link ProcessKilled} and changes nothing — as a
 * SIGKILL between two statements would leave it. Wrap every port the process
 * uses with {@link CrashSwitch.port} and its processors with
 * {@link CrashSwitch.processor}; `steps` then names each write in order, so a
 * first run without a kill counts the crash points of a scenario and later runs
 * kill the process at each one in turn.
 */
export class CrashSwitch {
  readonly steps: string[] = [];
  dead = false;
  killedAfter: string | null = null;

  constructor(readonly killAfter: number | null = null) {}

  alive(): void {
    if (this.dead) throw new ProcessKilled(null);
  }

  /** A write step completed: count it, and die now if it is the chosen one. */
  stepped(name: string): void {
    this.alive();
    this.steps.push(name);
    if (this.killAfter !== null && this.steps.length === this.killAfter) {
      this.dead = true;
      this.killedAfter = name;
      throw new ProcessKilled(name);
    }
  }

  /** Wrap a port (`tracker`, `queue`, `runLog`, `alertLog`, `alerter`, `window`) so its writes are steps. */
  port<T extends object>(role: keyof typeof READS, inner: T): T {
    const reads = READS[role] ?? new Set<string>();
    return new Proxy(inner, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        const fn = value as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          this.alive();
          const result = fn.apply(target, args);
          if (reads.has(prop)) return result;
          return Promise.resolve(result).then((r) => {
            const out = role === 'queue' && prop === 'receive' ? (r as readonly Delivery[]).map((d) => this.delivery(d)) : r;
            this.stepped(`${role}.${prop}${describeArgs(role, prop, args)}`);
            return out;
          });
        };
      },
    });
  }

  /** A processor whose run is a step (its writes happened when it returns). */
  processor(inner: Processor): Processor {
    return {
      name: inner.name,
      run: async (o) => {
        this.alive();
        const r = await inner.run(o);
        this.stepped(`processor.run(${o.date}${o.isBackfill === true ? ', backfill' : ''})`);
        return r;
      },
    };
  }

  private delivery(d: Delivery): Delivery {
    const step = async (name: string, effect: () => Promise<void>): Promise<void> => {
      this.alive();
      await effect();
      this.stepped(`delivery.${name}`);
    };
    const deadLetter = d.deadLetter;
    return {
      deliveryId: d.deliveryId,
      message: d.message,
      deliveryAttempt: d.deliveryAttempt,
      ack: () => step('ack', () => d.ack()),
      nack: (ms?: number) => step('nack', () => (ms === undefined ? d.nack() : d.nack(ms))),
      extendLease: (ms: number) => step('extendLease', () => d.extendLease(ms)),
      deadLetter: deadLetter === undefined ? undefined : (reason: string) => step('deadLetter', () => deadLetter(reason)),
    };
  }
}

/** Enough of a call to tell the steps of a scenario apart in a failure message. */
const describeArgs = (role: string, prop: string, args: readonly unknown[]): string => {
  const [first, second] = args;
  if (role === 'tracker' && prop === 'apply' && typeof second === 'object' && second !== null && '_tag' in second)
    return `(${String((second as { _tag: unknown })._tag)})`;
  if (role === 'runLog' && typeof first === 'object' && first !== null && 'runDate' in first) {
    const r = first as { runDate: unknown; trigger?: unknown; outcome?: unknown };
    return `(${String(r.runDate)}${r.trigger === undefined ? '' : `, ${String(r.trigger)}`}${r.outcome === undefined ? '' : `, ${String(r.outcome)}`})`;
  }
  if (role === 'runLog' && typeof second === 'string') return `(${second})`;
  return '';
};
