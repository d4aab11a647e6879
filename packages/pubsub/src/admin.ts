import type { PubSub } from '@google-cloud/pubsub';
import { connectPubSub } from './connect.js';
import { GrpcCode, PubSubAdapterError, describeError, grpcCodeOf } from './errors.js';
import {
  fullName,
  resolvePubSubOptions,
  shortName,
  type PubSubConnectionOptions,
  type PubSubResourceOptions,
  type ResolvedPubSubOptions,
} from './options.js';

/** A push subscription instead of a pull one (Cloud Run: `createPushHandler`). */
export interface PushOptions {
  /** The HTTPS URL Pub/Sub POSTs to, e.g. `https://backfill-worker-xyz.a.run.app/`. */
  readonly endpoint: string;
  /** Service account whose OIDC token Pub/Sub attaches (Cloud Run checks it). */
  readonly serviceAccount?: string | undefined;
}

export interface EnsureOptions extends PubSubResourceOptions, PubSubConnectionOptions {
  readonly push?: PushOptions | undefined;
}

export interface EnsureResult {
  /** Full names of what this call created. */
  readonly created: readonly string[];
  /** Full names of what was already there. */
  readonly existing: readonly string[];
  /** Settings of an existing subscription that differ from the options (not changed: say how to fix). */
  readonly drift: readonly string[];
  /** Things to do by hand (IAM for dead letters). */
  readonly notes: readonly string[];
}

const isAlreadyExists = (e: unknown): boolean => grpcCodeOf(e) === GrpcCode.ALREADY_EXISTS;

const wrap = async <A>(what: string, f: () => Promise<A>): Promise<A> => {
  try {
    return await f();
  } catch (e) {
    if (e instanceof PubSubAdapterError) throw e;
    throw new PubSubAdapterError('admin_failed', `${what} failed: ${describeError(e)}`, { cause: e });
  }
};

const ensureTopic = async (pubsub: PubSub, name: string, out: { created: string[]; existing: string[] }): Promise<void> => {
  const topic = pubsub.topic(name);
  await wrap(`creating topic ${topic.name}`, async () => {
    try {
      await topic.create();
      out.created.push(topic.name);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      out.existing.push(topic.name);
    }
  });
};

/** The subscription settings the options ask for, in the API's shape. */
export const subscriptionMetadata = (o: ResolvedPubSubOptions, projectId: string, push?: PushOptions) => ({
  ackDeadlineSeconds: o.ackDeadlineSeconds,
  ...(o.retryPolicy === null
    ? {}
    : {
        retryPolicy: {
          minimumBackoff: { seconds: o.retryPolicy.minimumBackoffSeconds },
          maximumBackoff: { seconds: o.retryPolicy.maximumBackoffSeconds },
        },
      }),
  ...(o.deadLetter === null
    ? {}
    : {
        deadLetterPolicy: {
          deadLetterTopic: fullName(projectId, 'topics', o.deadLetter.topic),
          maxDeliveryAttempts: o.deadLetter.maxDeliveryAttempts,
        },
      }),
  enableExactlyOnceDelivery: o.exactlyOnce,
  enableMessageOrdering: o.orderingKeys,
  ...(push === undefined
    ? {}
    : {
        pushConfig: {
          pushEndpoint: push.endpoint,
          ...(push.serviceAccount === undefined ? {} : { oidcToken: { serviceAccountEmail: push.serviceAccount } }),
        },
      }),
});

const seconds = (d: unknown): number => Number((d as { seconds?: unknown } | null | undefined)?.seconds ?? 0);

/**
 * Create, idempotently, what a smart-backfill queue needs: the topic, the
 * dead-letter topic and a subscription on it (so dead letters are kept), and the
 * worker subscription (ack deadline 540 s as in the seed, retry backoff,
 * dead-letter policy, optional exactly-once and ordering). Safe to run on every
 * deploy: what exists is left as it is, and differences are reported in `drift`.
 */
