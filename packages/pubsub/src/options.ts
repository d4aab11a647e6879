import type { PubSub } from '@google-cloud/pubsub';
import { PubSubAdapterError } from './errors.js';

/** The seed's subscription ack deadline (`--ack-deadline=540`): a backfill may run for minutes. */
export const DEFAULT_ACK_DEADLINE_SECONDS = 540;
export const DEFAULT_TOPIC = 'smart-backfill-requests';
export const DEFAULT_SUBSCRIPTION = 'smart-backfill-worker';
export const DEFAULT_DEAD_LETTER_TOPIC = 'smart-backfill-dead-letters';
/** The service's own bounds for a dead-letter policy. */
export const MIN_DELIVERY_ATTEMPTS = 5;
export const MAX_DELIVERY_ATTEMPTS = 100;

/** Poison messages go here instead of circling forever. */
export interface DeadLetterOptions {
  /** Topic for dead letters, short name or `projects/<p>/topics/<t>`. Default `smart-backfill-dead-letters`. */
  readonly topic?: string | undefined;
  /** Deliveries before the service forwards a message: 5–100 (the service's range). Default 5. */
  readonly maxDeliveryAttempts?: number | undefined;
  /**
   * A subscription on the dead-letter topic: a topic without one drops what is
   * published to it, so dead letters would vanish. Default `<topic>-sub`.
   */
  readonly subscription?: string | undefined;
}

/** Redelivery backoff for nacked or expired messages (the subscription's retry policy). */
export interface RetryPolicyOptions {
  /** 0–600. Default 10. */
  readonly minimumBackoffSeconds?: number | undefined;
  /** 0–600, >= minimum. Default 600. */
  readonly maximumBackoffSeconds?: number | undefined;
}

/** How many leased messages one worker process holds at once. */
export interface FlowControlOptions {
  /** Default 10: a backfill is heavy; more in flight rarely helps. */
  readonly maxMessages?: number | undefined;
  /** Default 10 MiB. */
  readonly maxBytes?: number | undefined;
}

/** Client-side publish batching (one Publish RPC carries many messages). */
export interface BatchingOptions {
  /** Default 100. */
  readonly maxMessages?: number | undefined;
  /** Default 10 ms. */
  readonly maxMilliseconds?: number | undefined;
  /** Default 1 MiB. */
  readonly maxBytes?: number | undefined;
}

/** The resources: what `ensurePubSubResources` creates and `renderGcloudCommands` prints. */
export interface PubSubResourceOptions {
  readonly projectId?: string | undefined;
  readonly topic?: string | undefined;
  readonly subscription?: string | undefined;
  /** 10–600. Default 540 (the seed's). */
  readonly ackDeadlineSeconds?: number | undefined;
  /** `false` for the service default (immediate redelivery). Default 10 s → 600 s. */
  readonly retryPolicy?: RetryPolicyOptions | false | undefined;
  /** `false` for none. Default: the `smart-backfill-dead-letters` topic, 5 attempts. */
  readonly deadLetter?: DeadLetterOptions | false | undefined;
  /** Create the subscription with exactly-once delivery. Default false. */
  readonly exactlyOnce?: boolean | undefined;
  /**
   * Publish with one ordering key per processor (oldest date first) and create the
   * subscription with message ordering. Default false.
   */
  readonly orderingKeys?: boolean | undefined;
}

/** How to reach Pub/Sub. */
export interface PubSubConnectionOptions {
  /** Bring your own client (it is not closed by `close()`). */
  readonly client?: PubSub | undefined;
  /**
   * `host:port` of an emulator or fake; `PUBSUB_EMULATOR_HOST` is honoured when
   * absent (plain-text channel, no credentials).
   */
  readonly apiEndpoint?: string | undefined;
}

export interface PubSubQueueOptions extends PubSubResourceOptions, PubSubConnectionOptions {
  readonly batching?: BatchingOptions | undefined;
  /** A publish not confirmed within this is a `PublishFailed` (the outbox retries). Default 30 s. */
  readonly publishTimeoutMs?: number | undefined;
  /** Create missing resources on open (`ensurePubSubResources`). Default false. */
  readonly ensure?: boolean | undefined;
  /**
   * The time leases are reckoned in (when a lease this process set runs out). Default
   * the system clock; a test whose server runs on a manual clock passes the same one.
   */
  readonly clock?: { now(): number } | undefined;
}

/** Options with defaults applied and names validated. */
export interface ResolvedPubSubOptions {
  readonly projectId: string | undefined;
  readonly topic: string;
  readonly subscription: string;
  readonly ackDeadlineSeconds: number;
  readonly retryPolicy: { readonly minimumBackoffSeconds: number; readonly maximumBackoffSeconds: number } | null;
  readonly deadLetter: { readonly topic: string; readonly maxDeliveryAttempts: number; readonly subscription: string } | null;
  readonly exactlyOnce: boolean;
  readonly orderingKeys: boolean;
  readonly batching: { readonly maxMessages: number; readonly maxMilliseconds: number; readonly maxBytes: number };
  readonly publishTimeoutMs: number;
}

