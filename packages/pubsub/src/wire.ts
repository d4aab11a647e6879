import type { QueueMessage } from '@smart-backfill/core';

/** Pub/Sub's ack deadline bounds, in seconds (ModifyAckDeadline accepts 0–600). */
export const MAX_ACK_SECONDS = 600;

/** A lease or delay in ms as whole seconds the service accepts (rounded up, at most 600). */
export const toDeadlineSeconds = (ms: number, min: number): number =>
  Math.min(MAX_ACK_SECONDS, Math.max(min, Math.ceil((Number.isFinite(ms) ? ms : 0) / 1000)));

/**
 * A received Pub/Sub message as the core's `QueueMessage`. The id is the
 * `request_id` attribute — never the transport message id, which differs for a
 * message published twice — falling back to the message id only for messages
 * that carry none (the worker decodes the body and derives one).
 */
export const toQueueMessage = (m: {
  readonly data: Uint8Array | string | null | undefined;
  readonly attributes: Readonly<Record<string, string>> | null | undefined;
  readonly messageId: string;
  readonly orderingKey?: string | null | undefined;
}): QueueMessage => {
  const attributes = { ...(m.attributes ?? {}) };
  const data = typeof m.data === 'string' ? m.data : m.data == null ? '' : Buffer.from(m.data).toString('utf8');
  const requestId = attributes['request_id'];
  return {
    id: requestId !== undefined && requestId !== '' ? requestId : m.messageId,
    data,
    attributes,
    ...(m.orderingKey ? { orderingKey: m.orderingKey } : {}),
  };
};

/** Attribute values are limited to 1024 bytes. */
export const clipAttribute = (s: string): string => {
  if (Buffer.byteLength(s, 'utf8') <= 1024) return s;
  let out = s.slice(0, 1000);
  while (Buffer.byteLength(out + '…', 'utf8') > 1024) out = out.slice(0, -10);
  return out + '…';
};

/** Attributes a dead letter we forward carries, besides the original ones. */
export const deadLetterAttributes = (
  reason: string,
  source: { readonly subscription: string; readonly messageId: string; readonly deliveryAttempt: number },
): Record<string, string> => ({
  dead_letter_reason: clipAttribute(reason),
  dead_letter_source_subscription: source.subscription,
  dead_letter_source_message_id: source.messageId,
  dead_letter_delivery_attempt: String(source.deliveryAttempt),
});

/**
 * Remembers how often this process saw each message: the service reports
 * `deliveryAttempt` only on subscriptions with a dead-letter policy.
 */
export class AttemptCounter {
  private readonly seen = new Map<string, number>();
  constructor(private readonly limit = 10_000) {}

  /** The attempt number for this delivery: the service's, or our own count when it sends 0. */
  next(messageId: string, reported: number | null | undefined): number {
    const mine = (this.seen.get(messageId) ?? 0) + 1;
    this.seen.delete(messageId);
    this.seen.set(messageId, mine);
    if (this.seen.size > this.limit) this.seen.delete(this.seen.keys().next().value as string);
    return reported !== null && reported !== undefined && reported > 0 ? reported : mine;
  }

  forget(messageId: string): void {
    this.seen.delete(messageId);
  }
}
