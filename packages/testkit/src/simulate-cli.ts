#!/usr/bin/env node
/**
 * `npm run simulate -- --seed 7 --processors 20 --days 365` — run the deterministic
 * simulator and print its report (a table, or JSON with --json). Exits 1 when
 * the report lists violations, so CI can run it as a check.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { simulate, type SimulationOptions } from './simulate.js';
import { simulateGraph, type GraphSimulationReport } from './simulate-graph.js';
import { formatReport } from './simulation-report.js';

const USAGE = `Usage: simulate [options]

  --seed N                   random seed (default 20251116)
  --processors N             processors (default 20)
  --days N                   simulated days with faults (default 365)
  --failure-rate P           chance a processor's day goes wrong (default 0.05)
  --outage-share P           share of those that are multi-day outages (default 0.2)
  --partial-share P          share that are partial writes below the minimum (default 0.25)
  --backfill-failure-rate P  chance one backfill run throws (default 0.02)
  --publish-failure-rate P   chance a publish is reported failed (default 0.2)
  --ambiguous-rate P         chance a publish went through but was reported failed (default half the above)
  --insert-failure-rate P    chance the guard's tracker insert throws (default 0.02)
  --crash-rate P             chance a worker dies while handling a delivery (default 0.05)
  --redelivery-rate P        chance an ack is lost (default 0.3)
  --max-deliveries N         lost acks stop once a message was delivered N times (default 3)
  --workers N                worker processes (default 2)
  --threshold N              policy autoBackfillThreshold (default 3)
  --lookback N               policy lookbackDays (default 30)
  --person-minutes N         how long a person takes to act on an alert (default 240)
  --drain-days N             days without new data faults at the end (default 7)
  --graph                    simulate testkit's 13-processor pipeline graph instead (seed, days,
                             failure-rate for raw days, restatement-rate, crash-rate, redelivery-rate,
                             publish-failure-rate, workers, drain-days apply)
  --restatement-rate P       graph: chance a raw day is restated and backfilled with its downstream (default 0.01)
  --json                     print the report as JSON
  -h, --help                 this text`;

const SPEC = {
  seed: { type: 'string' },
  processors: { type: 'string' },
  days: { type: 'string' },
  'failure-rate': { type: 'string' },
  'outage-share': { type: 'string' },
  'partial-share': { type: 'string' },
  'backfill-failure-rate': { type: 'string' },
  'publish-failure-rate': { type: 'string' },
  'ambiguous-rate': { type: 'string' },
  'insert-failure-rate': { type: 'string' },
  'crash-rate': { type: 'string' },
  'redelivery-rate': { type: 'string' },
  'max-deliveries': { type: 'string' },
  workers: { type: 'string' },
  threshold: { type: 'string' },
  lookback: { type: 'string' },
  'person-minutes': { type: 'string' },
  'drain-days': { type: 'string' },
  graph: { type: 'boolean' },
  'restatement-rate': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

const FLAG_OF: readonly (readonly [string, string])[] = [
  ['dailyFailureRate', 'failure-rate'],
  ['outageShare', 'outage-share'],
  ['partialShare', 'partial-share'],
  ['backfillFailureRate', 'backfill-failure-rate'],
  ['publishFailureRate', 'publish-failure-rate'],
  ['ambiguousPublishRate', 'ambiguous-rate'],
  ['insertFailureRate', 'insert-failure-rate'],
  ['workerCrashRate', 'crash-rate'],
  ['redeliveryRate', 'redelivery-rate'],
  ['maxDeliveries', 'max-deliveries'],
  ['personResponseMinutes', 'person-minutes'],
  ['drainDays', 'drain-days'],
  ['autoBackfillThreshold', 'threshold'],
  ['lookbackDays', 'lookback'],
  ['processors', 'processors'],
  ['days', 'days'],
  ['workers', 'workers'],
  ['seed', 'seed'],
];

const num = (flag: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got ${JSON.stringify(raw)}`);
  return n;
};

/** Parse flags, run, and say what to print and which exit code to use. Never throws. */
export const runSimulateCli = async (
  argv: readonly string[],
): Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }> => {
  try {
    const { values } = parseArgs({ args: [...argv], options: SPEC, strict: true, allowPositionals: false });
    if (values.help === true) return { code: 0, stdout: USAGE, stderr: '' };
    const threshold = num('threshold', values.threshold);
    const lookback = num('lookback', values.lookback);
    const policy = {
      ...(threshold === undefined ? {} : { autoBackfillThreshold: threshold }),
      ...(lookback === undefined ? {} : { lookbackDays: lookback }),
    };
    const opts: SimulationOptions = {
      seed: num('seed', values.seed) ?? 20251116,
      processors: num('processors', values.processors),
      days: num('days', values.days),
      dailyFailureRate: num('failure-rate', values['failure-rate']),
      outageShare: num('outage-share', values['outage-share']),
      partialShare: num('partial-share', values['partial-share']),
      backfillFailureRate: num('backfill-failure-rate', values['backfill-failure-rate']),
      publishFailureRate: num('publish-failure-rate', values['publish-failure-rate']),
      ambiguousPublishRate: num('ambiguous-rate', values['ambiguous-rate']),
      insertFailureRate: num('insert-failure-rate', values['insert-failure-rate']),
      workerCrashRate: num('crash-rate', values['crash-rate']),
      redeliveryRate: num('redelivery-rate', values['redelivery-rate']),
      maxDeliveries: num('max-deliveries', values['max-deliveries']),
      workers: num('workers', values.workers),
      personResponseMinutes: num('person-minutes', values['person-minutes']),
      drainDays: num('drain-days', values['drain-days']),
      policy,
    };
    if (values.graph === true) {
      const g = await simulateGraph({
        seed: opts.seed,
        days: opts.days,
        drainDays: opts.drainDays,
        rawFailureRate: opts.dailyFailureRate,
        restatementRate: num('restatement-rate', values['restatement-rate']),
        workerCrashRate: opts.workerCrashRate,
        redeliveryRate: opts.redeliveryRate,
        publishFailureRate: opts.publishFailureRate,
        workers: opts.workers,
      });
      const bad = g.runsOnIncompleteInputs + g.rebuiltMoreThanOnce + g.gapsLeft > 0 || g.upstreamGapsHealed < g.upstreamGaps;
      return { code: bad ? 1 : 0, stdout: values.json === true ? JSON.stringify(g, null, 2) : formatGraphReport(g), stderr: '' };
    }
    const report = await simulate(opts);
    const stdout = values.json === true ? JSON.stringify(report, null, 2) : formatReport(report);
    return { code: report.violations.length > 0 ? 1 : 0, stdout, stderr: '' };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    let clean = message.replace(/^\[smart-backfill\] \[testkit\] simulate: /, '');
    // Say it in the words the user typed: flags, not option names.
    for (const [option, flag] of FLAG_OF) clean = clean.replace(new RegExp(`^${option}\\b`), `--${flag}`);
    return { code: 2, stdout: '', stderr: `[smart-backfill] [testkit] simulate: ${clean}\n\n${USAGE}` };
  }
};

