import type { BackfillQueue } from '@smart-backfill/core';
import type { DeliveryOutcome, Worker } from '@smart-backfill/engine';
import { messageOf } from '../cli-error.js';
import { configOption, intOption, switchOption, type ConfigOption, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime/runtime.js';
import { withRuntime } from './shared.js';

interface Tally {
  completed: number;
  retrying: number;
  failed: number;
  resumed: number;
  other: number;
}

/**
 * The queue with every receive waiting server-side up to `waitMs`. The engine's
 * `runOnce` asks for `waitMs: 0`, which over Pub/Sub is a Pull with
 * `returnImmediately` — an answer Google documents may come back empty while
 * messages wait. Then `--once` would stop with work left and the loop would spin;
 * a short long-poll (answered as soon as a message is there) avoids both.
 * `signal` cancels a pull in progress, so Ctrl-C does not wait for it.
 */
/** Messages one Pub/Sub pull may take for a worker (more than `--concurrency` wait their turn, leases kept). */
const PUBSUB_PREFETCH = 100;

/**
 * Default `--concurrency` with `queue: pubsub`. One at a time, a pulled batch of 100
 * waits on each backfill's own steps in turn; eight at once overlap them and share
 * SQLite commits (the store batches writes issued together): the CPU per no-op
 * backfill fell to about 0.7 ms, within a 1,000/s budget (docs/performance.md). The
 * SQLite queue keeps 1: it hands out one message per claim and was never the bottleneck.
 */
const PUBSUB_CONCURRENCY = 8;

const longPolling = (queue: BackfillQueue, waitMs: number, signal: AbortSignal | undefined): BackfillQueue => ({
  publish: (messages) => queue.publish(messages),
  receive: (o) => queue.receive({ ...o, waitMs: Math.max(o.waitMs ?? 0, waitMs), signal: o.signal ?? signal }),
});

const describe = async (rt: Runtime, o: DeliveryOutcome): Promise<{ text: string; kind: 'ok' | 'warn' | 'bad' | 'dim' }> => {
  const id = 'requestId' in o ? o.requestId : null;
  const r = id !== null ? await rt.tracker.get(id) : undefined;
  const what = r !== undefined ? `${r.processorName} ${r.date}` : (id ?? 'message');
  switch (o._tag) {
    case 'Completed':
      return {
        text: `filled ${what} (attempt ${o.attempt})${o.resumed.length > 0 ? `; resumed held run${o.resumed.length === 1 ? '' : 's'} ${o.resumed.join(', ')}` : ''}`,
        kind: 'ok',
      };
    case 'Retrying':
      return { text: `failed ${what} (attempt ${o.attempt}): ${o.error}; retry in ${Math.round(o.delayMs / 1000)}s`, kind: 'warn' };
    case 'FailedPermanently':
      return { text: `gave up on ${what} after attempt ${o.attempt}: ${o.error}`, kind: 'bad' };
    case 'Rejected':
      return { text: `rejected ${what}: ${o.reason}`, kind: 'bad' };
    case 'DeadLettered':
      return { text: `dead-lettered a message: ${o.reason}`, kind: 'bad' };
    case 'Error':
      return { text: `could not process ${what}: ${o.error}`, kind: 'bad' };
    case 'AlreadyDone':
    case 'Duplicate':
    case 'Busy':
    case 'NotYetDue':
    case 'Stale':
    case 'Released':
      return { text: `${o._tag.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}: ${what}`, kind: 'dim' };
  }
};

/** From this many ready messages, `worker --once` on a terminal shows a progress bar. */
const PROGRESS_FROM = 20;

interface Progress {
  tick(): void;
  log(text: string): void;
  stop(): void;
}

/**
 * A progress line on stderr for a long `--once` run, so a wait of minutes is visibly
 * moving. Only on a terminal, and only when the store can say how deep the queue is.
 * Drawn by hand, synchronously: the worker's loop rarely yields to a timer-driven bar.
 */
const progressBar = async (out: Output, rt: Runtime): Promise<Progress | undefined> => {
  if (out.json || out.io.stderr.isTTY !== true || rt.queueDepth === undefined) return undefined;
  let total = (await rt.queueDepth()).ready;
  if (total < PROGRESS_FROM) return undefined;
  const width = 30;
  let done = 0;
  const clear = (): void => void out.io.stderr.write('\r\x1b[K');
  const draw = (): void => {
    const filled = Math.round((done / total) * width);
    out.io.stderr.write(`\r\x1b[Kbackfills [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  };
  draw();
  return {
    tick: () => {
      done++;
      // A retried message comes back: the total grows rather than the bar passing its end.
      total = Math.max(total, done);
      draw();
    },
    log: (text) => {
      clear();
      out.io.stdout.write(text);
      draw();
    },
    stop: clear,
  };
};

interface WorkerCommandOptions extends ConfigOption {
  readonly once: boolean;
  /** Default: the config's `worker.concurrency`, else 1 (or more on Pub/Sub). */
  readonly concurrency: number | undefined;
}

const workerOptions = (raw: RawOptions): WorkerCommandOptions => ({
  ...configOption(raw),
  once: switchOption(raw, 'once'),
  concurrency: raw['concurrency'] !== undefined ? intOption('--concurrency', raw['concurrency'], 1, 64) : undefined,
});

/**
 * `worker [--once] [--concurrency N]`: process the backfill queue. Each loop takes a
 * batch, processes it, and sleeps when idle; the outbox relay and the lease sweeper
 * run on their intervals. SIGINT/SIGTERM finish the batch in hand, then stop.
 */
export const workerCommand = async (out: Output, raw: RawOptions): Promise<number> => {
  const opts = workerOptions(raw);
  return withRuntime(
    out,
    opts,
    async (rt) => {
      const engine = await import('@smart-backfill/engine');
      const cfg = rt.config.worker ?? {};
      const pubsub = rt.config.queue.type === 'pubsub';
      const concurrency = opts.concurrency ?? cfg.concurrency ?? (pubsub ? PUBSUB_CONCURRENCY : 1);
      const once = opts.once;
      // Every configured processor, guarded: the worker's allowlist, and each one's policy.
      const guards = new Map(await Promise.all(rt.config.processors.map(async (p) => [p.name, await rt.guard(p.name)] as const)));
      const signal = out.io.signal;
      const pollMs = cfg.pollIntervalMs ?? 1000;
      // Only Pub/Sub needs it: the store's queue answers a zero-wait receive truthfully.
      // `--once` ends on an empty answer, so its wait stays short whatever the poll interval.
      const longPoll = pubsub;
      const queue = longPoll ? longPolling(rt.queue, once ? Math.min(pollMs, 1000) : pollMs, signal) : rt.queue;
      // Pub/Sub: one pull (and one lease call) per batch instead of per message; the batch
      // waits its turn under `concurrency` with its leases kept by the worker's heartbeat.
      const take = longPoll ? { max: Math.max(concurrency, PUBSUB_PREFETCH) } : undefined;
      // Warnings and errors always reach stderr; info and debug with --verbose.
      const logger = rt.logger;
      // One worker whose `concurrency` bounds the backfills running at once: N workers
      // each running a batch of 10 ran up to 10·N, and each added a listener to the signal.
      const workers: Worker[] = Array.from({ length: 1 }, (_, i) =>
        engine.createWorker({
          queue,
          tracker: rt.tracker,
          runLog: rt.runLog,
          registry: guards,
          clock: rt.clock,
          // Each processor retries and cascades under its own policy, as its guard counts.
          policyFor: (name) => guards.get(name)?.policy,
          guardFor: (name) => guards.get(name),
          // A completed backfill heals what reads it (dependsOn).
          pipeline: rt.config.graph,
          logger,
          ...(cfg.leaseMs !== undefined ? { leaseMs: cfg.leaseMs } : {}),
          ...(cfg.backoff !== undefined ? { backoff: cfg.backoff } : {}),
          workerId: `cli-${process.pid}-${i + 1}`,
          concurrency,
          batchSize: concurrency,
        }),
      );
      // In --once mode nobody else is publishing right now, so unconfirmed requests are relayed at once.
      const relay = engine.createRelay({
        tracker: rt.tracker,
        queue: rt.queue,
        clock: rt.clock,
        logger,
        ...(once ? { olderThanMs: 0 } : {}),
      });
      const sweeper = engine.createSweeper({ tracker: rt.tracker, queue: rt.queue, clock: rt.clock, logger });
      const tally: Tally = { completed: 0, retrying: 0, failed: 0, resumed: 0, other: 0 };
      let progress: Progress | undefined;
      const report = async (o: DeliveryOutcome): Promise<void> => {
        if (o._tag === 'Completed') {
          tally.completed++;
          tally.resumed += o.resumed.length;
        } else if (o._tag === 'Retrying') tally.retrying++;
        else if (o._tag === 'FailedPermanently' || o._tag === 'Rejected' || o._tag === 'DeadLettered' || o._tag === 'Error') tally.failed++;
        else tally.other++;
        if (out.json) {
          out.line(JSON.stringify({ at: new Date(rt.clock.now()).toISOString(), ...o }));
          return;
        }
        const d = await describe(rt, o);
        const color = d.kind === 'ok' ? out.c.green : d.kind === 'warn' ? out.c.yellow : d.kind === 'bad' ? out.c.red : out.c.dim;
        const text = `${out.c.dim(new Date(rt.clock.now()).toISOString().slice(11, 19))} ${color(d.text)}`;
        // With a bar on the same terminal, lines go above it; a piped stdout keeps every line.
        if (progress !== undefined && out.io.stdout.isTTY === true) progress.log(`${text}\n`);
        else out.line(text);
        progress?.tick();
      };
      const housekeeping = async (
        what: { readonly sweep: boolean; readonly relay: boolean } = { sweep: true, relay: true },
      ): Promise<void> => {
        const s = what.sweep ? await sweeper.runOnce() : { expired: 0 };
        const r = what.relay ? await relay.runOnce() : { republished: 0 };
        if (!out.json && (s.expired > 0 || r.republished > 0)) {
          out.line(out.c.dim(`requeued ${s.expired} expired lease(s), republished ${r.republished} request(s)`));
        }
      };

      if (once) {
        await housekeeping();
        progress = await progressBar(out, rt);
        for (let i = 0; i < 10_000; i++) {
          const ticks = await Promise.all(workers.map((w) => w.runOnce(take)));
          for (const t of ticks) for (const o of t.outcomes) await report(o);
          if (ticks.every((t) => t.received === 0) || signal?.aborted === true) break;
        }
      } else {
        if (!out.json) out.line(out.c.dim(`worker started (${concurrency} at once); Ctrl-C stops after the current backfill`));
        const relayEvery = cfg.relayIntervalMs ?? 30_000;
        const sweepEvery = cfg.sweepIntervalMs ?? 30_000;
        let lastSweep = -Infinity;
        let lastRelay = -Infinity;
        // A long-running worker outlives a queue or store that is down for a while
        // (Pub/Sub UNAVAILABLE, a locked file): it says so and tries again after a poll.
        const warn = (what: string, e: unknown): void => {
          if (signal?.aborted !== true) out.warn(out.c.yellow(`warning: ${what} failed: ${messageOf(e)}; trying again`));
        };
        const loop = async (w: Worker, first: boolean): Promise<void> => {
          while (signal?.aborted !== true) {
            // Each on its own interval: sweeping reads expired leases, relaying reads the outbox.
            const now = rt.clock.now();
            const due = { sweep: now - lastSweep >= sweepEvery, relay: now - lastRelay >= relayEvery };
            if (first && (due.sweep || due.relay)) {
              if (due.sweep) lastSweep = now;
              if (due.relay) lastRelay = now;
              await housekeeping(due).catch((e: unknown) => warn('requeueing expired leases and republishing requests', e));
            }
            let received = 0;
            try {
              const t = await w.runOnce(take);
              received = t.received;
              for (const o of t.outcomes) await report(o);
            } catch (e) {
              warn('taking backfills from the queue', e);
              received = -1;
            }
            // A long-polled receive has already waited; after a failure, always pause.
            if (received < 0 || (received === 0 && !longPoll)) await rt.clock.sleep(pollMs, signal).catch(() => undefined);
          }
        };
        await Promise.all(workers.map((w, i) => loop(w, i === 0)));
        await Promise.all(workers.map((w) => w.stop()));
      }
      progress?.stop();
      if (out.json) out.line(JSON.stringify({ summary: tally }));
      else {
        out.line(
          `${once ? 'done' : 'stopped'}: ${tally.completed} filled, ${tally.resumed} held run(s) resumed, ${tally.retrying} retrying, ${tally.failed} failed`,
        );
      }
      return once && tally.failed > 0 ? 1 : 0;
    },
    { alerts: true },
  );
};
