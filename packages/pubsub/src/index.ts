/**
 * @smart-backfill/pubsub — Google Cloud Pub/Sub for smart-backfill: the
 * `BackfillQueue` (batched publish, synchronous-pull receive), a streaming pull
 * worker, push (Cloud Run) and CloudEvent (Cloud Functions 2nd gen) handlers,
 * dead letters, and idempotent resource setup. `@google-cloud/pubsub` is a peer.
 */
export { PubSubAdapterError, /** @public */ type PubSubErrorCode } from './errors.js';
export {
  /** @public */ type PubSubQueueOptions,
  /** @public */ type PubSubResourceOptions,
  /** @public */ type PubSubConnectionOptions,
  /** @public */ type DeadLetterOptions,
  /** @public */ type RetryPolicyOptions,
  /** @public */ type FlowControlOptions,
  /** @public */ type BatchingOptions,
  /** @public */ type ResolvedPubSubOptions,
  /** @public */ type OptionProblem,
  validatePubSubOptions,
  resolvePubSubOptions,
} from './options.js';

export { openPubSubQueue, type DeadLetterRecord, type PubSubBackfillQueue } from './pubsub-backfill-queue.js';

export {
  startPubSubWorker,
  /** @public */ type PubSubWorker,
  /** @public */ type PubSubWorkerOptions,
  /** @public */ type PubSubWorkerStats,
} from './pubsub-worker.js';
export { /** @public */ type PushedMessage, type PushResult } from './push-delivery.js';
export { createPushHandler, /** @public */ type PushHandler, /** @public */ type PushHandlerOptions } from './push-handler.js';
export {
  createCloudEventHandler,
  /** @public */ type CloudEventHandlerOptions,
  /** @public */ type PubSubCloudEvent,
} from './cloud-event-handler.js';
export { ensurePubSubResources, type EnsureOptions, /** @public */ type EnsureResult, /** @public */ type PushOptions } from './admin.js';
export { renderGcloudCommands } from './gcloud-commands.js';