export interface OptionProblem {
  /** Dotted path: `deadLetter.maxDeliveryAttempts`. */
  readonly field: string;
  readonly message: string;
}

const show = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'nothing' : (JSON.stringify(v) ?? String(v));

/** The service's rule for topic and subscription ids. */
const RESOURCE_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
const FULL_NAME = /^projects\/([a-z][a-z0-9-]{4,28}[a-z0-9]|[^/]+)\/(topics|subscriptions)\/([^/]+)$/;
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.:-]+$/;

const checkName = (field: string, kind: 'topics' | 'subscriptions', v: unknown, problems: OptionProblem[]): string | undefined => {
  if (typeof v !== 'string' || v.length === 0) {
    problems.push({ field, message: `${field} must be a non-empty string, got ${show(v)}` });
    return undefined;
  }
  const full = FULL_NAME.exec(v);
  const id = full !== null ? full[3]! : v;
  if (full !== null && full[2] !== kind) {
    problems.push({
      field,
      message: `${field} must name ${kind === 'topics' ? 'a topic' : 'a subscription'} (projects/<project>/${kind}/<id>), got ${show(v)}`,
    });
    return undefined;
  }
  if (!RESOURCE_ID.test(id) || id.startsWith('goog')) {
    problems.push({
      field,
      message: `${field} must be 3–255 characters, start with a letter, use only letters, digits and - _ . ~ + %, and not start with "goog"; got ${show(v)}`,
    });
    return undefined;
  }
  return v;
};

const wholeIn = (field: string, v: unknown, min: number, max: number, dflt: number, problems: OptionProblem[]): number => {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    problems.push({ field, message: `${field} must be a whole number from ${min} to ${max}, got ${show(v)}` });
    return dflt;
  }
  return v;
};

const KNOWN = new Set([
  'type',
  'projectId',
  'topic',
  'subscription',
  'ackDeadlineSeconds',
  'retryPolicy',
  'deadLetter',
  'exactlyOnce',
  'orderingKeys',
  'client',
  'apiEndpoint',
  'batching',
  'publishTimeoutMs',
  'ensure',
  'flowControl',
  'push',
  'maxExtensionMinutes',
]);

/**
 * Validate Pub/Sub options (from code or a config file), filling defaults.
 * Every problem is reported at once, each naming its field:
 * `deadLetter.maxDeliveryAttempts must be a whole number from 5 to 100, got 3`.
 */
