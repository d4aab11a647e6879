import { Command, CommanderError, Option } from 'commander';
import { CliError, messageOf } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import { processIo, type CliIo } from './io.js';
import { createOutput, type Output } from './output.js';

/** Global options every command accepts (before or after the command name). */
export interface GlobalOptions {
  readonly config?: string | undefined;
  readonly json?: boolean | undefined;
  readonly verbose?: boolean | undefined;
}

type Action = (out: Output, opts: Record<string, unknown>, args: readonly string[]) => Promise<number>;

const version = '0.1.0';

/**
 * Run the CLI with `argv` (without `node` and the script: `['check', '--input', 'x.json']`).
 * Resolves with the exit code; never calls `process.exit` and never throws.
 */
export const main = async (argv: readonly string[], ioOverrides: Partial<CliIo> = {}): Promise<number> => {
  const io: CliIo = { ...processIo(), ...ioOverrides };
  let code: number = ExitCode.ok;
  const globalsOf = (cmd: Command): GlobalOptions & Record<string, unknown> => cmd.optsWithGlobals();

  const program = new Command('smart-backfill')
    .description('Keep daily data pipelines whole: find gaps, queue backfills, hold and resume runs.')
    .version(version, '-V, --version')
    .option('-c, --config <file>', 'config file (default: smart-backfill.config.{json,ts,js} in the current folder)')
    .option('--json', 'print JSON for machines instead of human text')
    .option('--verbose', 'print stack traces and debug logs')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      getOutHelpWidth: () => io.stdout.columns ?? 100,
      getErrHelpWidth: () => io.stderr.columns ?? 100,
    })
    .addHelpText(
      'after',
      `
Exit codes:
  0  ran, or would proceed          3  held: a gap is being backfilled, the run resumes by itself
  1  error                          4  escalated: the gap needs a person
  2  bad input or config

Examples:
  smart-backfill check --input scenario.json
  smart-backfill run player_game_summary --date 2025-11-16
  smart-backfill run player_game_summary --date yesterday
  smart-backfill worker
  smart-backfill backfill player_game_summary --from 2025-11-03 --to 2025-11-07
  smart-backfill plan --from 2025-11-01 --to 2025-11-30
  smart-backfill status
  smart-backfill assess player_game_summary --days 30
  smart-backfill metrics --format prometheus
  smart-backfill report --out report.html
  smart-backfill init --bigquery --project my-project
  smart-backfill init --pubsub --apply
  smart-backfill alert test
  smart-backfill demo`,
    );

  const wrap =
    (action: Action) =>
    async (...params: unknown[]): Promise<void> => {
      const cmd = params[params.length - 1] as Command;
      const opts = globalsOf(cmd);
      const out = createOutput(io, { json: opts.json === true, verbose: opts.verbose === true });
      const args = params.slice(0, -2).filter((a): a is string => typeof a === 'string');
      const { configOption, resolveDateOptions } = await import('./options.js');
      const withDates = await resolveDateOptions(out, opts, async () => {
        const { configFrom } = await import('./commands/shared.js');
        return (await configFrom(out, configOption(opts))).timeZone;
      });
      code = await action(out, withDates, args);
    };

  const lazy =
    <K extends string>(load: () => Promise<Record<K, Action>>, name: K): Action =>
    async (out, opts, args) =>
      (await load())[name](out, opts, args);

  program
    .command('check')
    .description('Check a date without running anything: from a JSON file of plain date sets (--input), or against the configured store')
    .argument('[processor]', 'a configured processor (with --date)')
    .option('-i, --input <file>', 'JSON { asOf, expectedDates, recordCounts, policy?, isBackfill? }; "-" reads standard input')
    .option('-d, --date <date>', "the run date to check (YYYY-MM-DD, today, yesterday or -N; in the config's timeZone)")
    .addHelpText(
      'after',
      '\nExamples:\n  smart-backfill check --input scenario.json --json\n  smart-backfill check player_game_summary --date 2025-11-16',
    )
    .action(wrap(lazy(() => import('./commands/check.js'), 'checkCommand')));

  program
    .command('run')
    .description('Check, then run the processor for a date (or hold it and queue backfills, or escalate)')
    .argument('<processor>', 'a configured processor')
    .option('-d, --date <date>', "the run date (YYYY-MM-DD, today, yesterday or -N; in the config's timeZone)")
    .option('--backfill', 'run as a backfill: skip the check (a backfill must not wait for itself)')
    .addOption(new Option('--trigger <trigger>', 'why the run happens').choices(['scheduled', 'manual']).default('scheduled'))
    .action(wrap(lazy(() => import('./commands/run.js'), 'runCommand')));

  program
    .command('worker')
    .description('Process the backfill queue (and republish unconfirmed requests, requeue expired leases) until SIGINT/SIGTERM')
    .option('--once', 'process what is due now, then exit')
    .option('--concurrency <n>', 'backfills processed at once')
    .action(wrap(lazy(() => import('./commands/worker.js'), 'workerCommand')));

  program
    .command('backfill')
    .description("Queue manual backfills for a date range (the seed's manual backfill script, tracked and deduplicated)")
    .argument('<processor>', 'a configured processor')
    .option('--from <date>', 'first date (YYYY-MM-DD, today, yesterday or -N)')
    .option('--to <date>', 'last date, inclusive (YYYY-MM-DD, today, yesterday or -N)')
    .option('--dry-run', 'list what would be queued, queue nothing')
    .option('--only-missing', 'only dates whose data is missing or incomplete (the default)')
    .option('--force', 'also rebuild dates whose data is already complete')
    .option('--all-dates', 'every date in the range, not only the dates the schedule expects')
    .option(
      '--with-downstream',
      'when each date is filled, rebuild the dates of the processors that read it (dependsOn), once each, in order',
    )
    .option('-y, --yes', 'queue without asking, however many dates')
    .option('--confirm-above <n>', 'on a terminal, ask before queueing more than n dates (default 31)')
    .addOption(new Option('--priority <priority>', 'request priority').choices(['high', 'normal', 'low']).default('high'))
    .option('--by <name>', 'requested_by (default: $USER)')
    .action(wrap(lazy(() => import('./commands/backfill.js'), 'backfillCommand')));

  program
    .command('plan')
    .description('The backfills and re-runs the data calls for across the dependency graph, in order; writes nothing')
    .argument('[processor]', 'only this processor and what reads it (default: every processor)')
    .option('--from <date>', 'first date (YYYY-MM-DD, today, yesterday or -N)', '-30')
    .option('--to <date>', 'last date, inclusive (YYYY-MM-DD, today, yesterday or -N)', 'yesterday')
    .action(wrap(lazy(() => import('./commands/plan.js'), 'planCommand')));

  program
    .command('status')
    .description('Open and recent requests, held runs, open alerts, and a calendar of the last weeks')
    .argument('[processor]', 'only this processor')
    .option('--weeks <n>', 'weeks in the calendar', '4')
    .option('--today <date>', 'the last day shown (default: today, UTC)')
    .action(wrap(lazy(() => import('./commands/status.js'), 'statusCommand')));

  program
    .command('assess')
    .description(
      "Is smart-backfill needed? The seed's three checks (gap frequency, dependency failures, manual backfill time) from the store, with suggested policy values",
    )
    .argument('[processor]', 'only this processor')
    .option('--days <n>', 'days to look back', '30')
    .option('--today <date>', 'the day after the window (default: today, UTC)')
    .option('--manual-minutes <n>', 'minutes per week spent on manual backfills, if you tracked them yourself')
    .option('--dependency-days <n>', 'the longest look-back your processor needs (for the suggested lookbackDays)')
    .option('--alternatives-considered', 'tick the checklist item "considered simpler alternatives"')
    .action(wrap(lazy(() => import('./commands/assess.js'), 'assessCommand')));

  program
    .command('metrics')
    .description('Monitoring per processor: gap detections, backfills, success rate, durations, time to recovery, held runs, escalations')
    .argument('[processor]', 'only this processor')
    .option('--since <date>', 'start of the window (default: 30 days ago)')
    .option('--until <date>', 'last day of the window, inclusive (default: now)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'prometheus']).default('table'))
    .action(wrap(lazy(() => import('./commands/metrics.js'), 'metricsCommand')));

  program
    .command('report')
    .description('Write the gap calendar report: one self-contained HTML file (no network), KPIs, the assessment, requests and held runs')
    .option('-p, --processor <name...>', 'only these processors (default: all)')
    .option('--days <n>', 'days shown, ending today', '180')
    .option('--today <date>', 'the last day shown (default: today, UTC)')
    .option('-o, --out <file>', 'where to write the HTML', 'smart-backfill-report.html')
    .action(wrap(lazy(() => import('./commands/report.js'), 'reportCommand')));

  program
    .command('init')
    .description(
      'Write a starter smart-backfill.config.json and create the SQLite schema; or print (--apply: create) the BigQuery tables or Pub/Sub resources',
    )
    .option('--force', 'overwrite an existing config')
    .option('--db <path>', "SQLite tracking file, smart-backfill's own tables (default: ./.smart-backfill/tracking.db)")
    .option('--warehouse <path>', 'SQLite file with your schedule and target tables, read-only (default: ./warehouse.db)')
    .option(
      '--bigquery',
      'print the DDL of the BigQuery tracking dataset (store.type "bigquery", or --project/--dataset); writes no config',
    )
    .option(
      '--pubsub',
      'print the gcloud commands for the Pub/Sub queue (queue.type "pubsub", or --topic/--subscription); writes no config',
    )
    .option('--apply', 'with --bigquery/--pubsub: create them now (needs credentials) and print what was done')
    .option('--project <id>', 'Google Cloud project (default: store.projectId / queue.projectId, or GOOGLE_CLOUD_PROJECT)')
    .option('--dataset <name>', 'BigQuery tracking dataset (default: store.dataset, or smart_backfill)')
    .option('--location <location>', 'BigQuery dataset location, e.g. US, EU, europe-west1')
    .option('--topic <name>', 'Pub/Sub topic (default: queue.topic, or smart-backfill-requests)')
    .option('--subscription <name>', 'Pub/Sub worker subscription (default: queue.subscription, or smart-backfill-worker)')
    .option('--dead-letter-topic <name>', 'Pub/Sub dead-letter topic (default: smart-backfill-dead-letters)')
    .option('--max-delivery-attempts <n>', 'deliveries before a message is dead-lettered, 5-100 (default 5)')
    .option('--api-endpoint <host:port>', 'a Pub/Sub emulator (plain text, no credentials)')
    .addHelpText(
      'after',
      '\nExamples:\n  smart-backfill init\n  smart-backfill init --bigquery --project my-project --dataset nba_processing\n  smart-backfill init --bigquery --apply\n  smart-backfill init --pubsub --project my-project > pubsub.sh\n  smart-backfill init --pubsub --apply',
    )
    .action(wrap(lazy(() => import('./commands/init.js'), 'initCommand')));

  const alert = program.command('alert').description('Alert channels: send a test notice through them');
  alert
    .command('test')
    .description('Send a sample escalation (marked [TEST]) through every configured alert channel and say which delivered')
    .option('-p, --processor <name>', 'only the channels of this processor (default: all channels)')
    .addHelpText(
      'after',
      '\nExit codes: 0 every channel delivered, 1 a channel failed, 2 a config problem (e.g. a missing environment variable).',
    )
    .action(wrap(lazy(() => import('./commands/alert.js'), 'alertTestCommand')));

  program
    .command('demo')
    .description('Play an NBA season through three levels on a simulated clock: a lost raw day, a partial day, an outage, how each heals')
    .option('--keep', 'keep the demo database and print its path')
    .option('--seed <n>', 'data generator seed', '20251116')
    .option('--report <file>', "where to write the season's gap calendar report (default: in the temp folder)")
    .option('--no-report', 'do not write the HTML report')
    .action(wrap(lazy(() => import('./commands/demo.js'), 'demoCommand')));

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.ok;
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    }
    const verbose = argv.includes('--verbose') || (io.env['DEBUG'] ?? '') !== '';
    if (e instanceof CliError) {
      for (const l of e.lines) io.stderr.write(`${/^\s/.test(l) ? '' : 'error: '}${l}\n`);
      if (verbose && e.cause !== undefined) io.stderr.write(`${(e.cause as Error).stack ?? String(e.cause)}\n`);
      return e.exitCode;
    }
    io.stderr.write(`error: ${messageOf(e)}\n`);
    if (verbose) io.stderr.write(`${(e as Error).stack ?? ''}\n`);
    else io.stderr.write('(run with --verbose for details)\n');
    return ExitCode.error;
  }
};
