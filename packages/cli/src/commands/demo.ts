import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatAlert, formatDateRanges, formatDuration } from '@smart-backfill/alerts';
import { diffDays, type IsoDate } from '@smart-backfill/core';
import {
  DEFAULT_SCRIPT,
  DEMO_MIN_ROWS,
  runNbaDemo,
  type DemoEvent,
  type DemoFigures,
  type DemoRebuild,
  type DemoWait,
} from '../demo/nba-demo.js';
import { renderCalendar } from '../format/calendar.js';
import { intOption, switchOption, textOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime/runtime.js';
import { buildReportFromRuntime, writeReport } from './report.js';
import { jsonSafe } from './shared.js';
import { statusJson } from './status.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const day = (d: string): string => `${MONTHS[Number(d.slice(5, 7)) - 1] ?? ''} ${Number(d.slice(8, 10))}`;
const stamp = (ms: number): string => {
  const iso = new Date(ms).toISOString();
  return `${day(iso.slice(0, 10))} ${iso.slice(11, 16)}`.padEnd(13);
};
const span = (from: IsoDate, to: IsoDate): string => (from === to ? day(from) : `${day(from)}–${day(to)}`);
const dates = (ds: readonly string[]): string => formatDateRanges(ds as readonly IsoDate[]);
const n = (x: number): string => x.toLocaleString('en-US');
// The demo's data is a game schedule: its own words where the calendars are otherwise neutral.
const NBA_CALENDAR_LABELS = { nothing_scheduled: 'no games' } as const;

/** `box_scores Nov 15 (missing), …`: each input date, with what `what` says of it. */
const waitList = (waits: readonly DemoWait[], what: (w: DemoWait) => string): string =>
  waits.map((w) => `${w.processor} ${day(w.date)}${what(w)}`).join(', ');

const rebuiltLine = (r: DemoRebuild): string => {
  const after = r.after.map((a) => `${a.processor} ${dates(a.dates)}`).join(', ');
  return `${r.processor} ${day(r.date)} re-run (trigger ${r.trigger}${after === '' ? '' : `, after ${after}`})`;
};

const eventLines = (out: Output, e: DemoEvent): string[] => {
  const { c } = out;
  const sym = (s: string, plain: string): string => (out.tty ? s : plain);
  switch (e._tag) {
    case 'Quiet':
      return [
        `${c.dim(span(e.from, e.to).padEnd(13))} ${c.green(sym('●', '#'))} ${e.runs} game day${e.runs === 1 ? '' : 's'} ran cleanly at every level ${c.dim(`(${n(e.games)} games, ${n(e.rows)} player rows)`)}`,
      ];
    case 'SchedulerDown':
      return [
        `${c.dim(span(e.dates[0] as IsoDate, e.dates[e.dates.length - 1] as IsoDate).padEnd(13))} ${c.red(sym('✗', 'x'))} the warehouse scheduler is down: no runs of ${e.processors.join(' or ')} for ${e.dates.length} days (the scraper keeps scraping)`,
      ];
    case 'Run': {
      const o = e.outcome;
      const head = `${c.dim(stamp(e.at))} ${e.processor} ${day(e.date)}: `;
      switch (o._tag) {
        case 'Ran':
          return e.partial !== undefined
            ? [
                `${head}${c.yellow(sym('◐', '~'))} scraped only ${e.partial.games} of ${e.partial.finalGames} box scores (${e.partial.rows} rows); the feed had not published the rest`,
              ]
            : [`${head}${c.green('ran')}`];
        case 'Failed':
          return [`${head}${c.red(`${sym('✗', 'x')} failed: ${o.error.message}`)}`];
        case 'Held': {
          const held = c.yellow(`${sym('◷', 'q')} held`);
          if (e.waits !== undefined && e.waits.length > 0) {
            // Missing days of one input as a range (a level below an outage waits for many); incomplete ones each with its rows.
            const missing = e.waits.filter((w) => w.rows === 0);
            const why = [
              ...[...new Set(missing.map((w) => w.processor))].map(
                (p) => `${p} ${dates(missing.filter((w) => w.processor === p).map((w) => w.date))} (missing)`,
              ),
              ...e.waits
                .filter((w) => w.rows > 0)
                .map((w) => `${w.processor} ${day(w.date)} (incomplete: ${w.rows} rows < ${DEMO_MIN_ROWS})`),
            ].join(', ');
            const queued = e.waits.filter((w) => w.state === 'queued');
            const coming = e.waits.filter((w) => w.state === 'in flight');
            const told = e.waits.filter((w) => w.state === 'escalated');
            const next = [
              ...(queued.length > 0 ? [`backfill of ${waitList(queued, () => '')} queued`] : []),
              ...(coming.length > 0 ? [`${waitList(coming, () => '')} already on its way (nothing queued)`] : []),
              ...(told.length > 0
                ? [`${[...new Set(told.map((w) => w.processor))].join(', ')}'s alert is open for it (a person was told; no alert here)`]
                : []),
            ].join('; ');
            return [`${head}${held}: waits for ${why} → ${next}`];
          }
          const why = o.analysis.missingDates
            .map((d) => {
              const inc = o.analysis.incompleteDates.find((i) => i.date === d);
              return inc !== undefined ? `${day(d)} incomplete (${inc.count} rows)` : `${day(d)} missing`;
            })
            .join(', ');
          return [`${head}${held}: ${why} → backfill queued for ${o.queued.map((r) => day(r.date)).join(', ') || 'nothing new'}`];
        }
        case 'Escalated': {
          const why =
            o.decision.reason === 'gap_exceeds_threshold' ? ', more than the auto-backfill threshold (3)' : ', backfills keep failing';
          return [
            `${head}${c.magenta(`${sym('▲', '!')} escalated`)}: ${o.decision.dates.length} dates missing (${dates(o.decision.dates)})${why}; run held, nothing queued`,
          ];
        }
        case 'BackfillQueuedNotHeld':
          return [`${head}ran; queued ${o.queued.map((r) => day(r.date)).join(', ')}`];
      }
      return [];
    }
    case 'Worker': {
      const lines: string[] = [];
      const head = `${c.dim(stamp(e.at))} worker: `;
      const pad = ' '.repeat(22);
      if (e.filled.length > 0) {
        const byLevel = [...new Set(e.filled.map((f) => f.processor))].map((p) => {
          const fs = e.filled.filter((f) => f.processor === p);
          return fs.length <= 2
            ? fs.map((f) => `${p} ${day(f.date)} (${n(f.rows)} rows)`).join(', ')
            : `${p} ${fs.length} dates (${dates(fs.map((f) => f.date).sort())})`;
        });
        lines.push(`${head}${c.green(`${sym('●', '#')} filled ${byLevel.join('; ')}`)}`);
      }
      const downstream = e.rebuilt.filter((r) => r.after.length > 0);
      for (const r of downstream) lines.push(`${pad}${sym('↳', '->')} ${rebuiltLine(r)}`);
      const byProcessor = (rs: readonly DemoRebuild[]): string =>
        [...new Set(rs.map((r) => r.processor))]
          .map((p) => `${p} ${dates(rs.filter((r) => r.processor === p).map((r) => r.date))}`)
          .join(', ');
      const own = e.rebuilt.filter((r) => r.after.length === 0 && r.trigger === 'resume');
      if (own.length > 0)
        lines.push(`${pad}${sym('↳', '->')} held run${own.length === 1 ? '' : 's'} ${byProcessor(own)} resumed by itself`);
      // Dates never queued while their input was missing: the input's heal queued them.
      const awaited = e.rebuilt.filter((r) => r.after.length === 0 && r.trigger !== 'resume');
      if (awaited.length > 0) lines.push(`${pad}${sym('↳', '->')} ${byProcessor(awaited)} built once its input was whole`);
      if (e.superseded.length > 0) {
        const levels = [...new Set(e.superseded.map((x) => x.processor))];
        const what = levels.map((p) => `${p} ${dates(e.superseded.filter((x) => x.processor === p).map((x) => x.date))}`).join(', ');
        lines.push(`${pad}${sym('↳', '->')} held run${e.superseded.length === 1 ? '' : 's'} ${what} already rebuilt by the backfill`);
      }
      if (lines.length === 0 && e.rebuilt.length === 0 && e.failed.length === 0) return [];
      for (const f of e.failed) lines.push(`${head}${c.red(`backfill failed: ${f}`)}`);
      return lines;
    }
    case 'Alert': {
      const f = formatAlert(e.notice);
      const color = e.notice.kind === 'healed' ? c.green : c.magenta;
      const lines = [`${c.dim(stamp(e.at))} ${color(`ALERT (${e.notice.kind})`)} ${f.title}`];
      if (e.notice.kind !== 'healed') lines.push(`${' '.repeat(14)}heal: ${e.notice.healCommand}`);
      return lines;
    }
    case 'Repeat':
      return [
        `${c.dim(span(e.dates[0] as IsoDate, e.dates[e.dates.length - 1] as IsoDate).padEnd(13))} ${c.magenta(sym('▲', '!'))} runs ${dates(e.dates)} of ${e.processors.join(' and ')} held again behind the open alert: ${e.alertsSent} new alert${e.alertsSent === 1 ? '' : 's'} sent`,
      ];
    case 'Status':
      return [
        `${c.dim(stamp(e.at))} ${c.bold(`$ smart-backfill status ${e.status.name} --weeks 3`)}`,
        ...renderCalendar(e.status.calendar, { tty: out.tty, c, stateLabels: NBA_CALENDAR_LABELS }).map((l) => `${' '.repeat(12)}${l}`),
      ];
    case 'Manual':
      return [
        `${c.dim(stamp(e.at))} ${c.bold(`$ ${e.command}`)}`,
        `${' '.repeat(14)}queued ${e.queued.length} manual backfill${e.queued.length === 1 ? '' : 's'} (${dates([...e.queued].sort())})${e.inFlight.length > 0 ? `; already in flight: ${dates(e.inFlight)}` : ''}`,
      ];
  }
};

const figureLines = (f: DemoFigures): string[] => {
  const auto = f.autoRecoveryMs.length > 0 ? f.autoRecoveryMs.map((ms) => formatDuration(ms)).join(', ') : 'none';
  const escalated = f.escalationRecoveryMs.length > 0 ? f.escalationRecoveryMs.map((ms) => formatDuration(ms)).join(', ') : 'not healed';
  const p = f.pipeline;
  // Grouped by date, each date's levels in the order they were re-run.
  const rebuilt = [...new Set(p.rebuilt.map((r) => r.date))]
    .map(
      (d) =>
        `${day(d)} (${p.rebuilt
          .filter((r) => r.date === d)
          .map((r) => r.processor)
          .join(' → ')})`,
    )
    .join(', ');
  return [
    `  days played            ${f.days} (${n(f.games)} games; ${n(f.rawRows)} box-score rows, ${n(f.summaryRows)} player rows, ${n(f.rollingRows)} team rows; ${n(f.runs)} runs recorded)`,
    `  gaps found             ${f.gapsFound} (level, date) pair${f.gapsFound === 1 ? '' : 's'} (incomplete caught: ${f.incompleteCaught.map(day).join(', ') || 'none'})`,
    `  healed automatically   ${f.healedAutomatically.length} (${f.healedAutomatically.map(day).join(', ')}); held runs: ${f.heldRuns}, resumed ${f.resumedRuns}, rebuilt by a backfill ${f.supersededRuns}`,
    `  pipeline               ${p.levels.join(' → ')}: ${p.upstreamBackfills.length} upstream backfill${p.upstreamBackfills.length === 1 ? '' : 's'} queued by a downstream run`,
    `                         re-run once an input healed: ${rebuilt || 'nothing'}`,
    `                         downstream dates rebuilt more than once: ${p.rebuiltMoreThanOnce}; downstream runs on incomplete inputs: ${p.runsOnIncompleteInputs}`,
    `  escalated              ${f.escalatedRuns} runs, ${f.alertsSent} alert${f.alertsSent === 1 ? '' : 's'} sent (on the level whose own data was missing; the levels below waited for it), ${f.healedNotices} healed notice${f.healedNotices === 1 ? '' : 's'}; ${f.manualBackfills} manual backfills`,
    `  time to recovery       automatic: ${auto}; escalated: ${escalated} (includes waiting for a person)`,
    `                         median ${f.medianRecoveryMs !== null ? formatDuration(f.medianRecoveryMs) : '–'} over ${f.healedGaps} healed gap${f.healedGaps === 1 ? '' : 's'} (first detection → whole again, as in the report)`,
  ];
};

interface DemoCommandOptions {
  readonly seed: number;
  readonly keep: boolean;
  /** `false` for `--no-report`; `undefined` writes it in the temp folder. */
  readonly report: string | false | undefined;
}

const demoOptions = (raw: RawOptions): DemoCommandOptions => ({
  seed: intOption('--seed', raw['seed'] ?? '20251116', 1, 2 ** 31 - 1),
  keep: switchOption(raw, 'keep'),
  report: raw['report'] === false ? false : textOption(raw, 'report'),
});

/** `demo`: the NBA season story on a simulated clock. */
export const demoCommand = async (out: Output, raw: RawOptions): Promise<number> => {
  const opts = demoOptions(raw);
  const { seed } = opts;
  const script = { ...DEFAULT_SCRIPT, seed };
  // The gap calendar report of the season, written before the demo's store is removed (--no-report skips it).
  const reportTo =
    opts.report === false ? undefined : resolve(out.io.cwd, opts.report ?? join(tmpdir(), `smart-backfill-demo-report-${seed}.html`));
  let reportPath: string | undefined;
  const onFinish = async (rt: Runtime): Promise<void> => {
    if (reportTo === undefined) return;
    const days = diffDays(script.end, script.start) + 1;
    const model = await buildReportFromRuntime(rt, {
      today: script.end,
      days,
      title: 'smart-backfill demo: NBA season gap report',
      // The demo's data is a game schedule: its own words where the report is otherwise neutral.
      stateLabels: { nothing_scheduled: 'no games scheduled' },
    });
    reportPath = writeReport(reportTo, model);
  };
  const result = await runNbaDemo(script, { keep: opts.keep, onFinish });
  if (out.json) {
    const events = result.events.map((e) => (e._tag === 'Status' ? { ...e, status: statusJson(e.status) } : e));
    out.printJson(
      jsonSafe({
        events,
        figures: result.figures,
        status: statusJson(result.status),
        statuses: result.statuses.map((s) => statusJson(s)),
        ...(opts.keep ? { dbPath: result.dbPath } : {}),
        reportPath: reportPath ?? null,
      }),
    );
    return 0;
  }
  const { c } = out;
  out.line(c.bold('smart-backfill demo: an NBA season through three levels, built nightly on a simulated clock'));
  out.line(c.dim('box_scores (raw scrape, 01:00) → player_game_summary (that day, 06:00) → team_rolling_10d (the last 10 days, 06:15)'));
  out.line(c.dim('policy: look back 30 days, ≥ 30 rows per game day (4 teams for the rolling table), auto-backfill gaps of ≤ 3 dates'));
  out.line();
  for (const e of result.events) for (const l of eventLines(out, e)) out.line(l);
  out.line();
  for (const status of result.statuses) {
    out.line(c.bold(`${status.name}, last 8 weeks to ${status.calendar.today}`));
    for (const l of renderCalendar(status.calendar, { tty: out.tty, c, stateLabels: NBA_CALENDAR_LABELS })) out.line(l);
  }
  out.line();
  out.line(c.bold('figures'));
  for (const l of figureLines(result.figures)) out.line(l);
  if (opts.keep) out.line(c.dim(`database kept at ${result.dbPath}`));
  if (reportPath !== undefined) out.line(`gap calendar report: ${reportPath} (open it in a browser)`);
  return 0;
};
