#!/usr/bin/env node
import { main } from './main.js';

// Signals stop long-running commands (worker) gracefully; a second signal exits at once.
const stop = new AbortController();
const onSignal = (signal: NodeJS.Signals): void => {
  if (stop.signal.aborted) process.exit(130);
  stop.abort(signal);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// A reader that stops early (`smart-backfill --help | head`) closes the pipe. That is not an
// error worth a stack trace: stop a worker gracefully and let other output go nowhere.
const onStdoutError = (e: NodeJS.ErrnoException): void => {
  if (e.code !== 'EPIPE') throw e;
  if (!stop.signal.aborted) stop.abort('EPIPE');
};
process.stdout.on('error', onStdoutError);

process.exitCode = await main(process.argv.slice(2), { signal: stop.signal });
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