export const ensurePubSubResources = async (input: EnsureOptions): Promise<EnsureResult> => {
  const o = resolvePubSubOptions({ ...input, client: undefined, push: undefined });
  const conn = connectPubSub({ client: input.client, apiEndpoint: input.apiEndpoint, projectId: o.projectId });
  const { pubsub } = conn;
  const out = { created: [] as string[], existing: [] as string[], drift: [] as string[], notes: [] as string[] };
  try {
    await wrap('finding the project id', () => pubsub.getClientConfig());
    const projectId = pubsub.projectId;
    await ensureTopic(pubsub, o.topic, out);
    if (o.deadLetter !== null) {
      await ensureTopic(pubsub, o.deadLetter.topic, out);
      const dlSub = pubsub.subscription(o.deadLetter.subscription);
      await wrap(`creating subscription ${dlSub.name}`, async () => {
        try {
          await pubsub.topic(o.deadLetter!.topic).createSubscription(o.deadLetter!.subscription, { ackDeadlineSeconds: 60 });
          out.created.push(dlSub.name);
        } catch (e) {
          if (!isAlreadyExists(e)) throw e;
          out.existing.push(dlSub.name);
        }
      });
      out.notes.push(
        `dead letters need the Pub/Sub service agent (service-<PROJECT_NUMBER>@gcp-sa-pubsub.iam.gserviceaccount.com) to have roles/pubsub.publisher on topic ${shortName(o.deadLetter.topic)} and roles/pubsub.subscriber on subscription ${shortName(o.subscription)}; renderGcloudCommands() prints the commands`,
      );
    }
    const want = subscriptionMetadata(o, projectId, input.push);
    const subscription = pubsub.subscription(o.subscription);
    await wrap(`creating subscription ${subscription.name}`, async () => {
      try {
        await pubsub.topic(o.topic).createSubscription(o.subscription, want);
        out.created.push(subscription.name);
        return;
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
      out.existing.push(subscription.name);
      const [have] = await subscription.getMetadata();
      const topicName = fullName(projectId, 'topics', o.topic);
      if (have.topic !== topicName) {
        throw new PubSubAdapterError(
          'resource_mismatch',
          `subscription ${subscription.name} exists but is attached to ${String(have.topic)}, not ${topicName}; choose another subscription name or delete it`,
        );
      }
      const diff = (field: string, haveV: unknown, wantV: unknown, fix: string): void => {
        if (haveV !== wantV) out.drift.push(`${field} is ${JSON.stringify(haveV)}, wanted ${JSON.stringify(wantV)} (${fix})`);
      };
      const sn = shortName(o.subscription);
      diff(
        'ackDeadlineSeconds',
        have.ackDeadlineSeconds ?? 10,
        o.ackDeadlineSeconds,
        `gcloud pubsub subscriptions update ${sn} --ack-deadline=${o.ackDeadlineSeconds}`,
      );
      diff(
        'enableExactlyOnceDelivery',
        Boolean(have.enableExactlyOnceDelivery),
        o.exactlyOnce,
        `gcloud pubsub subscriptions update ${sn} --${o.exactlyOnce ? '' : 'no-'}enable-exactly-once-delivery`,
      );
      diff(
        'enableMessageOrdering',
        Boolean(have.enableMessageOrdering),
        o.orderingKeys,
        'ordering cannot be changed: create a new subscription',
      );
      const haveDl = have.deadLetterPolicy?.deadLetterTopic
        ? `${have.deadLetterPolicy.deadLetterTopic}@${have.deadLetterPolicy.maxDeliveryAttempts ?? 5}`
        : null;
      const wantDl =
        o.deadLetter === null ? null : `${fullName(projectId, 'topics', o.deadLetter.topic)}@${o.deadLetter.maxDeliveryAttempts}`;
      diff(
        'deadLetterPolicy',
        haveDl,
        wantDl,
        o.deadLetter === null
          ? `gcloud pubsub subscriptions update ${sn} --clear-dead-letter-policy`
          : `gcloud pubsub subscriptions update ${sn} --dead-letter-topic=${shortName(o.deadLetter.topic)} --max-delivery-attempts=${o.deadLetter.maxDeliveryAttempts}`,
      );
      const haveRp = have.retryPolicy ? `${seconds(have.retryPolicy.minimumBackoff)}s..${seconds(have.retryPolicy.maximumBackoff)}s` : null;
      const wantRp = o.retryPolicy === null ? null : `${o.retryPolicy.minimumBackoffSeconds}s..${o.retryPolicy.maximumBackoffSeconds}s`;
      diff(
        'retryPolicy',
        haveRp,
        wantRp,
        o.retryPolicy === null
          ? `gcloud pubsub subscriptions update ${sn} --clear-retry-policy`
          : `gcloud pubsub subscriptions update ${sn} --min-retry-delay=${o.retryPolicy.minimumBackoffSeconds}s --max-retry-delay=${o.retryPolicy.maximumBackoffSeconds}s`,
      );
    });
    return out;
  } finally {
    if (conn.owned) await pubsub.close().catch(() => undefined);
  }
};
