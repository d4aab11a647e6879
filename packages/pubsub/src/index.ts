/**
 * @smart-backfill/pubsub — Google Cloud Pub/Sub for smart-backfill: the
 * `BackfillQueue` (batched publish, synchronous-pull receive), a streaming pull
 * worker, push (Cloud Run) and CloudEvent (Cloud Functions 2nd gen) handlers,
 * dead letters, and idempotent resource setup. `@google-cloud/pubsub` is a peer.
 */
export { PubSubAdapterError, type PubSubErrorCode } from './errors.js';
export {
  type PubSubQueueOptions,
  type PubSubResourceOptions,
  type PubSubConnectionOptions,
  type DeadLetterOptions,
  type RetryPolicyOptions,
  type FlowControlOptions,
  type BatchingOptions,
  type ResolvedPubSubOptions,
  type OptionProblem,
  validatePubSubOptions,
  resolvePubSubOptions,
  DEFAULT_ACK_DEADLINE_SECONDS,
  DEFAULT_TOPIC,
  DEFAULT_SUBSCRIPTION,
  DEFAULT_DEAD_LETTER_TOPIC,
  MIN_DELIVERY_ATTEMPTS,
  MAX_DELIVERY_ATTEMPTS,
} from './options.js';
export { connectPubSub, type Connection } from './connect.js';
export { createPubSubPublisher, type PubSubPublisher, type PubSubPublisherOptions } from './pubsub-publisher.js';
export { openPubSubQueue, type DeadLetterRecord, type PubSubBackfillQueue } from './pubsub-backfill-queue.js';
export { type DeliveryHandler, InFlight } from './delivery-handler.js';
export { startPubSubWorker, type PubSubWorker, type PubSubWorkerOptions, type PubSubWorkerStats } from './pubsub-worker.js';
export { type PushedMessage, type PushResult } from './push-delivery.js';
export { createPushHandler, type PushHandler, type PushHandlerOptions } from './push-handler.js';
export { createCloudEventHandler, type CloudEventHandlerOptions, type PubSubCloudEvent } from './cloud-event-handler.js';
export { ensurePubSubResources, subscriptionExists, type EnsureOptions, type EnsureResult, type PushOptions } from './admin.js';
export { renderGcloudCommands } from './gcloud-commands.js';
