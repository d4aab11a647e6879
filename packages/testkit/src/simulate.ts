import {
  addDays,
  DEFAULT_POLICY,
  isActive,
  isoDate,
  toEpochDay,
  validatePolicy,
  formatPolicyProblem,
  type GapPolicy,
  type IsoDate,
} from '@smart-backfill/core';
import {
  createRelay,
  createSweeper,
  createWorker,
  withSmartBackfill,
  type GuardedProcessor,
  type GuardOutcome,
  type Processor,
} from '@smart-backfill/engine';
import { createMemoryStore, type MemoryStore } from '@smart-backfill/memory';
import { withFaults, withQueueFaults } from './faults.js';
import { ManualClock } from './manual-clock.js';
import { seededRandom } from './seeded-random.js';
import { observeRuns } from './guard-wrappers.js';
import { fileAndPublish, manualBackfillRequests } from './simulated-person.js';
import { createSimulatedWorkerPool } from './simulated-workers.js';
import { percentile, type SimulationReport } from './simulation-report.js';

export interface SimulationOptions {
  readonly seed: number;
  /** Default 20. */
  readonly processors?: number | undefined;
  /** Simulated days with faults (default 365); `drainDays` more follow without new data faults. */
  readonly days?: number | undefined;
  readonly policy?: Partial<GapPolicy> | undefined;
  /** Chance per processor per day that its day goes wrong: a failed run, a partial write, or the start of an outage. Default 0.05. */
  readonly dailyFailureRate?: number | undefined;
  /** Of those, the share that are multi-day outages (no runs at all; default 0.2) and partial writes (default 0.25); the rest fail outright. */
  readonly outageShare?: number | undefined;
  readonly partialShare?: number | undefined;
  /** Outage length in days, both inclusive. Default [2, 8]. */
  readonly outageDays?: readonly [number, number] | undefined;
  /** Chance that one backfill run throws (a flaky source; retried with backoff). Default 0.02. */
  readonly backfillFailureRate?: number | undefined;
  /** Chance that a published message is reported failed (ambiguous ones included). Default 0.2. */
  readonly publishFailureRate?: number | undefined;
  /** Chance (≤ publishFailureRate) that a message was published but reported failed. Default 0.1. */
  readonly ambiguousPublishRate?: number | undefined;
  /** Chance that the guard's `tracker.create` throws (half of them after the insert happened). Default 0.02. */
  readonly insertFailureRate?: number | undefined;
  /** Chance per delivery that the worker process dies at a random point while handling it. Default 0.05. */
  readonly workerCrashRate?: number | undefined;
  /** Lost acks bring a message back until it has been delivered this often. Default 3. */
  readonly maxDeliveries?: number | undefined;
  /** Chance that an ack is lost (so the message is delivered again). Default 0.3. */
  readonly redeliveryRate?: number | undefined;
  /** Worker processes running side by side. Default 2. */
  readonly workers?: number | undefined;
  /** Simulated minutes between relay / sweeper / worker passes. Default 5. */
  readonly tickMinutes?: number | undefined;
  /** How long a person takes to act on an escalation. Default 240 minutes. */
  readonly personResponseMinutes?: number | undefined;
  /** Days after `days` with daily runs but no new data faults, so the last gaps can close. Default 7. */
  readonly drainDays?: number | undefined;
  /** Share of days that expect data (game days). Default 0.85. */
  readonly scheduleDensity?: number | undefined;
  /** Default '2025-01-01'. */
  readonly startDate?: string | undefined;
  /** Request and delivery lease, minutes. Default 10. */
  readonly leaseMinutes?: number | undefined;
  /** How long one backfill runs, in minutes, both inclusive. Default [1, 20]: some outlive the lease and need heartbeats. */
  readonly backfillMinutes?: readonly [number, number] | undefined;
  /** Called once at the end with the store and clock, to dig into a seed's history (runs, requests, held runs, notices). */
  readonly inspect?: ((world: { readonly store: MemoryStore; readonly clock: ManualClock }) => void | Promise<void>) | undefined;
}

const MIN = 60_000;
const DAY = 86_400_000;

