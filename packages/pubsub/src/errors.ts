import { SmartBackfillError, type SmartBackfillErrorCode } from '@smart-backfill/core';

/** What went wrong at the Pub/Sub edge: kept as the error's `detail`, beside the shared `code`. */
export type PubSubErrorCode =
  'invalid_input' | 'invalid_options' | 'publish_failed' | 'receive_failed' | 'ack_failed' | 'admin_failed' | 'resource_mismatch';

const CODE_OF: Readonly<Record<PubSubErrorCode, SmartBackfillErrorCode>> = {
  invalid_input: 'invalid_input',
  invalid_options: 'invalid_config',
  publish_failed: 'unavailable',
  receive_failed: 'unavailable',
  ack_failed: 'unavailable',
  admin_failed: 'unavailable',
  // A topic or subscription exists with other settings than the config asks for.
  resource_mismatch: 'invalid_config',
};

/**
 * The Pub/Sub adapter's edge error: `[smart-backfill] [pubsub] <message>`, with the
 * original error (usually a gRPC `ServiceError`) as `cause`; `detail` is the step that failed.
 */
export class PubSubAdapterError extends SmartBackfillError {
  override readonly name: string = 'PubSubAdapterError';
  declare readonly detail: PubSubErrorCode;

  constructor(detail: PubSubErrorCode, message: string, options?: { readonly cause?: unknown; readonly field?: string | undefined }) {
    super(CODE_OF[detail], message, { origin: 'pubsub', detail, cause: options?.cause, field: options?.field });
  }
}

/** Throw `invalid_input` naming `field` when `problem` finds one in `value`. */
export const checkInput = (problem: (v: unknown) => string | undefined, value: unknown, field: string): void => {
  const p = problem(value);
  if (p !== undefined) throw new PubSubAdapterError('invalid_input', `${field}: ${p}`, { field });
};

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
