import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import {
  addDays,
  dateRange,
  healedGaps,
  isoDate,
  medianOf,
  UPSTREAM_WAITS_KEY,
  type AlertNotice,
  type Alerter,
  type IsoDate,
  type UpstreamGap,
} from '@smart-backfill/core';
import type { GuardedProcessor, GuardOutcome, Processor, RunOptions, Worker } from '@smart-backfill/engine';
import { generateSeason, type Season } from '../../nba/season.mjs';
import { createNbaTables, loadSchedule, markFinal } from '../../nba/schema.mjs';
import { buildPlayerGameSummary } from '../../nba/processor.mjs';
import { scrapeBoxScores } from '../../nba/scraper.mjs';
import { buildTeamRolling, ROLLING_DAYS } from '../../nba/team-rolling.mjs';
import { resolveConfig } from '../config/load-config.js';
import type { SmartBackfillConfig } from '../config/config-types.js';
import { planManualBackfill, queueManualBackfill } from '../commands/backfill.js';
import { gatherStatus, type ProcessorStatus } from '../commands/status.js';
import { openRuntime, type Runtime } from '../runtime/runtime.js';
import { SimulatedClock } from './sim-clock.js';

/** The demo's pipeline, in dependency order: raw box scores → per-player summaries → team rolling averages. */
export const DEMO_RAW = 'box_scores';
export const DEMO_PROCESSOR = 'player_game_summary';
export const DEMO_ROLLING = 'team_rolling_10d';
export const DEMO_LEVELS = [DEMO_RAW, DEMO_PROCESSOR, DEMO_ROLLING] as const;
/** Two games (the lightest slate) give 40+ player rows; under 30 a day is surely incomplete. */
export const DEMO_MIN_ROWS = 30;
/** Opening night (two games) gives four teams: the fewest rows a rolling date has. */
const ROLLING_MIN_ROWS = 4;
const HOUR = 3_600_000;
const MIN = 60_000;

