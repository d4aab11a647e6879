import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatAlert, formatDateRanges, formatDuration } from '@smart-backfill/alerts';
import { diffDays, type IsoDate } from '@smart-backfill/core';
import { DEFAULT_SCRIPT, DEMO_MIN_ROWS, runNbaDemo, type DemoEvent, type DemoFigures } from '../demo/nba-demo.js';
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

const eventLines = (out: Output, e: DemoEvent): string[] => {
  const { c } = out;
  const sym = (s: string, plain: string): string => (out.tty ? s : plain);
  switch (e._tag) {
    case 'Quiet':
      return [
        `${c.dim(span(e.from, e.to).padEnd(13))} ${c.green(sym('●', '#'))} ${e.runs} nightly run${e.runs === 1 ? '' : 's'} ran cleanly ${c.dim(`(${n(e.games)} games, ${n(e.rows)} player rows)`)}`,
      ];
    case 'SchedulerDown':
      return [
        `${c.dim(span(e.dates[0] as IsoDate, e.dates[e.dates.length - 1] as IsoDate).padEnd(13))} ${c.red(sym('✗', 'x'))} the nightly scheduler is down: no runs for ${e.dates.length} days`,
      ];
    case 'Run': {
      const o = e.outcome;
      const head = `${c.dim(stamp(e.at))} run ${day(e.date)}: `;
      switch (o._tag) {
        case 'Ran':
          return e.partial !== undefined
            ? [
                `${head}${c.yellow(sym('◐', '~'))} ran, but only ${e.partial.games} of ${e.partial.finalGames} box scores had arrived (${e.partial.rows} rows); nobody noticed`,
              ]
            : [`${head}${c.green('ran')}`];
        case 'Failed':
          return [`${head}${c.red(`${sym('✗', 'x')} failed: ${o.error.message}`)}`];
        case 'Held': {
          const why = o.analysis.missingDates
            .map((d) => {
              const inc = o.analysis.incompleteDates.find((i) => i.date === d);
              return inc !== undefined ? `${day(d)} incomplete (${inc.count} rows < ${DEMO_MIN_ROWS})` : `${day(d)} missing`;
            })
            .join(', ');
          return [
            `${head}${c.yellow(`${sym('◷', 'q')} held`)}: ${why} → backfill queued for ${o.queued.map((r) => day(r.date)).join(', ') || 'nothing new'}`,
          ];
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
      if (e.filled.length > 0) {
        const what =
          e.filled.length <= 2
            ? e.filled.map((f) => `${day(f.date)} (${f.rows} rows)`).join(', ')
            : `${e.filled.length} dates (${dates(e.filled.map((f) => f.date).sort())})`;
        const resumed =
          e.resumed.length > 0 ? ` → held run${e.resumed.length === 1 ? '' : 's'} ${dates([...e.resumed].sort())} resumed by itself` : '';
        const superseded =
          e.superseded.length > 0
            ? `; held run${e.superseded.length === 1 ? '' : 's'} ${dates([...e.superseded].sort())} already rebuilt by the backfill`
            : '';
        lines.push(`${head}${c.green(`${sym('●', '#')} filled ${what}`)}${resumed}${superseded}`);
      }
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
        `${c.dim(span(e.dates[0] as IsoDate, e.dates[e.dates.length - 1] as IsoDate).padEnd(13))} ${c.magenta(sym('▲', '!'))} runs ${dates(e.dates)} escalated again; the alert is already open: ${e.alertsSent} new alert${e.alertsSent === 1 ? '' : 's'} sent`,
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
  return [
    `  days played            ${f.days} (${n(f.games)} games, ${n(f.summaryRows)} player rows, ${f.runs} runs recorded)`,
    `  gaps found             ${f.gapsFound} date${f.gapsFound === 1 ? '' : 's'} (incomplete caught: ${f.incompleteCaught.map(day).join(', ') || 'none'})`,
    `  healed automatically   ${f.healedAutomatically.length} (${f.healedAutomatically.map(day).join(', ')}); held runs: ${f.heldRuns.length}, resumed ${f.resumedRuns.length}, rebuilt by a backfill ${f.supersededRuns.length}`,
    `  escalated              ${f.escalatedRuns} runs, ${f.alertsSent} alert sent, ${f.healedNotices} healed notice; ${f.manualBackfills} manual backfills`,
    `  time to recovery       automatic: ${auto}; escalated: ${f.escalationRecoveryMs !== null ? formatDuration(f.escalationRecoveryMs) : 'not healed'} (includes waiting for a person)`,
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
        ...(opts.keep ? { dbPath: result.dbPath } : {}),
        reportPath: reportPath ?? null,
      }),
    );
    return 0;
  }
  const { c } = out;
  out.line(c.bold('smart-backfill demo: an NBA season, player_game_summary built nightly from raw box scores'));
  out.line(c.dim('policy: look back 30 days, ≥ 30 rows per game day, auto-backfill gaps of ≤ 3 dates; simulated clock'));
  out.line();
  for (const e of result.events) for (const l of eventLines(out, e)) out.line(l);
  out.line();
  out.line(c.bold(`${result.status.name}, last 8 weeks to ${result.status.calendar.today}`));
  for (const l of renderCalendar(result.status.calendar, { tty: out.tty, c, stateLabels: NBA_CALENDAR_LABELS })) out.line(l);
  out.line();
  out.line(c.bold('figures'));
  for (const l of figureLines(result.figures)) out.line(l);
  if (opts.keep) out.line(c.dim(`database kept at ${result.dbPath}`));
  if (reportPath !== undefined) out.line(`gap calendar report: ${reportPath} (open it in a browser)`);
  return 0;
};