const rate = (name: string, v: number | undefined, dflt: number): number => {
  const r = v ?? dflt;
  if (typeof r !== 'number' || !Number.isFinite(r) || r < 0 || r > 1)
    throw new RangeError(`[smart-backfill] [testkit] simulate: ${name} must be a probability in [0, 1], got ${String(v)}`);
  return r;
};
const whole = (name: string, v: number | undefined, dflt: number, min: number): number => {
  const n = v ?? dflt;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min)
    throw new RangeError(`[smart-backfill] [testkit] simulate: ${name} must be a whole number >= ${min}, got ${String(v)}`);
  return n;
};

interface Episode {
  readonly processor: string;
  readonly startedAt: number;
  endedAt: number | null;
  detectedAt: number | null;
  maxSeenGap: number;
  readonly dates: Set<IsoDate>;
  readonly injected: Set<IsoDate>;
  escalatedNotices: number;
  readonly reasons: Set<string>;
  person: boolean;
}

/**
 * Run `processors` × `days` of daily pipelines on the memory store through the
 * engine's guard, worker, relay and sweeper, with a manual clock and faults
 * drawn from one seed: failed runs, partial writes and outages that open gaps;
 * publish failures (clean and ambiguous), tracker insert failures, lost acks
 * and worker crashes on the way to healing them; a person who answers
 * escalations. Same seed, same report: nothing reads real time or `Math.random`.
 */