export const validatePubSubOptions = (
  input: unknown,
): { readonly ok: true; readonly value: ResolvedPubSubOptions } | { readonly ok: false; readonly problems: readonly OptionProblem[] } => {
  const problems: OptionProblem[] = [];
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, problems: [{ field: 'queue', message: `Pub/Sub options must be an object, got ${show(input)}` }] };
  }
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (o[k] !== undefined && !KNOWN.has(k))
      problems.push({ field: k, message: `unknown option "${k}" (known: ${[...KNOWN].filter((x) => x !== 'type').join(', ')})` });
  }
  let projectId: string | undefined;
  if (o['projectId'] !== undefined) {
    if (typeof o['projectId'] !== 'string' || !PROJECT_ID.test(o['projectId'])) {
      problems.push({
        field: 'projectId',
        message: `projectId must be a Google Cloud project id like "my-project-123", got ${show(o['projectId'])}`,
      });
    } else projectId = o['projectId'];
  }
  const topic = checkName('topic', 'topics', o['topic'] ?? DEFAULT_TOPIC, problems) ?? DEFAULT_TOPIC;
  const subscription =
    checkName('subscription', 'subscriptions', o['subscription'] ?? DEFAULT_SUBSCRIPTION, problems) ?? DEFAULT_SUBSCRIPTION;
  const ackDeadlineSeconds = wholeIn('ackDeadlineSeconds', o['ackDeadlineSeconds'], 10, 600, DEFAULT_ACK_DEADLINE_SECONDS, problems);

  let retryPolicy: ResolvedPubSubOptions['retryPolicy'] = { minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 };
  const rp = o['retryPolicy'];
  if (rp === false) retryPolicy = null;
  else if (rp !== undefined) {
    if (rp === null || typeof rp !== 'object')
      problems.push({ field: 'retryPolicy', message: `retryPolicy must be an object or false, got ${show(rp)}` });
    else {
      const r = rp as Record<string, unknown>;
      const min = wholeIn('retryPolicy.minimumBackoffSeconds', r['minimumBackoffSeconds'], 0, 600, 10, problems);
      const max = wholeIn('retryPolicy.maximumBackoffSeconds', r['maximumBackoffSeconds'], 0, 600, 600, problems);
      if (max < min)
        problems.push({
          field: 'retryPolicy.maximumBackoffSeconds',
          message: `retryPolicy.maximumBackoffSeconds (${max}) must be >= minimumBackoffSeconds (${min})`,
        });
      retryPolicy = { minimumBackoffSeconds: min, maximumBackoffSeconds: max };
    }
  }

  let deadLetter: ResolvedPubSubOptions['deadLetter'] = null;
  const dl = o['deadLetter'] === undefined ? {} : o['deadLetter'];
  if (dl !== false) {
    if (dl === null || typeof dl !== 'object')
      problems.push({ field: 'deadLetter', message: `deadLetter must be an object or false, got ${show(dl)}` });
    else {
      const d = dl as Record<string, unknown>;
      const dlTopic =
        checkName('deadLetter.topic', 'topics', d['topic'] ?? DEFAULT_DEAD_LETTER_TOPIC, problems) ?? DEFAULT_DEAD_LETTER_TOPIC;
      const max = d['maxDeliveryAttempts'];
      let maxDeliveryAttempts = MIN_DELIVERY_ATTEMPTS;
      if (max !== undefined) {
        if (typeof max !== 'number' || !Number.isInteger(max) || max < MIN_DELIVERY_ATTEMPTS || max > MAX_DELIVERY_ATTEMPTS) {
          problems.push({
            field: 'deadLetter.maxDeliveryAttempts',
            message: `deadLetter.maxDeliveryAttempts must be a whole number from ${MIN_DELIVERY_ATTEMPTS} to ${MAX_DELIVERY_ATTEMPTS} (Pub/Sub's limits), got ${show(max)}`,
          });
        } else maxDeliveryAttempts = max;
      }
      const dlSub =
        checkName('deadLetter.subscription', 'subscriptions', d['subscription'] ?? `${shortName(dlTopic)}-sub`, problems) ??
        `${shortName(dlTopic)}-sub`;
      if (shortName(dlTopic) === shortName(topic))
        problems.push({
          field: 'deadLetter.topic',
          message: `deadLetter.topic must differ from topic ("${topic}"): dead letters would be delivered again`,
        });
      deadLetter = { topic: dlTopic, maxDeliveryAttempts, subscription: dlSub };
    }
  }

  const bool = (field: string): boolean => {
    const v = o[field];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') problems.push({ field, message: `${field} must be true or false, got ${show(v)}` });
    return v === true;
  };
  const exactlyOnce = bool('exactlyOnce');
  const orderingKeys = bool('orderingKeys');
  bool('ensure');

  const b = (o['batching'] ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || b === null) problems.push({ field: 'batching', message: `batching must be an object, got ${show(b)}` });
  const batching = {
    maxMessages: wholeIn('batching.maxMessages', b['maxMessages'], 1, 1000, 100, problems),
    maxMilliseconds: wholeIn('batching.maxMilliseconds', b['maxMilliseconds'], 0, 60_000, 10, problems),
    maxBytes: wholeIn('batching.maxBytes', b['maxBytes'], 1024, 10 * 1024 * 1024, 1024 * 1024, problems),
  };
  const publishTimeoutMs = wholeIn('publishTimeoutMs', o['publishTimeoutMs'], 100, 600_000, 30_000, problems);
  if (o['apiEndpoint'] !== undefined && (typeof o['apiEndpoint'] !== 'string' || !/^[^\s/]+:\d+$|^https?:\/\//.test(o['apiEndpoint']))) {
    problems.push({
      field: 'apiEndpoint',
      message: `apiEndpoint must be "host:port" (an emulator) or a URL, got ${show(o['apiEndpoint'])}`,
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      projectId,
      topic,
      subscription,
      ackDeadlineSeconds,
      retryPolicy,
      deadLetter,
      exactlyOnce,
      orderingKeys,
      batching,
      publishTimeoutMs,
    },
  };
};

/** Like `validatePubSubOptions`, but throws one `PubSubAdapterError` listing every problem. */
export const resolvePubSubOptions = (input: unknown): ResolvedPubSubOptions => {
  const r = validatePubSubOptions(input);
  if (r.ok) return r.value;
  throw new PubSubAdapterError('invalid_options', `invalid Pub/Sub options: ${r.problems.map((p) => p.message).join('; ')}`, {
    cause: r.problems,
  });
};

/** `projects/p/topics/t` → `t`; a short name stays as it is. */
export const shortName = (name: string): string => {
  const m = FULL_NAME.exec(name);
  return m === null ? name : m[3]!;
};

/** A full resource name, given the project (short names only). */
export const fullName = (projectId: string, kind: 'topics' | 'subscriptions', name: string): string =>
  FULL_NAME.test(name) ? name : `projects/${projectId}/${kind}/${name}`;