/** The story's script: which raw day is lost, which arrives partially, when the warehouse scheduler is down. */
export interface DemoScript {
  readonly seed: number;
  readonly start: IsoDate;
  /** Last run date played. */
  readonly end: IsoDate;
  /** The scrape of these dates fails on its scheduled run (the feed times out): the raw day is lost. Re-scrapes succeed. */
  readonly failingDays: readonly IsoDate[];
  /** The scheduled scrape of these dates gets only the first game's box score (the feed had not published the rest). */
  readonly partialDays: readonly IsoDate[];
  /** The warehouse's nightly scheduler is down: player_game_summary and team_rolling_10d do not run (the scraper does). */
  readonly outage: readonly IsoDate[];
  /** When a person runs the heal commands (hours after the last escalated run, on that morning). */
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

/** An input date a held run waits for, with the rows it had when the run was held. */
export interface DemoWait {
  readonly processor: string;
  readonly date: IsoDate;
  readonly rows: number;
  /** `queued`: this run queued its backfill; `in flight`: already coming (a backfill, or a held run that produces it). */
  readonly state: 'queued' | 'in flight' | 'escalated';
}

/** A run of a downstream level made after an input it read was healed (or its own gap filled), in run order. */
export interface DemoRebuild {
  readonly processor: string;
  readonly date: IsoDate;
  /** The trigger recorded in the run log (`resume`: a held run; `cascade`: a date rebuilt after its input healed). */
  readonly trigger: string;
  /** The input dates it had waited for; empty when it waited for dates of its own. */
  readonly after: readonly { readonly processor: string; readonly dates: readonly IsoDate[] }[];
}

/** One line of the story. */
export type DemoEvent =
  | {
      readonly _tag: 'Quiet';
      readonly from: IsoDate;
      readonly to: IsoDate;
      /** Game days every level ran cleanly. */
      readonly runs: number;
      readonly rows: number;
      readonly games: number;
    }
  | {
      readonly _tag: 'Run';
      readonly at: number;
      readonly processor: string;
      readonly date: IsoDate;
      readonly outcome: GuardOutcome;
      /** A scrape that got only some of the day's box scores. */
      readonly partial?: { games: number; finalGames: number; rows: number };
      /** Held for its inputs: what it waits for. */
      readonly waits?: readonly DemoWait[];
    }
  | { readonly _tag: 'SchedulerDown'; readonly dates: readonly IsoDate[]; readonly processors: readonly string[] }
  | {
      readonly _tag: 'Worker';
      readonly at: number;
      readonly filled: readonly { processor: string; date: IsoDate; rows: number; type: string }[];
      /** Held runs re-run (and dates rebuilt) in this pass, in run order. */
      readonly rebuilt: readonly DemoRebuild[];
      /** Held runs whose own date a backfill produced: nothing left to re-run. */
      readonly superseded: readonly { processor: string; date: IsoDate }[];
      readonly failed: readonly string[];
    }
  | { readonly _tag: 'Alert'; readonly at: number; readonly notice: AlertNotice }
  | {
      readonly _tag: 'Manual';
      readonly at: number;
      readonly processor: string;
      readonly command: string;
      readonly queued: readonly IsoDate[];
      readonly inFlight: readonly IsoDate[];
    }
  | { readonly _tag: 'Repeat'; readonly dates: readonly IsoDate[]; readonly processors: readonly string[]; readonly alertsSent: number }
  | { readonly _tag: 'Status'; readonly at: number; readonly status: ProcessorStatus };

/** What the pipeline did: the figures that prove a gap upstream heals everything downstream once, in order. */
export interface DemoPipelineFigures {
  /** The processors, in dependency order. */
  readonly levels: readonly string[];
  /** Backfills a downstream run queued on its input (deduplicated with the input's own). */
  readonly upstreamBackfills: readonly { processor: string; date: IsoDate; queuedBy: string }[];
  /** Downstream dates re-run after an input they waited for was healed, in run order. */
  readonly rebuilt: readonly DemoRebuild[];
  /** Downstream dates re-run that way more than once (must be 0). */
  readonly rebuiltMoreThanOnce: number;
  /** Downstream runs that succeeded while an input they read was incomplete (must be 0). */
  readonly runsOnIncompleteInputs: number;
}

export interface DemoFigures {
  readonly days: number;
  /** Runs recorded, every level. */
  readonly runs: number;
  readonly games: number;
  readonly rawRows: number;
  readonly summaryRows: number;
  readonly rollingRows: number;
  /** Distinct (level, date) pairs the guards found missing or incomplete. */
  readonly gapsFound: number;
  /** Raw dates caught with too few rows (present, but below the minimum). */
  readonly incompleteCaught: readonly IsoDate[];
  /** Dates filled by automatic backfills (no person involved), every level. */
  readonly healedAutomatically: readonly IsoDate[];
  readonly heldRuns: number;
  readonly resumedRuns: number;
  /** Held runs made unnecessary because a backfill produced their own date. */
  readonly supersededRuns: number;
  readonly escalatedRuns: number;
  readonly alertsSent: number;
  readonly healedNotices: number;
  readonly manualBackfills: number;
  /** Per gap healed without a person: time to recovery (core `healedGaps`, the rule the report uses too). */
  readonly autoRecoveryMs: readonly number[];
  /** The escalated gaps' times to recovery: first detection to whole again, waiting for a person included. */
  readonly escalationRecoveryMs: readonly number[];
  /** Median time to recovery over every healed gap (the report's figure). */
  readonly medianRecoveryMs: number | null;
  readonly healedGaps: number;
  readonly pipeline: DemoPipelineFigures;
}

export interface DemoResult {
  readonly events: readonly DemoEvent[];
  readonly figures: DemoFigures;
  /** player_game_summary's status at the end of the season (the level the story follows). */
  readonly status: ProcessorStatus;
  /** Every level's status, in dependency order. */
  readonly statuses: readonly ProcessorStatus[];
  readonly dbPath: string;
}

const SCHEDULE = { table: 'game_schedule', dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final', 'Completed'] };
const POLICY = { lookbackDays: 30, criticalLookbackDays: 10, autoBackfillThreshold: 3, maxAttempts: 3 };

const config = (dbPath: string): SmartBackfillConfig => ({
  store: { type: 'sqlite', path: dbPath },
  processors: [
    {
      name: DEMO_RAW,
      schedule: SCHEDULE,
      target: { table: 'box_scores_raw', dateColumn: 'game_date' },
      policy: { ...POLICY, minRecordsPerDate: DEMO_MIN_ROWS },
    },
    {
      name: DEMO_PROCESSOR,
      schedule: SCHEDULE,
      target: { table: 'player_game_summary', dateColumn: 'game_date' },
      policy: { ...POLICY, minRecordsPerDate: DEMO_MIN_ROWS },
      dependsOn: [{ processor: DEMO_RAW, lookbackDays: 0 }],
    },
    {
      name: DEMO_ROLLING,
      schedule: SCHEDULE,
      target: { table: 'team_rolling_10d', dateColumn: 'game_date' },
      policy: { ...POLICY, minRecordsPerDate: ROLLING_MIN_ROWS },
      // The date and the nine before it.
      dependsOn: [{ processor: DEMO_PROCESSOR, lookbackDays: ROLLING_DAYS - 1 }],
    },
  ],
});

const at = (date: IsoDate, hour: number, minute = 0): number =>
  Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)), hour, minute);

