import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDays, dateRange, healedGaps, isoDate, medianOf, type AlertNotice, type Alerter, type IsoDate } from '@smart-backfill/core';
import type { GuardOutcome, Processor, RunOptions, Worker } from '@smart-backfill/engine';
import { boxScore, generateSeason, type Season } from '../../nba/season.mjs';
import { createNbaTables, insertBoxScores, loadSchedule, markFinal } from '../../nba/schema.mjs';
import { buildPlayerGameSummary, type SummaryResult } from '../../nba/processor.mjs';
import { resolveConfig } from '../config/load-config.js';
import type { SmartBackfillConfig } from '../config/config-types.js';
import { planManualBackfill, queueManualBackfill } from '../commands/backfill.js';
import { gatherStatus, type ProcessorStatus } from '../commands/status.js';
import { openRuntime, type Runtime } from '../runtime/runtime.js';
import { SimulatedClock } from './sim-clock.js';

export const DEMO_PROCESSOR = 'player_game_summary';
/** Two games (the lightest slate) give 40+ player rows; under 30 a day is surely incomplete. */
export const DEMO_MIN_ROWS = 30;
const HOUR = 3_600_000;
const MIN = 60_000;

/** The story's script: which day fails, which arrives partially, when the scheduler is down. */
export interface DemoScript {
  readonly seed: number;
  readonly start: IsoDate;
  /** Last run date played. */
  readonly end: IsoDate;
  /** The processor throws on its scheduled run for these dates (a flaky feed); backfills succeed. */
  readonly failingDays: readonly IsoDate[];
  /** Only the first game's box score has arrived when these dates run; the rest lands hours later. */
  readonly partialDays: readonly IsoDate[];
  /** The nightly scheduler is down: no run happens for these dates. */
  readonly outage: readonly IsoDate[];
  /** When a person runs the heal command (hours after the last escalated run, on that morning). */
  readonly operatorRunDate: IsoDate;
}

export const DEFAULT_SCRIPT: DemoScript = {
  seed: 20251116,
  start: isoDate('2025-10-21'),
  end: isoDate('2025-12-14'),
  failingDays: [isoDate('2025-11-15')],
  partialDays: [isoDate('2025-11-24')],
  outage: dateRange(isoDate('2025-12-01'), isoDate('2025-12-05')),
  operatorRunDate: isoDate('2025-12-10'),
};

/** One line of the story. */
export type DemoEvent =
  | {
      readonly _tag: 'Quiet';
      readonly from: IsoDate;
      readonly to: IsoDate;
      readonly runs: number;
      readonly rows: number;
      readonly games: number;
    }
  | {
      readonly _tag: 'Run';
      readonly at: number;
      readonly date: IsoDate;
      readonly outcome: GuardOutcome;
      readonly partial?: { games: number; finalGames: number; rows: number };
    }
  | { readonly _tag: 'SchedulerDown'; readonly dates: readonly IsoDate[] }
  | {
      readonly _tag: 'Worker';
      readonly at: number;
      readonly filled: readonly { date: IsoDate; rows: number; type: string }[];
      readonly resumed: readonly IsoDate[];
      /** Held runs whose own date a backfill produced: nothing left to re-run. */
      readonly superseded: readonly IsoDate[];
      readonly failed: readonly string[];
    }
  | { readonly _tag: 'Alert'; readonly at: number; readonly notice: AlertNotice }
  | {
      readonly _tag: 'Manual';
      readonly at: number;
      readonly command: string;
      readonly queued: readonly IsoDate[];
      readonly inFlight: readonly IsoDate[];
    }
  | { readonly _tag: 'Repeat'; readonly dates: readonly IsoDate[]; readonly alertsSent: number }
  | { readonly _tag: 'Status'; readonly at: number; readonly status: ProcessorStatus };

export interface DemoFigures {
  readonly days: number;
  readonly runs: number;
  readonly games: number;
  readonly summaryRows: number;
  /** Distinct dates the guard found missing or incomplete. */
  readonly gapsFound: number;
  readonly incompleteCaught: readonly IsoDate[];
  /** Dates filled by automatic backfills (no person involved). */
  readonly healedAutomatically: readonly IsoDate[];
  readonly heldRuns: readonly IsoDate[];
  readonly resumedRuns: readonly IsoDate[];
  /** Held runs made unnecessary because a backfill produced their own date. */
  readonly supersededRuns: readonly IsoDate[];
  readonly escalatedRuns: number;
  readonly alertsSent: number;
  readonly healedNotices: number;
  readonly manualBackfills: number;
  /** Per gap healed without a person: time to recovery (core `healedGaps`, the rule the report uses too). */
  readonly autoRecoveryMs: readonly number[];
  /** The escalated gap's time to recovery: first detection to whole again, waiting for a person included. */
  readonly escalationRecoveryMs: number | null;
  /** Median time to recovery over every healed gap (the report's figure). */
  readonly medianRecoveryMs: number | null;
  readonly healedGaps: number;
}