const formatGraphReport = (g: GraphSimulationReport): string => {
  const t = g.timeToWholeMinutes;
  const crashes = Object.entries(g.injected.crashesByPoint)
    .sort()
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  return [
    `graph simulation, seed ${g.seed}: ${g.processors} processors in ${g.levels} levels, ${g.days} days`,
    `  raw days lost ${g.injected.rawDaysLost}, late ${g.injected.rawDaysLate}, outages ${g.injected.outages} (${g.injected.outageDays} days), restated ${g.injected.restatements}`,
    `  worker crashes ${g.injected.workerCrashes} (${crashes}), lost acks ${g.injected.lostAcks}, publish failures ${g.injected.publishFailures}`,
    `  runs on incomplete inputs ${g.runsOnIncompleteInputs}, dates rebuilt more than once ${g.rebuiltMoreThanOnce}, gaps left ${g.gapsLeft}`,
    `  upstream gaps ${g.upstreamGaps}, whole again ${g.upstreamGapsHealed}; time to whole (min) median ${t.median} / p95 ${t.p95} / max ${t.max}`,
    `  held runs ${g.runsHeld}, rebuilds ${g.downstreamRebuilds} (${g.requests.upstreamHealed} queued as upstream_healed), re-executed after a crash ${g.reexecutedAfterCrash}`,
    ...g.examples.map((e) => `  ! ${e}`),
  ].join('\n');
};

const invokedDirectly = (): boolean => {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
};

if (invokedDirectly()) {
  const { code, stdout, stderr } = await runSimulateCli(process.argv.slice(2));
  if (stdout !== '') process.stdout.write(`${stdout}\n`);
  if (stderr !== '') process.stderr.write(`${stderr}\n`);
  process.exitCode = code;
}