export const simulate = async (options: SimulationOptions): Promise<SimulationReport> => {
  if (typeof options !== 'object' || options === null || !Number.isInteger(options.seed)) {
    throw new RangeError(
      `[smart-backfill] [testkit] simulate: seed must be a whole number, got ${String((options as { seed?: unknown } | null)?.seed)}`,
    );
  }
  const seed = options.seed;
  const nProcessors = whole('processors', options.processors, 20, 1);
  const days = whole('days', options.days, 365, 1);
  const drainDays = whole('drainDays', options.drainDays, 7, 0);
  const dailyFailureRate = rate('dailyFailureRate', options.dailyFailureRate, 0.05);
  const outageShare = rate('outageShare', options.outageShare, 0.2);
  const partialShare = rate('partialShare', options.partialShare, 0.25);
  if (outageShare + partialShare > 1) throw new RangeError('[smart-backfill] [testkit] simulate: outageShare + partialShare must be <= 1');
  const [outMin, outMax] = options.outageDays ?? [2, 8];
  if (!Number.isInteger(outMin) || !Number.isInteger(outMax) || outMin < 1 || outMax < outMin) {
    throw new RangeError(
      `[smart-backfill] [testkit] simulate: outageDays must be [min, max] whole days with 1 <= min <= max, got ${JSON.stringify(options.outageDays)}`,
    );
  }
  const backfillFailureRate = rate('backfillFailureRate', options.backfillFailureRate, 0.02);
  const publishFailureRate = rate('publishFailureRate', options.publishFailureRate, 0.2);
  const ambiguousPublishRate = rate('ambiguousPublishRate', options.ambiguousPublishRate, publishFailureRate / 2);
  const insertFailureRate = rate('insertFailureRate', options.insertFailureRate, 0.02);
  const workerCrashRate = rate('workerCrashRate', options.workerCrashRate, 0.05);
  const redeliveryRate = rate('redeliveryRate', options.redeliveryRate, 0.3);
  const maxDeliveries = whole('maxDeliveries', options.maxDeliveries, 3, 1);
  const nWorkers = whole('workers', options.workers, 2, 1);
  const tickMs = whole('tickMinutes', options.tickMinutes, 5, 1) * MIN;
  const personMs = whole('personResponseMinutes', options.personResponseMinutes, 240, 0) * MIN;
  const leaseMs = whole('leaseMinutes', options.leaseMinutes, 10, 1) * MIN;
  const density = rate('scheduleDensity', options.scheduleDensity, 0.85);
  const [bfMin, bfMax] = options.backfillMinutes ?? [1, 20];
  if (!Number.isInteger(bfMin) || !Number.isInteger(bfMax) || bfMin < 0 || bfMax < bfMin) {
    throw new RangeError(
      `[smart-backfill] [testkit] simulate: backfillMinutes must be [min, max] whole minutes with 0 <= min <= max, got ${JSON.stringify(options.backfillMinutes)}`,
    );
  }
  const policyResult = validatePolicy(options.policy ?? {}, DEFAULT_POLICY);
  if (policyResult._tag === 'Err')
    throw new RangeError(`[smart-backfill] [testkit] simulate: ${policyResult.error.map(formatPolicyProblem).join('; ')}`);
  const policy = policyResult.value;
  const start = isoDate(options.startDate ?? '2025-01-01');
  const fullRows = policy.minRecordsPerDate * 2;

  const rng = seededRandom(seed);
  const rSchedule = rng.fork('schedule');
  const rIncident = rng.fork('incidents');
  const rBackfill = rng.fork('backfills');
  const rCrash = rng.fork('crashes');

  const clock = new ManualClock(toEpochDay(start) * DAY);
  const store = createMemoryStore({ clock });
  const names = Array.from({ length: nProcessors }, (_, i) => `proc_${String(i).padStart(2, '0')}`);

  const injected = {
    failedRuns: 0,
    partialWrites: 0,
    outages: 0,
    outageDays: 0,
    failedBackfillRuns: 0,
    publishFailures: 0,
    ambiguousPublishes: 0,
    trackerInsertFailures: 0,
    lostAcks: 0,
    workerCrashes: 0,
    crashesByPoint: {} as Record<string, number>,
  };

  // ---- schedule and history: the lookback before day 0 is whole ----
  const expected = new Map<string, Set<IsoDate>>();
  const historyStart = addDays(start, -(policy.lookbackDays + 1));
  const totalDays = days + drainDays;
  for (const name of names) {
    const set = new Set<IsoDate>();
    for (let d = historyStart; d < addDays(start, totalDays + 1); d = addDays(d, 1)) if (rSchedule.chance(density)) set.add(d);
    expected.set(name, set);
    store.setSchedule(name, set);
    for (const d of set) if (d < start) store.setCount(name, d, fullRows);
  }

  // ---- ground truth: which dates really lack data, and the gap episodes ----
  const missing = new Map<string, Set<IsoDate>>(names.map((n) => [n, new Set()]));
  const openEpisode = new Map<string, Episode>();
  const episodes: Episode[] = [];
  let passed: IsoDate = addDays(start, -1);

  const markMissing = (name: string, d: IsoDate, isInjected: boolean): void => {
    const set = missing.get(name) as Set<IsoDate>;
    if (set.has(d)) return;
    let ep = openEpisode.get(name);
    if (ep === undefined) {
      ep = {
        processor: name,
        startedAt: clock.now(),
        endedAt: null,
        detectedAt: null,
        maxSeenGap: 0,
        dates: new Set(),
        injected: new Set(),
        escalatedNotices: 0,
        reasons: new Set(),
        person: false,
      };
      openEpisode.set(name, ep);
      episodes.push(ep);
    }
    set.add(d);
    ep.dates.add(d);
    if (isInjected) ep.injected.add(d);
  };

  const write = (name: string, d: IsoDate, rows: number): void => {
    if (!(expected.get(name) as Set<IsoDate>).has(d)) return;
    store.setCount(name, d, rows);
    if (d > passed) return;
    const set = missing.get(name) as Set<IsoDate>;
    if (rows >= policy.minRecordsPerDate) {
      if (set.delete(d) && set.size === 0) {
        const ep = openEpisode.get(name);
        if (ep !== undefined) ep.endedAt = clock.now();
        openEpisode.delete(name);
      }
    } else markMissing(name, d, false);
  };

  // ---- the processors: failures are armed per (processor, date) for the daily run ----
  const armed = new Map<string, 'fail' | 'partial'>();
  const manifested = new Set<string>();
  const key = (name: string, d: IsoDate): string => `${name}|${d}`;
  const inner = (name: string): Processor => ({
    name,
    async run(opts) {
      const d = opts.date;
      if (opts.isBackfill === true) {
        const ms = rBackfill.int(bfMin, bfMax) * MIN;
        // Aborted when the worker loses its lease or its process dies: then nothing is written.
        if (ms > 0) await clock.sleep(ms, opts.signal);
        if (rBackfill.chance(backfillFailureRate)) {
          injected.failedBackfillRuns++;
          throw new Error(`simulated: the source for ${name} ${d} flaked during the backfill`);
        }
        write(name, d, fullRows);
        return { rows: fullRows };
      }
      if (opts.trigger === 'scheduled') {
        const fate = armed.get(key(name, d));
        armed.delete(key(name, d));
        if (fate === 'fail') {
          injected.failedRuns++;
          manifested.add(key(name, d));
          throw new Error(`simulated: the daily run of ${name} for ${d} failed`);
        }
        if (fate === 'partial') {
          injected.partialWrites++;
          manifested.add(key(name, d));
          const rows = Math.max(1, Math.floor(policy.minRecordsPerDate * 0.4));
          write(name, d, rows);
          return { rows };
        }
      }
      write(name, d, fullRows);
      return { rows: fullRows };
    },
  });

  // ---- faults on the way to the stores ----
  const faultyQueue = withQueueFaults(store.queue, {
    random: rng.fork('queue'),
    publishFailureRate,
    ambiguousPublishRate,
    lostAckRate: redeliveryRate,
    maxDeliveries,
    onFault: (f) => {
      if (f.kind === 'publish_failed') injected.publishFailures++;
      else if (f.kind === 'publish_ambiguous') {
        injected.publishFailures++;
        injected.ambiguousPublishes++;
      } else injected.lostAcks++;
    },
  });
  const guardTracker = withFaults(store.tracker, {
    random: rng.fork('tracker'),
    methods: ['create'],
    failRate: insertFailureRate / 2,
    ambiguousRate: insertFailureRate / 2,
    onFault: () => void injected.trackerInsertFailures++,
  });

  // ---- guards, observed ----
  let idSeq = 0;
  const ids = (): string => `id-${seed}-${++idSeq}`;
  let runsHeld = 0;
  const observe = (name: string, o: GuardOutcome): void => {
    if (o._tag === 'Held' || (o._tag === 'Escalated' && !('result' in o && o.result !== undefined))) runsHeld++;
    const analysis = 'analysis' in o ? o.analysis : undefined;
    const ep = openEpisode.get(name);
    if (analysis !== undefined && ep !== undefined && analysis.gapSize > 0) {
      ep.maxSeenGap = Math.max(ep.maxSeenGap, analysis.gapSize);
      ep.detectedAt ??= clock.now();
    }
  };
  const guards = new Map<string, GuardedProcessor>();
  for (const name of names) {
    const g = withSmartBackfill(inner(name), {
      window: store.window,
      tracker: guardTracker,
      queue: faultyQueue,
      runLog: store.runLog,
      clock,
      policy,
      alerter: store.alerter,
      alertLog: store.alertLog,
      ids,
    });
    guards.set(
      name,
      observeRuns(g, (o) => observe(name, o)),
    );
  }

  // ---- worker processes that crash ----
  const workers = createSimulatedWorkerPool({
    size: nWorkers,
    clock,
    random: rCrash,
    crashRate: workerCrashRate,
    tally: injected,
    createWorker: (proc, workerId) =>
      createWorker({
        queue: proc.queue(faultyQueue),
        tracker: proc.tracker(store.tracker),
        runLog: proc.runLog(store.runLog),
        registry: new Map(names.map((n) => [n, proc.processor(guards.get(n) as GuardedProcessor)])),
        clock,
        policy,
        leaseMs,
        backoff: { baseMs: 30_000, maxMs: 30 * MIN },
        workerId,
      }),
  });
  const relay = createRelay({ tracker: store.tracker, queue: faultyQueue, clock });
  const sweeper = createSweeper({ tracker: store.tracker, queue: faultyQueue, clock });

  // ---- the invariant, checked after every step ----
  let steps = 0;
  let duplicateActiveMoments = 0;
  const violations: string[] = [];
  const checkInvariant = (where: string): void => {
    steps++;
    const seen = new Set<string>();
    for (const r of store.requests()) {
      if (!isActive(r.status)) continue;
      const k = key(r.processorName, r.date);
      if (seen.has(k)) {
        duplicateActiveMoments++;
        if (duplicateActiveMoments <= 5)
          violations.push(`two active requests for ${r.processorName} ${r.date} (${where}, t=${new Date(clock.now()).toISOString()})`);
        return;
      }
      seen.add(k);
    }
  };

  // ---- a person answering escalations ----
  const personQueue: { readonly at: number; readonly processor: string; readonly followUps: number }[] = [];
  let noticesSeen = 0;
  let escalatedNotices = 0;
  let healedNotices = 0;
  let reminderNotices = 0;
  let manualInterventions = 0;
  const escalatedDates = new Map<string, Set<IsoDate>>(names.map((n) => [n, new Set()]));
  const alertedDates = new Map<string, Set<IsoDate>>(names.map((n) => [n, new Set()]));
  let repeatAlerts = 0;
  const readNotices = (): void => {
    const all = store.alerter.notices;
    for (; noticesSeen < all.length; noticesSeen++) {
      const n = all[noticesSeen];
      if (n === undefined) continue;
      if (n.kind === 'healed') {
        healedNotices++;
        continue;
      }
      for (const d of n.missingDates) escalatedDates.get(n.processorName)?.add(d);
      if (n.kind === 'reminder') {
        reminderNotices++;
        continue;
      }
      escalatedNotices++;
      const before = alertedDates.get(n.processorName) as Set<IsoDate>;
      const again = n.missingDates.filter((d) => before.has(d));
      if (again.length > 0) {
        repeatAlerts++;
        if (repeatAlerts <= 5)
          violations.push(`repeat alert for ${n.processorName}: ${again.join(', ')} were already in an earlier escalation (${n.reason})`);
      }
      for (const d of n.missingDates) before.add(d);
      const ep = openEpisode.get(n.processorName);
      if (ep === undefined) violations.push(`escalation for ${n.processorName} (${n.missingDates.join(', ')}) with nothing missing`);
      else {
        ep.escalatedNotices++;
        ep.reasons.add(n.reason);
      }
      personQueue.push({ at: clock.now() + personMs, processor: n.processorName, followUps: 0 });
    }
  };
  let manualSeq = 0;
  const personActs = async (): Promise<void> => {
    const now = clock.now();
    const due = personQueue.filter((p) => p.at <= now);
    if (due.length === 0) return;
    for (const p of due) personQueue.splice(personQueue.indexOf(p), 1);
    for (const p of due) {
      const open = await store.alertLog.list({ processorName: p.processor, openOnly: true });
      if (open.length === 0) continue;
      const gone = missing.get(p.processor) as Set<IsoDate>;
      const dates = [...new Set(open.flatMap((a) => a.missingDates))].filter((d) => gone.has(d)).sort();
      if (dates.length > 0) {
        const fresh = await manualBackfillRequests(store, {
          processorName: p.processor,
          dates,
          requestedAt: now,
          requestId: () => `manual-${seed}-${++manualSeq}`,
          metadata: { simulated: true },
        });
        if (fresh.length > 0) {
          manualInterventions++;
          const ep = openEpisode.get(p.processor);
          if (ep !== undefined) ep.person = true;
          await fileAndPublish(store, faultyQueue, clock, fresh);
        }
      }
      // A person watching the alert comes back the next day if it is still open.
      if (p.followUps < 10) personQueue.push({ at: now + DAY, processor: p.processor, followUps: p.followUps + 1 });
    }
  };

  const busy = (until: number): boolean => {
    if (personQueue.some((p) => p.at < until)) return true;
    if (workers.running()) return true;
    if (store.requests().some((r) => isActive(r.status))) return true;
    const q = store.queueState();
    return q.ready + q.delayed + q.leased > 0;
  };

  const tick = async (): Promise<void> => {
    await relay.runOnce().catch(() => undefined);
    checkInvariant('relay');
    await sweeper.runOnce().catch(() => undefined);
    checkInvariant('sweeper');
    await workers.runIdle();
    checkInvariant('workers');
    readNotices();
    await personActs();
    checkInvariant('person');
  };

  // ---- the days ----
  const outageUntil = new Map<string, number>();
  for (let k = 0; k < totalDays; k++) {
    const date = addDays(start, k);
    const runAt = toEpochDay(date) * DAY + 6 * 60 * MIN;
    if (clock.now() < runAt) clock.set(runAt);
    const faults = k < days;
    const toRun: string[] = [];
    const inOutage = new Set<string>();
    for (const name of names) {
      if ((outageUntil.get(name) ?? -1) > k) {
        inOutage.add(name);
        continue;
      }
      if (faults && rIncident.chance(dailyFailureRate)) {
        const r = rIncident.next();
        if (r < outageShare) {
          // Outages end with the fault period, so the drain days can find and heal them.
          const len = Math.min(rIncident.int(outMin, outMax), days - k);
          outageUntil.set(name, k + len);
          injected.outages++;
          injected.outageDays += len;
          inOutage.add(name);
          continue;
        }
        armed.set(key(name, date), r < outageShare + partialShare ? 'partial' : 'fail');
      }
      toRun.push(name);
    }
    await Promise.all(
      toRun.map(async (name) => {
        await (guards.get(name) as GuardedProcessor).run({ date, trigger: 'scheduled' });
        checkInvariant(`daily run ${name} ${date}`);
      }),
    );
    armed.clear();
    passed = date;
    for (const name of names) {
      if (!(expected.get(name) as Set<IsoDate>).has(date)) continue;
      if (store.target.count(name, date) < policy.minRecordsPerDate)
        markMissing(name, date, inOutage.has(name) || manifested.has(key(name, date)));
    }
    manifested.clear();
    readNotices();

    const nextRunAt = runAt + DAY;
    while (clock.now() + tickMs < nextRunAt && busy(nextRunAt)) {
      await workers.advance(tickMs, () => checkInvariant('clock'));
      await tick();
    }
  }

  await options.inspect?.({ store, clock });

  // ---- the reckoning ----
  const all = store.requests();
  const lost = all.filter((r) => isActive(r.status));
  for (const r of lost.slice(0, 10))
    violations.push(`lost request ${r.requestId} (${r.processorName} ${r.date}) still ${r.status} at the end`);
  const requested = new Set(all.map((r) => key(r.processorName, r.date)));
  let lostDates = 0;
  let missingDatesAtEnd = 0;
  // The last date's own gap could only be seen by a run the day after the simulation ends.
  const lastDate = addDays(start, totalDays - 1);
  for (const name of names) {
    for (const d of missing.get(name) as Set<IsoDate>) {
      missingDatesAtEnd++;
      if (d < lastDate && !requested.has(key(name, d)) && !(escalatedDates.get(name) as Set<IsoDate>).has(d)) {
        lostDates++;
        if (lostDates <= 10) violations.push(`lost date ${name} ${d}: missing at the end, never requested nor escalated`);
      }
    }
  }
  const threshold = policy.autoBackfillThreshold;
  const small = episodes.filter((e) => e.maxSeenGap <= threshold);
  const large = episodes.filter((e) => e.maxSeenGap > threshold);
  const describeEp = (e: Episode): string =>
    `${e.processor} gap ${[...e.dates].sort().join(',')} (largest seen ${e.maxSeenGap}, injected ${e.injected.size}, notices ${e.escalatedNotices} ${[...e.reasons].join('/')}, person ${e.person}, ${e.endedAt === null ? 'unhealed' : 'healed'})`;
  // Escalating a date whose backfill failed maxAttempts times is the policy working, not a lapse.
  const keepsFailing = (e: Episode): boolean => e.reasons.size > 0 && [...e.reasons].every((r) => r === 'backfill_keeps_failing');
  const smallKeepsFailing = small.filter((e) => keepsFailing(e) && e.endedAt !== null);
  const smallNeedingPerson = small.filter(
    (e) => !smallKeepsFailing.includes(e) && (e.person || e.escalatedNotices > 0 || e.endedAt === null),
  );
  const largeNotAlerted = large.filter((e) => e.escalatedNotices === 0);
  for (const e of smallNeedingPerson.slice(0, 10)) violations.push(`small gap not healed by itself: ${describeEp(e)}`);
  for (const e of largeNotAlerted.slice(0, 10)) violations.push(`large gap never alerted: ${describeEp(e)}`);
  if (repeatAlerts > 5) violations.push(`… ${repeatAlerts - 5} more repeat alerts`);
  if (duplicateActiveMoments > 5) violations.push(`… ${duplicateActiveMoments - 5} more moments with two active requests`);

  const healed = episodes.filter((e) => e.endedAt !== null);
  const recoveryOf = (e: Episode): number => ((e.endedAt as number) - (e.detectedAt ?? e.startedAt)) / MIN;
  const fromDetection = healed.map(recoveryOf);
  const slowest = healed.reduce<Episode | undefined>((a, e) => (a === undefined || recoveryOf(e) > recoveryOf(a) ? e : a), undefined);
  const escalatedEps = episodes.filter((e) => e.escalatedNotices > 0 || e.maxSeenGap > threshold);
  const perGap = escalatedEps.map((e) => e.escalatedNotices);

  let staleHeldRuns = 0;
  const completedDates = new Set(all.filter((r) => r.status === 'completed').map((r) => key(r.processorName, r.date)));
  const staleExamples: string[] = [];
  for (const h of await store.runLog.heldRuns({ status: 'held' })) {
    if (store.target.count(h.processorName, h.runDate) < policy.minRecordsPerDate) continue;
    staleHeldRuns++;
    if (staleExamples.length < 3) {
      const without = h.waitingFor.filter((d) => !completedDates.has(key(h.processorName, d)));
      staleExamples.push(
        `${h.processorName} ${h.runDate} waits for ${h.waitingFor.join(',')}${without.length > 0 ? `; no completed request for ${without.join(',')}` : '; all have completed requests'}`,
      );
    }
  }
  const messages = store.queueState().messages;

  return {
    seed,
    processors: nProcessors,
    days,
    policy,
    injected,
    gaps: {
      created: episodes.length,
      recoveredAutomatically: healed.filter((e) => !e.person && e.escalatedNotices === 0).length,
      escalated: escalatedEps.length,
      unhealedAtEnd: episodes.length - healed.length,
      small: small.length,
      large: large.length,
      smallNeedingPerson: smallNeedingPerson.length,
      smallEscalatedForFailingBackfills: smallKeepsFailing.length,
      largeNotAlerted: largeNotAlerted.length,
      grewPastThreshold: large.filter((e) => e.injected.size <= threshold).length,
    },
    lostRequests: lost.length,
    lostDates,
    missingDatesAtEnd,
    duplicateActiveMoments,
    runsHeld,
    staleHeldRuns,
    staleHeldExamples: staleExamples,
    recoveryMinutes: { median: percentile(fromDetection, 0.5), p90: percentile(fromDetection, 0.9), max: percentile(fromDetection, 1) },
    slowestRecovery: slowest === undefined ? null : `${recoveryOf(slowest)} min: ${describeEp(slowest)}`,
    manualInterventions,
    alerts: {
      escalatedNotices,
      repeatAlerts,
      healedNotices,
      reminderNotices,
      perEscalatedGap: {
        min: perGap.length === 0 ? null : Math.min(...perGap),
        max: perGap.length === 0 ? null : Math.max(...perGap),
        mean: perGap.length === 0 ? null : perGap.reduce((a, b) => a + b, 0) / perGap.length,
      },
    },
    requests: {
      created: all.length,
      completed: all.filter((r) => r.status === 'completed').length,
      failed: all.filter((r) => r.status === 'failed').length,
      manual: all.filter((r) => r.requestType === 'manual').length,
      maxAttempt: all.reduce((m, r) => Math.max(m, r.attempt), 0),
      maxDeliveriesOfOneMessage: messages.reduce((m, x) => Math.max(m, x.deliveryAttempt), 0),
    },
    simulatedDays: totalDays,
    steps,
    violations,
  };
};
