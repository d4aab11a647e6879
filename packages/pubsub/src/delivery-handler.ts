import type { Delivery } from '@smart-backfill/core';

/**
 * What the Pub/Sub consumers hand deliveries to: the engine's `Worker`
 * (`createWorker(...)`) fits. It settles each delivery itself (ack, nack,
 * deadLetter) and resolves with its outcome; it should not throw, and if it
 * does, the consumers nack.
 */
export interface DeliveryHandler<O = unknown> {
  handleDelivery(delivery: Delivery): Promise<O>;
}

/**
 * Runs at most one delivery per request id at a time in this process. A second
 * delivery of a request whose first is still running (a redelivery after a
 * lapsed lease, or the same request published twice — two message ids) waits for
 * the first and is then handled normally; the tracker then says the request is
 * done or busy, so it is acked or nacked without running the backfill again.
 * Keys are request ids, never transport message ids.
 */
export class InFlight {
  private readonly running = new Map<string, Promise<unknown>>();
  coalesced = 0;

  get size(): number {
    return this.running.size;
  }

  run<A>(key: string, task: () => Promise<A>): Promise<A> {
    const before = this.running.get(key);
    if (before !== undefined) this.coalesced++;
    const next = (
      before === undefined
        ? Promise.resolve()
        : before.then(
            () => undefined,
            () => undefined,
          )
    ).then(task);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.running.set(key, settled);
    void settled.then(() => {
      if (this.running.get(key) === settled) this.running.delete(key);
    });
    return next;
  }

  /** Resolves when nothing runs. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }
}