export interface DemoResult {
  readonly events: readonly DemoEvent[];
  readonly figures: DemoFigures;
  readonly status: ProcessorStatus;
  readonly dbPath: string;
}

const config = (dbPath: string): SmartBackfillConfig => ({
  store: { type: 'sqlite', path: dbPath },
  processors: [
    {
      name: DEMO_PROCESSOR,
      schedule: { table: 'game_schedule', dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final', 'Completed'] },
      target: { table: 'player_game_summary', dateColumn: 'game_date' },
      policy: { lookbackDays: 30, criticalLookbackDays: 10, minRecordsPerDate: DEMO_MIN_ROWS, autoBackfillThreshold: 3, maxAttempts: 3 },
    },
  ],
});

const at = (date: IsoDate, hour: number, minute = 0): number =>
  Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)), hour, minute);

/**
 * Play the season forward. Each game day's box scores are scraped at 01:00 the next
 * morning, the nightly run for that date happens at 06:00, and the worker polls every
 * five minutes after it. Returns the story, the figures and the final status.
 */
export const runNbaDemo = async (
  script: DemoScript = DEFAULT_SCRIPT,
  // `onFinish` sees the store at the end of the season, before it closes (the demo writes its HTML report there).
  opts: { keep?: boolean; dir?: string; onFinish?: (rt: Runtime) => Promise<void> } = {},
): Promise<DemoResult> => {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'smart-backfill-demo-'));
  const dbPath = join(dir, 'demo.db');
  const season: Season = generateSeason({ seed: script.seed, start: script.start });
  const clock = new SimulatedClock(at(script.start, 12));
  const events: DemoEvent[] = [];
  const notices: AlertNotice[] = [];
  // Notices arrive in the middle of a run; they are printed right after the run's own line.
  const pendingAlerts: DemoEvent[] = [];
  const push = (e: DemoEvent): void => {
    events.push(e, ...pendingAlerts.splice(0));
  };
  const alerter: Alerter = {
    send: async (n) => {
      notices.push(n);
      pendingAlerts.push({ _tag: 'Alert', at: clock.now(), notice: n });
    },
  };

  let rt: Runtime | undefined;
  const built = new Map<IsoDate, SummaryResult>();
  const processor: Processor = {
    name: DEMO_PROCESSOR,
    run: async (o: RunOptions) => {
      if (rt?.db === undefined) throw new Error('demo database not open');
      if (o.trigger === 'scheduled' && script.failingDays.includes(o.date)) throw new Error('box score feed timed out (HTTP 504)');
      const r = buildPlayerGameSummary(rt.db, o.date, { now: () => new Date(clock.now()).toISOString() });
      built.set(o.date, r);
      return r;
    },
  };

  // Deterministic ids: the same story (and the same processing order) on every run.
  let seq = 0;
  const ids = (): string => `demo-${String(++seq).padStart(5, '0')}`;
  rt = await openRuntime(resolveConfig(config(dbPath), { baseDir: dir }), {
    clock,
    ids,
    processors: new Map([[DEMO_PROCESSOR, processor]]),
    alerterFor: () => alerter,
  });
  const db = rt.db;
  if (db === undefined) throw new Error('the demo needs the SQLite store');
  try {
    createNbaTables(db);
    loadSchedule(db, season);
    const engine = await import('@smart-backfill/engine');
    const guard = await rt.guard(DEMO_PROCESSOR);
    const worker: Worker = engine.createWorker({
      queue: rt.queue,
      tracker: rt.tracker,
      runLog: rt.runLog,
      registry: await rt.registry(),
      clock,
      policyFor: () => guard.policy,
      guardFor: () => guard,
      leaseMs: 10 * MIN,
      backoff: { baseMs: 5 * MIN, maxMs: HOUR },
      workerId: 'demo-worker',
    });
    const gamesOn = new Map<string, typeof season.games>();
    for (const g of season.games) gamesOn.set(g.gameDate, [...(gamesOn.get(g.gameDate) ?? []), g]);
    const late: { at: number; rows: ReturnType<typeof boxScore> }[] = [];

    let quiet: { from: IsoDate; to: IsoDate; runs: number; rows: number; games: number } | undefined;
    const flushQuiet = (): void => {
      if (quiet !== undefined) events.push({ _tag: 'Quiet', ...quiet });
      quiet = undefined;
    };
    let outageLogged = false;
    const repeats: IsoDate[] = [];
    let repeatSentBefore = 0;
    const flushRepeats = (): void => {
      if (repeats.length > 0)
        events.push({
          _tag: 'Repeat',
          dates: [...repeats],
          alertsSent: notices.filter((n) => n.kind !== 'healed').length - repeatSentBefore,
        });
      repeats.length = 0;
    };

    const workerTicks = async (label: number): Promise<void> => {
      clock.set(label);
      for (let i = 0; i < 24; i++) {
        clock.advance(5 * MIN);
        const tick = await worker.runOnce();
        if (tick.received === 0) {
          const pending = await rt!.tracker.list({ processorName: DEMO_PROCESSOR, statuses: ['queued', 'processing'] });
          if (pending.length === 0) return;
          continue;
        }
        const filled: { date: IsoDate; rows: number; type: string }[] = [];
        const resumed: IsoDate[] = [];
        const failed: string[] = [];
        for (const o of tick.outcomes) {
          if (o._tag === 'Completed') {
            const r = await rt!.tracker.get(o.requestId);
            if (r !== undefined) filled.push({ date: r.date, rows: built.get(r.date)?.rows ?? 0, type: r.requestType });
            resumed.push(...(o.resumed as IsoDate[]));
          } else if (o._tag === 'Retrying' || o._tag === 'FailedPermanently') failed.push(o.error);
        }
        const superseded = (await rt!.runLog.heldRuns({ processorName: DEMO_PROCESSOR, status: 'cancelled' }))
          .filter((h) => h.releasedAt === clock.now())
          .map((h) => h.runDate);
        flushQuiet();
        flushRepeats();
        push({ _tag: 'Worker', at: clock.now(), filled, resumed, superseded, failed });
      }
    };

    for (const date of dateRange(script.start, script.end)) {
      const games = gamesOn.get(date) ?? [];
      // 23:00 the games are final; 01:00 the scraper has the box scores (all but one game on a partial day).
      clock.set(at(date, 23));
      markFinal(
        db,
        games.map((g) => g.gameId),
      );
      const next = addDays(date, 1);
      clock.set(at(next, 1));
      for (const [i, g] of games.entries()) {
        const rows = boxScore(g, season.players, script.seed);
        if (script.partialDays.includes(date) && i > 0) late.push({ at: at(next, 9), rows });
        else insertBoxScores(db, rows);
      }
      // 06:00 the nightly run for `date`.
      clock.set(at(next, 6));
      if (script.outage.includes(date)) {
        if (!outageLogged) {
          flushQuiet();
          events.push({ _tag: 'SchedulerDown', dates: script.outage });
          outageLogged = true;
        }
      } else {
        const outcome = await guard.run({ date, trigger: 'scheduled' });
        const result = outcome._tag === 'Ran' ? (outcome.result as SummaryResult | undefined) : undefined;
        const partial = result !== undefined && result.gamesWithBoxScores < result.finalGames;
        if (outcome._tag === 'Ran' && !partial) {
          if (quiet === undefined) quiet = { from: date, to: date, runs: 0, rows: 0, games: 0 };
          quiet.to = date;
          quiet.runs++;
          quiet.rows += result?.rows ?? 0;
          quiet.games += games.length;
        } else if (
          outcome._tag === 'Escalated' &&
          !outcome.alerted &&
          events.some((e) => e._tag === 'Alert' && e.notice.alertKey === outcome.alertKey)
        ) {
          if (repeats.length === 0) repeatSentBefore = notices.filter((n) => n.kind !== 'healed').length;
          repeats.push(date);
        } else {
          flushQuiet();
          flushRepeats();
          push({
            _tag: 'Run',
            at: clock.now(),
            date,
            outcome,
            ...(partial && result !== undefined
              ? { partial: { games: result.gamesWithBoxScores, finalGames: result.finalGames, rows: result.rows } }
              : {}),
          });
        }
      }
      await workerTicks(clock.now());
      // Late box scores land at 09:00.
      for (const l of late.splice(0)) {
        clock.set(l.at);
        insertBoxScores(db, l.rows);
      }
      if (date === script.operatorRunDate) {
        // 10:00 a person reads the alert and runs the heal command it names.
        clock.set(at(next, 10));
        flushQuiet();
        flushRepeats();
        // What the person sees first: `smart-backfill status`.
        events.push({ _tag: 'Status', at: clock.now(), status: await gatherStatus(rt, DEMO_PROCESSOR, next, 3) });
        const open = await rt.alertLog.list({ processorName: DEMO_PROCESSOR, openOnly: true });
        const dates = open.flatMap((a) => a.missingDates).sort();
        const from = dates[0];
        const to = dates[dates.length - 1];
        if (from !== undefined && to !== undefined) {
          const plan = await planManualBackfill(rt, DEMO_PROCESSOR, from, to, { onlyMissing: true });
          const res = await queueManualBackfill(rt, plan, { priority: 'high', requestedBy: 'on-call', ids });
          events.push({
            _tag: 'Manual',
            at: clock.now(),
            command: `smart-backfill backfill ${DEMO_PROCESSOR} --from ${from} --to ${to} --only-missing`,
            queued: res.queued.map((r) => r.date),
            inFlight: res.inFlight,
          });
          await workerTicks(clock.now());
        }
      }
    }
    flushQuiet();
    flushRepeats();
    events.push(...pendingAlerts.splice(0));

    const status = await gatherStatus(rt, DEMO_PROCESSOR, script.end, 8);
    await opts.onFinish?.(rt);
    return { events, figures: await figuresOf(rt, events, notices, script), status, dbPath };
  } finally {
    await rt.close();
    if (opts.keep !== true && opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
};

const figuresOf = async (
  rt: Runtime,
  events: readonly DemoEvent[],
  notices: readonly AlertNotice[],
  script: DemoScript,
): Promise<DemoFigures> => {
  const runs = await rt.runLog.runs({ processorName: DEMO_PROCESSOR });
  const requests = await rt.tracker.list({ processorName: DEMO_PROCESSOR, limit: 10_000 });
  const held = await rt.runLog.heldRuns({ processorName: DEMO_PROCESSOR });
  const gaps = new Set<IsoDate>();
  const incomplete = new Set<IsoDate>();
  let escalatedRuns = 0;
  for (const r of runs) {
    for (const d of r.metadata.missing_dates ?? []) gaps.add(d);
    if (r.skipReason === 'gap_escalated') escalatedRuns++;
  }
  for (const e of events) {
    if (e._tag === 'Run' && (e.outcome._tag === 'Held' || e.outcome._tag === 'Escalated'))
      for (const i of e.outcome.analysis.incompleteDates) incomplete.add(i.date);
  }
  const resumedAt = new Map(held.filter((h) => h.status === 'resumed').map((h) => [h.runDate, h] as const));
  const recovered = healedGaps(runs, requests, { since: 0, until: Number.MAX_SAFE_INTEGER }).filter((g) => g.timeToRecoveryMs !== null);
  const summaryRows = rt.db !== undefined ? (rt.db.prepare('SELECT count(*) FROM player_game_summary').pluck().get() as number) : 0;
  const games =
    rt.db !== undefined ? (rt.db.prepare("SELECT count(*) FROM game_schedule WHERE game_status = 'Final'").pluck().get() as number) : 0;
  return {
    days: dateRange(script.start, script.end).length,
    runs: runs.length,
    games,
    summaryRows,
    gapsFound: gaps.size,
    incompleteCaught: [...incomplete].sort(),
    healedAutomatically: requests
      .filter((r) => r.requestType === 'auto' && r.status === 'completed')
      .map((r) => r.date)
      .sort(),
    heldRuns: held.map((h) => h.runDate).sort(),
    resumedRuns: [...resumedAt.keys()].sort(),
    supersededRuns: held
      .filter((h) => h.status === 'cancelled')
      .map((h) => h.runDate)
      .sort(),
    escalatedRuns,
    alertsSent: notices.filter((n) => n.kind === 'escalated' || n.kind === 'reminder').length,
    healedNotices: notices.filter((n) => n.kind === 'healed').length,
    manualBackfills: requests.filter((r) => r.requestType === 'manual').length,
    autoRecoveryMs: recovered.filter((g) => !g.escalated).map((g) => g.timeToRecoveryMs as number),
    escalationRecoveryMs: recovered.find((g) => g.escalated)?.timeToRecoveryMs ?? null,
    medianRecoveryMs: medianOf(recovered.map((g) => g.timeToRecoveryMs as number)),
    healedGaps: recovered.length,
  };
};