/**
 * Play the season forward. Each game day's box scores are scraped (`box_scores`) at 01:00 the
 * next morning, player_game_summary runs at 06:00 and team_rolling_10d at 06:15, and the
 * worker polls every five minutes after that. Returns the story, the figures and the final status.
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
  const push = (...e: DemoEvent[]): void => {
    events.push(...e, ...pendingAlerts.splice(0));
  };
  const alerter: Alerter = {
    send: async (n) => {
      notices.push(n);
      pendingAlerts.push({ _tag: 'Alert', at: clock.now(), notice: n });
    },
  };

  let rt: Runtime | undefined;
  const dbOf = (): Database => {
    if (rt?.db === undefined) throw new Error('demo database not open');
    return rt.db;
  };
  const now = (): string => new Date(clock.now()).toISOString();
  // Every processor call, in call order: the order levels ran in, and whether its inputs were whole.
  const executions: { processor: string; date: IsoDate; trigger: string; incompleteInputs: boolean }[] = [];
  const lastBuilt = new Map<string, { rows: number; partial?: { games: number; finalGames: number; rows: number } }>();
  const built = (processor: string, date: IsoDate, trigger: string | undefined, incompleteInputs: boolean): void => {
    executions.push({ processor, date, trigger: trigger ?? 'scheduled', incompleteInputs });
  };
  const processors = new Map<string, Processor>([
    [
      DEMO_RAW,
      {
        name: DEMO_RAW,
        run: async (o: RunOptions) => {
          const scheduled = o.trigger === 'scheduled';
          if (scheduled && script.failingDays.includes(o.date)) throw new Error('box score feed timed out (HTTP 504)');
          const r = scrapeBoxScores(dbOf(), season, o.date, {
            seed: script.seed,
            gamesLimit: scheduled && script.partialDays.includes(o.date) ? 1 : undefined,
          });
          const partial = r.gamesScraped < r.finalGames ? { games: r.gamesScraped, finalGames: r.finalGames, rows: r.rows } : undefined;
          lastBuilt.set(`${DEMO_RAW}/${o.date}`, { rows: r.rows, ...(partial === undefined ? {} : { partial }) });
          built(DEMO_RAW, o.date, o.trigger, false);
          return r;
        },
      },
    ],
    [
      DEMO_PROCESSOR,
      {
        name: DEMO_PROCESSOR,
        run: async (o: RunOptions) => {
          const r = buildPlayerGameSummary(dbOf(), o.date, { now });
          lastBuilt.set(`${DEMO_PROCESSOR}/${o.date}`, { rows: r.rows });
          built(DEMO_PROCESSOR, o.date, o.trigger, r.gamesWithBoxScores < r.finalGames);
          return r;
        },
      },
    ],
    [
      DEMO_ROLLING,
      {
        name: DEMO_ROLLING,
        run: async (o: RunOptions) => {
          const r = buildTeamRolling(dbOf(), o.date, { now });
          lastBuilt.set(`${DEMO_ROLLING}/${o.date}`, { rows: r.teams });
          built(DEMO_ROLLING, o.date, o.trigger, r.missingInputDays.length > 0);
          return r;
        },
      },
    ],
  ]);

  // Deterministic ids: the same story (and the same processing order) on every run.
  let seq = 0;
  const ids = (): string => `demo-${String(++seq).padStart(5, '0')}`;
  const resolved = resolveConfig(config(dbPath), { baseDir: dir });
  rt = await openRuntime(resolved, { clock, ids, processors, alerterFor: () => alerter });
  const db = rt.db;
  if (db === undefined) throw new Error('the demo needs the SQLite store');
  try {
    createNbaTables(db);
    loadSchedule(db, season);
    const engine = await import('@smart-backfill/engine');
    const guards = new Map<string, GuardedProcessor>();
    for (const name of DEMO_LEVELS) guards.set(name, await rt.guard(name));
    const guardOf = (name: string): GuardedProcessor => guards.get(name) as GuardedProcessor;
    const worker: Worker = engine.createWorker({
      queue: rt.queue,
      tracker: rt.tracker,
      runLog: rt.runLog,
      registry: await rt.registry(),
      clock,
      guardFor: (name) => guards.get(name),
      pipeline: resolved.graph,
      leaseMs: 10 * MIN,
      backoff: { baseMs: 5 * MIN, maxMs: HOUR },
      workerId: 'demo-worker',
    });
    const gamesOn = new Map<string, typeof season.games>();
    for (const g of season.games) gamesOn.set(g.gameDate, [...(gamesOn.get(g.gameDate) ?? []), g]);
    // Each level's table (the config's targets, fixed names): an input's rows when a run is held for it.
    const rowsOf = new Map(
      [
        [DEMO_RAW, 'box_scores_raw'],
        [DEMO_PROCESSOR, 'player_game_summary'],
        [DEMO_ROLLING, 'team_rolling_10d'],
      ].map(([level, table]) => [level as string, db.prepare(`SELECT count(*) FROM ${table as string} WHERE game_date = ?`).pluck()]),
    );

    let quiet: { from: IsoDate; to: IsoDate; runs: number; rows: number; games: number } | undefined;
    const flushQuiet = (): void => {
      if (quiet !== undefined) events.push({ _tag: 'Quiet', ...quiet });
      quiet = undefined;
    };
    let outageLogged = false;
    const repeats: { date: IsoDate; processor: string }[] = [];
    let repeatSentBefore = 0;
    const sentSoFar = (): number => notices.filter((n) => n.kind !== 'healed').length;
    const flushRepeats = (): void => {
      if (repeats.length > 0)
        events.push({
          _tag: 'Repeat',
          dates: [...new Set(repeats.map((r) => r.date))],
          processors: DEMO_LEVELS.filter((l) => repeats.some((r) => r.processor === l)),
          alertsSent: sentSoFar() - repeatSentBefore,
        });
      repeats.length = 0;
    };

    /** What a held run waited for, from its last hold in the run log (the trigger's cause, as recorded). */
    const waitedFor = async (processor: string, date: IsoDate, before: number): Promise<DemoRebuild['after']> => {
      const held = (await rt!.runLog.runs({ processorName: processor, until: before })).filter(
        (r) => r.runDate === date && r.outcome === 'skipped',
      );
      const last = held[held.length - 1];
      const waits = last?.metadata['waiting_for_upstream'] as readonly { processor: string; missing: readonly IsoDate[] }[] | undefined;
      return (waits ?? []).map((w) => ({ processor: w.processor, dates: w.missing }));
    };

    const workerTicks = async (label: number): Promise<void> => {
      clock.set(label);
      for (let i = 0; i < 24; i++) {
        clock.advance(5 * MIN);
        const ran = executions.length;
        const tick = await worker.runOnce();
        if (tick.received === 0 && executions.length === ran) {
          const pending = await rt!.tracker.list({ statuses: ['queued', 'processing'] });
          if (pending.length === 0) return;
          continue;
        }
        const filled: { processor: string; date: IsoDate; rows: number; type: string }[] = [];
        const failed: string[] = [];
        for (const o of tick.outcomes) {
          if (o._tag === 'Completed') {
            const r = await rt!.tracker.get(o.requestId);
            if (r !== undefined)
              filled.push({
                processor: r.processorName,
                date: r.date,
                rows: lastBuilt.get(`${r.processorName}/${r.date}`)?.rows ?? 0,
                type: r.triggerReason === engine.UPSTREAM_HEALED ? 'rebuild' : r.requestType,
              });
          } else if (o._tag === 'Retrying' || o._tag === 'FailedPermanently') failed.push(o.error);
        }
        const rebuilt: DemoRebuild[] = [];
        for (const x of executions.slice(ran))
          if (x.trigger === 'resume' || x.trigger === 'cascade')
            rebuilt.push({
              processor: x.processor,
              date: x.date,
              trigger: x.trigger,
              after: await waitedFor(x.processor, x.date, clock.now()),
            });
        const superseded = (await rt!.runLog.heldRuns({ status: 'cancelled' }))
          .filter((h) => h.releasedAt === clock.now())
          .map((h) => ({ processor: h.processorName, date: h.runDate }));
        flushQuiet();
        flushRepeats();
        push({ _tag: 'Worker', at: clock.now(), filled, rebuilt, superseded, failed });
      }
    };

    /**
     * A downstream run's outcome, with what it waits for on its inputs (and their rows then): the
     * outcome's when it was held for its inputs, else `recorded` (a run held over its own dates
     * that wait for their inputs names them in its record).
     */
    const runEvent = (processor: string, date: IsoDate, outcome: GuardOutcome, recorded: readonly UpstreamGap[] = []): DemoEvent => {
      const waits = (outcome._tag === 'Held' ? (outcome.upstream ?? recorded) : []).flatMap((w) =>
        w.missing.map((d): DemoWait => ({
          processor: w.processor,
          date: d,
          rows: (rowsOf.get(w.processor)?.get(d) as number | undefined) ?? 0,
          state: w.escalated.includes(d) ? 'escalated' : w.queued.includes(d) ? 'queued' : 'in flight',
        })),
      );
      const partial = outcome._tag === 'Ran' ? lastBuilt.get(`${processor}/${date}`)?.partial : undefined;
      return {
        _tag: 'Run',
        at: clock.now(),
        processor,
        date,
        outcome,
        ...(partial !== undefined ? { partial } : {}),
        ...(waits.length > 0 ? { waits } : {}),
      };
    };

    /**
     * Run one level for `date` at `when`: `quiet` for a clean run, `repeat` for an escalation
     * whose alert is already open, else its line followed by the alerts it sent.
     */
    const runLevel = async (processor: string, date: IsoDate, when: number): Promise<'quiet' | 'repeat' | DemoEvent[]> => {
      clock.set(when);
      const outcome = await guardOf(processor).run({ date, trigger: 'scheduled' });
      const recorded =
        outcome._tag === 'Held' && outcome.upstream === undefined
          ? ((await rt!.runLog.runs({ processorName: processor, runDateFrom: date, runDateTo: date })).find(
              (r) => r.runId === outcome.runId,
            )?.metadata[UPSTREAM_WAITS_KEY] as readonly UpstreamGap[] | undefined)
          : undefined;
      const e = runEvent(processor, date, outcome, recorded);
      if (outcome._tag === 'Ran' && e._tag === 'Run' && e.partial === undefined) return 'quiet';
      // Held again behind an alert already told (its own, or one upstream): one line for all of them.
      const behindAlert = (x: DemoEvent): boolean =>
        x._tag === 'Run' &&
        x.processor === processor &&
        (x.waits ?? []).length > 0 &&
        (x.waits ?? []).every((w) => w.state === 'escalated');
      if (
        (outcome._tag === 'Escalated' &&
          !outcome.alerted &&
          events.some((x) => x._tag === 'Alert' && x.notice.alertKey === outcome.alertKey)) ||
        (behindAlert(e) && events.some(behindAlert))
      ) {
        if (repeats.length === 0) repeatSentBefore = sentSoFar();
        repeats.push({ date, processor });
        return 'repeat';
      }
      return [e, ...pendingAlerts.splice(0)];
    };

    const heal = async (processor: string): Promise<void> => {
      const open = await rt!.alertLog.list({ processorName: processor, openOnly: true });
      const dates = open.flatMap((a) => a.missingDates).sort();
      const from = dates[0];
      const to = dates[dates.length - 1];
      if (from === undefined || to === undefined) return;
      const plan = await planManualBackfill(rt!, processor, from, to, { onlyMissing: true });
      const res = await queueManualBackfill(rt!, plan, { priority: 'high', requestedBy: 'on-call', ids });
      events.push({
        _tag: 'Manual',
        at: clock.now(),
        processor,
        command: `smart-backfill backfill ${processor} --from ${from} --to ${to} --only-missing`,
        queued: res.queued.map((r) => r.date),
        inFlight: res.inFlight,
      });
      await workerTicks(clock.now());
    };

    for (const date of dateRange(script.start, script.end)) {
      const games = gamesOn.get(date) ?? [];
      // 23:00 the games are final.
      clock.set(at(date, 23));
      markFinal(
        db,
        games.map((g) => g.gameId),
      );
      const next = addDays(date, 1);
      const lines: DemoEvent[] = [];
      let clean = games.length > 0;
      const note = (r: 'quiet' | 'repeat' | DemoEvent[]): void => {
        if (r !== 'quiet') clean = false;
        if (Array.isArray(r)) lines.push(...r);
      };
      // 01:00 the scrape; 06:00 and 06:15 the warehouse's nightly runs (unless its scheduler is down).
      note(await runLevel(DEMO_RAW, date, at(next, 1)));
      if (script.outage.includes(date)) {
        clean = false;
        if (!outageLogged) {
          flushQuiet();
          events.push({ _tag: 'SchedulerDown', dates: script.outage, processors: [DEMO_PROCESSOR, DEMO_ROLLING] });
          outageLogged = true;
        }
      } else {
        note(await runLevel(DEMO_PROCESSOR, date, at(next, 6)));
        note(await runLevel(DEMO_ROLLING, date, at(next, 6, 15)));
      }
      if (clean) {
        if (quiet === undefined) quiet = { from: date, to: date, runs: 0, rows: 0, games: 0 };
        quiet.to = date;
        quiet.runs++;
        quiet.rows += lastBuilt.get(`${DEMO_PROCESSOR}/${date}`)?.rows ?? 0;
        quiet.games += games.length;
      } else if (repeats.length > 0 || lines.length > 0) flushQuiet();
      if (lines.length > 0) {
        flushRepeats();
        push(...lines);
      }
      await workerTicks(clock.now());
      if (date === script.operatorRunDate) {
        // 10:00 a person reads the alerts and runs the heal commands they name, inputs first.
        clock.set(at(next, 10));
        flushQuiet();
        flushRepeats();
        // What the person sees first: `smart-backfill status`.
        events.push({ _tag: 'Status', at: clock.now(), status: await gatherStatus(rt, DEMO_PROCESSOR, next, 3) });
        for (const level of DEMO_LEVELS) await heal(level);
      }
    }
    flushQuiet();
    flushRepeats();
    events.push(...pendingAlerts.splice(0));

    const statuses: ProcessorStatus[] = [];
    for (const level of DEMO_LEVELS) statuses.push(await gatherStatus(rt, level, script.end, 8));
    await opts.onFinish?.(rt);
    return {
      events,
      figures: await figuresOf(rt, events, notices, executions, script),
      status: statuses[1] as ProcessorStatus,
      statuses,
      dbPath,
    };
  } finally {
    await rt.close();
    if (opts.keep !== true && opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
};

const figuresOf = async (
  rt: Runtime,
  events: readonly DemoEvent[],
  notices: readonly AlertNotice[],
  executions: readonly { processor: string; date: IsoDate; trigger: string; incompleteInputs: boolean }[],
  script: DemoScript,
): Promise<DemoFigures> => {
  const { UPSTREAM_HEALED } = await import('@smart-backfill/engine');
  const runs = await rt.runLog.runs({});
  const requests = await rt.tracker.list({ limit: 10_000 });
  const held = await rt.runLog.heldRuns({});
  const gaps = new Set<string>();
  const incomplete = new Set<IsoDate>();
  let escalatedRuns = 0;
  for (const r of runs) {
    for (const d of r.metadata.missing_dates ?? []) gaps.add(`${r.processorName}/${d}`);
    if (r.skipReason === 'gap_escalated') escalatedRuns++;
  }
  for (const e of events) {
    if (e._tag !== 'Run') continue;
    for (const w of e.waits ?? []) {
      gaps.add(`${w.processor}/${w.date}`);
      if (w.rows > 0) incomplete.add(w.date);
    }
  }
  const recovered = DEMO_LEVELS.flatMap((level) =>
    healedGaps(
      runs.filter((r) => r.processorName === level),
      requests.filter((r) => r.processorName === level),
      { since: 0, until: Number.MAX_SAFE_INTEGER },
    ),
  ).filter((g) => g.timeToRecoveryMs !== null);
  const count = (table: string): number =>
    rt.db !== undefined ? (rt.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number) : 0;
  const games =
    rt.db !== undefined ? (rt.db.prepare("SELECT count(*) FROM game_schedule WHERE game_status = 'Final'").pluck().get() as number) : 0;
  const rebuilt = events.flatMap((e) => (e._tag === 'Worker' ? e.rebuilt.filter((r) => r.after.length > 0) : []));
  const rebuiltKeys = rebuilt.map((r) => `${r.processor}/${r.date}`);
  return {
    days: dateRange(script.start, script.end).length,
    runs: runs.length,
    games,
    rawRows: count('box_scores_raw'),
    summaryRows: count('player_game_summary'),
    rollingRows: count('team_rolling_10d'),
    gapsFound: gaps.size,
    incompleteCaught: [...incomplete].sort(),
    healedAutomatically: [
      ...new Set(
        requests
          // A rebuild after an input healed is the pipeline's (below), not a gap healed on its own.
          .filter((r) => r.requestType === 'auto' && r.status === 'completed' && r.triggerReason !== UPSTREAM_HEALED)
          .map((r) => r.date)
          .sort(),
      ),
    ],
    heldRuns: held.length,
    resumedRuns: held.filter((h) => h.status === 'resumed').length,
    supersededRuns: held.filter((h) => h.status === 'cancelled').length,
    escalatedRuns,
    alertsSent: notices.filter((n) => n.kind === 'escalated' || n.kind === 'reminder').length,
    healedNotices: notices.filter((n) => n.kind === 'healed').length,
    manualBackfills: requests.filter((r) => r.requestType === 'manual').length,
    autoRecoveryMs: recovered.filter((g) => !g.escalated).map((g) => g.timeToRecoveryMs as number),
    escalationRecoveryMs: recovered.filter((g) => g.escalated).map((g) => g.timeToRecoveryMs as number),
    medianRecoveryMs: medianOf(recovered.map((g) => g.timeToRecoveryMs as number)),
    healedGaps: recovered.length,
    pipeline: {
      levels: [...DEMO_LEVELS],
      upstreamBackfills: requests
        .filter((r) => typeof r.metadata['downstream'] === 'string')
        .map((r) => ({ processor: r.processorName, date: r.date, queuedBy: r.metadata['downstream'] as string }))
        .sort((a, b) => a.date.localeCompare(b.date)),
      rebuilt,
      rebuiltMoreThanOnce: rebuiltKeys.filter((k, i) => rebuiltKeys.indexOf(k) !== i).length,
      runsOnIncompleteInputs: executions.filter((x) => x.processor !== DEMO_RAW && x.incompleteInputs).length,
    },
  };
};
