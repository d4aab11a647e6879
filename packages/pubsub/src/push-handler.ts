import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Delivery } from '@smart-backfill/core';
import { InFlight, type DeliveryHandler } from './delivery-handler.js';
import { checkPushedMessage, handlePushedMessage, type PushResult } from './push-delivery.js';

export interface PushHandlerOptions {
  /** The engine's worker (`createWorker(...)`). */
  readonly worker: DeliveryHandler;
  /** Refuse (403) envelopes from any other subscription (full name `projects/p/subscriptions/s`). */
  readonly subscription?: string | undefined;
  /**
   * Extra check of the request, e.g. of the OIDC token when the service is public.
   * (On Cloud Run with authentication required, Google checks the token before us.)
   * Return false (401) to refuse.
   */
  readonly verify?: ((req: IncomingMessage) => boolean | Promise<boolean>) | undefined;
  /**
   * Where dead letters the worker decides on go (`deadLetter(reason)`), e.g. publish
   * to a topic with the reason. Without it they are answered 422, and the
   * subscription's dead-letter policy forwards them after `maxDeliveryAttempts`.
   */
  readonly deadLetter?: ((reason: string, delivery: Delivery) => Promise<void>) | undefined;
  /** Largest request body accepted. Default 256 KiB (the codec caps a message at 64 KiB). */
  readonly maxBodyBytes?: number | undefined;
  /** Called with each result (logs, metrics). */
  readonly onResult?: ((result: PushResult) => void) | undefined;
}

export type PushHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<void>) & { readonly inFlight: number };

const readBody = (req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });

const send = (res: ServerResponse, r: PushResult): void => {
  const body = JSON.stringify({
    verdict: r.verdict,
    reason: r.reason,
    requestId: r.requestId,
    ...(r.outcome === undefined ? {} : { outcome: r.outcome }),
  });
  res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/**
 * A node `(req, res)` handler for a Pub/Sub push subscription (Cloud Run, or any
 * HTTP server). It checks the envelope, decodes base64 `message.data` with the
 * engine's codec, and hands a `Delivery` to the worker. The answer is what the
 * worker did: ack → 200, nack → 503 (redelivered with the retry policy's backoff),
 * dead letter → 422 (or 200 after `deadLetter` forwards it). A malformed envelope
 * or body → 400 and nothing runs; a worker that throws → 500.
 *
 * Duplicates: two pushes of one request (redelivery, or the request published
 * twice) run one after the other in this instance, and the tracker makes the
 * second an `AlreadyDone` ack — the backfill runs once.
 */
export const createPushHandler = (opts: PushHandlerOptions): PushHandler => {
  const inFlight = new InFlight();
  const limit = opts.maxBodyBytes ?? 256 * 1024;
  const answer = (res: ServerResponse, r: PushResult): void => {
    opts.onResult?.(r);
    send(res, r);
  };
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        return answer(res, {
          status: 405,
          verdict: 'rejected',
          reason: `method ${String(req.method)} not allowed: Pub/Sub pushes with POST`,
          requestId: null,
        });
      }
      if (opts.verify !== undefined && !(await opts.verify(req))) {
        return answer(res, { status: 401, verdict: 'rejected', reason: 'request failed verification', requestId: null });
      }
      const raw = await readBody(req, limit);
      if (raw === 'too_large')
        return answer(res, { status: 413, verdict: 'rejected', reason: `body larger than ${limit} bytes`, requestId: null });
      let envelope: unknown;
      try {
        envelope = JSON.parse(raw.toString('utf8'));
      } catch {
        return answer(res, {
          status: 400,
          verdict: 'rejected',
          reason: 'body is not JSON (expected a Pub/Sub push envelope)',
          requestId: null,
        });
      }
      if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
        return answer(res, {
          status: 400,
          verdict: 'rejected',
          reason: 'body must be a JSON object with "message" and "subscription"',
          requestId: null,
        });
      }
      const env = envelope as Record<string, unknown>;
      if (opts.subscription !== undefined && env['subscription'] !== opts.subscription) {
        return answer(res, {
          status: 403,
          verdict: 'rejected',
          reason: `envelope is from subscription ${JSON.stringify(env['subscription'])}, expected ${opts.subscription}`,
          requestId: null,
        });
      }
      const checked = checkPushedMessage(env['message'], 'message');
      if ('status' in checked) return answer(res, checked);
      const attempt = typeof env['deliveryAttempt'] === 'number' && env['deliveryAttempt'] > 0 ? env['deliveryAttempt'] : 1;
      answer(res, await handlePushedMessage(opts.worker, inFlight, { ...checked, deliveryAttempt: attempt }, opts.deadLetter));
    } catch (e) {
      answer(res, { status: 500, verdict: 'error', reason: e instanceof Error ? e.message : String(e), requestId: null });
    }
  };
  return Object.defineProperty(handler, 'inFlight', { get: () => inFlight.size }) as PushHandler;
};
