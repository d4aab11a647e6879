import { errorMessage } from './errors.js';
import { registryNames } from './processor.js';
import { createResumer } from './resume.js';
import { resumeHeldForInputs } from './downstream.js';
import type { WorkerContext } from './worker-context.js';

/**
 * The passes the loop runs after each batch, each at most once per its period:
 * resuming held runs a dead worker never resumed, and sending again the alert
 * notices that reached nobody. Their failures are logged, never thrown: a batch's
 * outcomes do not depend on them. None starts once the worker is `stopping`.
 */
export const createWorkerSweeps = (ctx: WorkerContext, stopping: () => boolean): { readonly afterBatch: () => Promise<void> } => {
  const { log, clock, tracker, guardFor } = ctx;

  const resumer = createResumer({ tracker, runLog: ctx.runLog, clock, guardFor, logger: log });
  let lastResumeSweep = -Infinity;
  /** The periodic resume pass (see `resumeSweepMs`). */
  const sweepResumes = async (): Promise<void> => {
    if (!ctx.resumeEnabled || ctx.resumeSweepMs <= 0 || stopping()) return;
    const now = clock.now();
    if (now - lastResumeSweep < ctx.resumeSweepMs) return;
    lastResumeSweep = now;
    try {
      const r = await resumer.runOnce();
      if (r.resumed.length + r.cancelled.length > 0) log.info('resume pass', { resumed: r.resumed.length, cancelled: r.cancelled.length });
      if (ctx.pipeline !== undefined)
        await resumeHeldForInputs({ tracker, queue: ctx.queue, runLog: ctx.runLog, clock, graph: ctx.pipeline, guardFor, logger: log });
    } catch (e) {
      log.warn('resume pass failed', { error: errorMessage(e) });
    }
  };

  let lastAlertSweep = -Infinity;
  /** Notices that reached nobody are sent again (each alert backs off on its own). */
  const sweepAlerts = async (): Promise<void> => {
    if (ctx.alertRetrySweepMs <= 0 || stopping()) return;
    const now = clock.now();
    if (now - lastAlertSweep < ctx.alertRetrySweepMs) return;
    lastAlertSweep = now;
    for (const name of registryNames(ctx.registry)) {
      try {
        const r = await guardFor(name)?.alerts?.retryDeliveries();
        if (r !== undefined && r.delivered.length + r.failed.length > 0)
          log.info('alert delivery retried', { processor: name, delivered: r.delivered, failed: r.failed });
      } catch (e) {
        log.warn('alert delivery retry failed', { processor: name, error: errorMessage(e) });
      }
    }
  };

  return {
    async afterBatch() {
      await sweepResumes();
      await sweepAlerts();
    },
  };
};
