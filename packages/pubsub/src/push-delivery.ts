import type { Delivery } from '@smart-backfill/core';
import { decodeBackfillMessage, formatProblems } from '@smart-backfill/engine';
import type { InFlight, DeliveryHandler } from './delivery-handler.js';
import { describeError } from './errors.js';
import { toQueueMessage } from './wire.js';

/** The `message` of a Pub/Sub push body or of a `messagePublished` CloudEvent. */
export interface PushedMessage {
  readonly data?: string | undefined;
  readonly attributes?: Readonly<Record<string, string>> | undefined;
  readonly messageId?: string | undefined;
  readonly message_id?: string | undefined;
  readonly publishTime?: string | undefined;
  readonly orderingKey?: string | undefined;
}

/**
 * What to answer Pub/Sub. 2xx acks; anything else is a nack and the message comes
 * back (with the subscription's retry backoff) until its dead-letter policy takes it.
 */
export interface PushResult {
  readonly status: number;
  /** `acked`, `retry`, `rejected` (bad payload or dead-lettered), `error`. */
  readonly verdict: 'acked' | 'retry' | 'rejected' | 'error';
  readonly reason: string;
  readonly requestId: string | null;
  readonly outcome?: unknown;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const problem = (status: number, reason: string): PushResult => ({
  status,
  verdict: status >= 500 ? 'retry' : 'rejected',
  reason,
  requestId: null,
});

/** Envelope shape errors, or the message as it will be handed to the worker. */
export const checkPushedMessage = (
  message: unknown,
  field: string,
): PushResult | { readonly message: PushedMessage; readonly messageId: string; readonly bytes: Buffer } => {
  if (message === null || typeof message !== 'object' || Array.isArray(message))
    return problem(400, `${field} must be an object (a Pub/Sub push envelope)`);
  const m = message as Record<string, unknown>;
  const messageId = m['messageId'] ?? m['message_id'];
  if (typeof messageId !== 'string' || messageId === '') return problem(400, `${field}.messageId must be a non-empty string`);
  const attributes = m['attributes'];
  if (attributes !== undefined && attributes !== null) {
    if (typeof attributes !== 'object' || Array.isArray(attributes) || Object.values(attributes).some((v) => typeof v !== 'string')) {
      return problem(400, `${field}.attributes must be an object of strings`);
    }
  }
  const data = m['data'] ?? '';
  if (typeof data !== 'string') return problem(400, `${field}.data must be a base64 string`);
  const compact = data.replace(/\s+/g, '');
  if (!BASE64.test(compact)) return problem(400, `${field}.data is not valid base64`);
  return { message: m as PushedMessage, messageId, bytes: Buffer.from(compact, 'base64') };
};

/**
 * One pushed message through the worker: decode (4xx for anything the codec
 * refuses: not JSON, wrong schema), build a `Delivery` whose ack/nack/deadLetter
 * choose the HTTP answer, run it one request id at a time, answer.
 */
export const handlePushedMessage = async (
  worker: DeliveryHandler,
  inFlight: InFlight,
  input: { readonly message: PushedMessage; readonly messageId: string; readonly bytes: Buffer; readonly deliveryAttempt: number },
  deadLetter?: (reason: string, delivery: Delivery) => Promise<void>,
): Promise<PushResult> => {
  const decoded = decodeBackfillMessage(input.bytes);
  if (decoded._tag === 'Err') return problem(400, `message ${input.messageId}: ${formatProblems(decoded.error)}`);
  const body = decoded.value;
  const base = toQueueMessage({
    data: input.bytes,
    attributes: input.message.attributes,
    messageId: input.messageId,
    orderingKey: input.message.orderingKey,
  });
  // The body is the truth for the request id (the attribute may be missing on hand-published messages).
  const queueMessage = { ...base, id: body.request_id };
  let verdict: PushResult | null = null;
  const settleOnce = (r: PushResult): void => {
    verdict ??= r;
  };
  const delivery: Delivery = {
    deliveryId: input.messageId,
    message: queueMessage,
    deliveryAttempt: input.deliveryAttempt,
    ack: async () => settleOnce({ status: 200, verdict: 'acked', reason: 'acked', requestId: body.request_id }),
    nack: async (delayMs = 0) =>
      settleOnce({
        status: 503,
        verdict: 'retry',
        reason: delayMs > 0 ? `retry in about ${Math.ceil(delayMs / 1000)} s (the subscription's retry policy decides)` : 'retry',
        requestId: body.request_id,
      }),
    // The HTTP request is the lease: nothing to extend (the subscription's ack deadline bounds it).
    extendLease: async () => undefined,
    deadLetter: async (reason: string) => {
      if (deadLetter !== undefined) {
        await deadLetter(reason, delivery);
        settleOnce({ status: 200, verdict: 'acked', reason: `dead-lettered: ${reason}`, requestId: body.request_id });
      } else settleOnce({ status: 422, verdict: 'rejected', reason, requestId: body.request_id });
    },
  };
  let outcome: unknown;
  try {
    outcome = await inFlight.run(body.request_id, () => worker.handleDelivery(delivery));
  } catch (e) {
    return { status: 500, verdict: 'error', reason: `worker failed: ${describeError(e)}`, requestId: body.request_id };
  }
  const settled = verdict as PushResult | null;
  if (settled === null)
    return {
      status: 500,
      verdict: 'error',
      reason: 'the worker neither acked nor nacked the delivery',
      requestId: body.request_id,
      outcome,
    };
  return { ...settled, outcome };
};
