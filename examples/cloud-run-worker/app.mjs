// The worker wiring, separate from the HTTP listener so a test can drive it.
import { createWorker, processorRegistry, systemClock, consoleJsonLogger } from '@smart-backfill/engine';
import { createCloudEventHandler, createPushHandler } from '@smart-backfill/pubsub';
import { processors } from './processors.mjs';

/** A push-only worker never receives from a queue itself. */
const pushOnlyQueue = {
  publish: async () => {
    throw new Error('[smart-backfill] this worker only handles pushed messages');
  },
  receive: async () => [],
};

/**
 * The tracker and run log: BigQuery in production (`TRACKER=bigquery`, dataset in
 * `BQ_DATASET`), memory for a local try. Cloud Run instances come and go: never
 * keep the tracker in memory there.
 */
export const openStore = async (env = process.env) => {
  if (env.TRACKER === 'bigquery') {
    const { openBigQueryStore } = await import('@smart-backfill/bigquery');
    const { BigQuery } = await import('@google-cloud/bigquery');
    return openBigQueryStore({ client: new BigQuery(), tracking: { dataset: env.BQ_DATASET ?? 'nba_processing' } });
  }
  const { createMemoryStore } = await import('@smart-backfill/memory');
  return createMemoryStore({ clock: systemClock });
};

/** The push handler (Cloud Run) and the CloudEvent handler (Cloud Functions 2nd gen) over one worker. */
export const createApp = async ({ env = process.env, store } = {}) => {
  const s = store ?? (await openStore(env));
  const worker = createWorker({
    queue: pushOnlyQueue,
    tracker: s.tracker,
    runLog: s.runLog,
    registry: processorRegistry(processors),
    clock: systemClock,
    // The push request is the lease: keep the tracker lease inside the subscription's 540 s ack deadline.
    leaseMs: 540_000,
    logger: env.LOG === 'silent' ? undefined : consoleJsonLogger,
  });
  const onResult = (r) => {
    if (r.verdict !== 'acked')
      console.log(
        JSON.stringify({ severity: r.status >= 500 ? 'WARNING' : 'ERROR', message: r.reason, requestId: r.requestId, status: r.status }),
      );
  };
  return {
    store: s,
    worker,
    push: createPushHandler({ worker, subscription: env.PUBSUB_SUBSCRIPTION || undefined, onResult }),
    cloudEvent: createCloudEventHandler({ worker, onResult }),
  };
};
