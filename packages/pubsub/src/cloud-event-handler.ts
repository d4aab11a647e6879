import type { Delivery } from '@smart-backfill/core';
import { InFlight, type DeliveryHandler } from './delivery-handler.js';
import { PubSubAdapterError } from './errors.js';
import { checkPushedMessage, handlePushedMessage, type PushResult } from './push-delivery.js';

/** The parts of a `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent we read. */
export interface PubSubCloudEvent {
  readonly id?: string | undefined;
  readonly type?: string | undefined;
  readonly data?:
    { readonly message?: unknown; readonly subscription?: string | undefined; readonly deliveryAttempt?: number | undefined } | undefined;
}

export interface CloudEventHandlerOptions {
  readonly worker: DeliveryHandler;
  /**
   * Malformed messages and dead letters: `ack` (default) logs and returns, so a
   * poison message is not retried forever; `retry` throws, so the trigger's retry
   * and its subscription's dead-letter policy take it.
   */
  readonly onPoison?: 'ack' | 'retry' | undefined;
  readonly deadLetter?: ((reason: string, delivery: Delivery) => Promise<void>) | undefined;
  readonly onResult?: ((result: PushResult) => void) | undefined;
}

/**
 * The seed's `handle_backfill_request(event, context)` for Cloud Functions 2nd gen:
 * `functions.cloudEvent('handleBackfillRequest', createCloudEventHandler({ worker }))`.
 * Resolving acks the event; throwing makes the platform retry it (when the
 * trigger has retries on) — that is how a nack is spelled here.
 */
export const createCloudEventHandler = (opts: CloudEventHandlerOptions): ((event: PubSubCloudEvent) => Promise<PushResult>) => {
  const inFlight = new InFlight();
  return async (event) => {
    const report = (r: PushResult): PushResult => {
      opts.onResult?.(r);
      if (r.verdict === 'retry' || r.verdict === 'error' || (r.verdict === 'rejected' && opts.onPoison === 'retry')) {
        throw new PubSubAdapterError(
          'receive_failed',
          `event ${String(event.id)}: ${r.reason} (status ${r.status}); the platform will retry it`,
        );
      }
      if (r.verdict === 'rejected') console.error(`[smart-backfill] [pubsub] event ${String(event.id)} dropped: ${r.reason}`);
      return r;
    };
    const checked = checkPushedMessage(event.data?.message, 'data.message');
    if ('status' in checked) return report(checked);
    const attempt = typeof event.data?.deliveryAttempt === 'number' && event.data.deliveryAttempt > 0 ? event.data.deliveryAttempt : 1;
    return report(await handlePushedMessage(opts.worker, inFlight, { ...checked, deliveryAttempt: attempt }, opts.deadLetter));
  };
};
