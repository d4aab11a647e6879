/** What went wrong at the Pub/Sub edge, as a code a caller can branch on. */
export type PubSubErrorCode = 'invalid_options' | 'publish_failed' | 'receive_failed' | 'ack_failed' | 'admin_failed' | 'resource_mismatch';

/**
 * The Pub/Sub adapter's edge error: `[smart-backfill] [pubsub] <message>`, with the
 * original error (usually a gRPC `ServiceError`) as `cause`.
 */
export class PubSubAdapterError extends Error {
  override readonly name = 'PubSubAdapterError';
  readonly code: PubSubErrorCode;

  constructor(code: PubSubErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(`[smart-backfill] [pubsub] ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** The message of any thrown value, with the gRPC code name when there is one. */
export const describeError = (e: unknown): string => {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'number' && !e.message.startsWith(`${code} `) ? `${code} ${e.message}` : e.message;
  }
  return typeof e === 'string' ? e : (JSON.stringify(e) ?? String(e));
};

/** gRPC status codes we branch on (numbers, so we need not import grpc-js). */
export const GrpcCode = {
  CANCELLED: 1,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
} as const;

export const grpcCodeOf = (e: unknown): number | undefined => {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
};
