import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensurePubSubResources,
  renderGcloudCommands,
  resolvePubSubOptions,
  validatePubSubOptions,
  PubSubAdapterError,
} from '../src/index.js';
import { ensure, startFakeEnv, type FakeEnv } from './helpers.js';

let env: FakeEnv;
beforeAll(async () => {
  env = await startFakeEnv();
});
afterAll(async () => {
  await env.stop();
});

const problems = (input: unknown): string[] => {
  const r = validatePubSubOptions(input);
  return r.ok ? [] : r.problems.map((p) => `${p.field}: ${p.message}`);
};

describe('validatePubSubOptions', () => {
  it('fills the seed-derived defaults', () => {
    expect(resolvePubSubOptions({})).toMatchObject({
      topic: 'smart-backfill-requests',
      subscription: 'smart-backfill-worker',
      ackDeadlineSeconds: 540,
      retryPolicy: { minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 },
      deadLetter: { topic: 'smart-backfill-dead-letters', maxDeliveryAttempts: 5, subscription: 'smart-backfill-dead-letters-sub' },
      exactlyOnce: false,
      orderingKeys: false,
    });
  });

  it('rejects maxDeliveryAttempts outside 5–100 with a message naming the field and the limits', () => {
    for (const bad of [4, 101, 0, 5.5, '10']) {
      const ps = problems({ deadLetter: { maxDeliveryAttempts: bad } });
      expect(ps).toHaveLength(1);
      expect(ps[0]).toMatch(
        /^deadLetter\.maxDeliveryAttempts: deadLetter\.maxDeliveryAttempts must be a whole number from 5 to 100 \(Pub\/Sub's limits\), got /,
      );
    }
    expect(problems({ deadLetter: { maxDeliveryAttempts: 5 } })).toEqual([]);
    expect(problems({ deadLetter: { maxDeliveryAttempts: 100 } })).toEqual([]);
  });

  it('reports every problem at once: names, ack deadline, backoff order, unknown keys', () => {
    const ps = problems({
      topic: 'ab',
      subscription: 'projects/p/topics/not-a-sub',
      ackDeadlineSeconds: 5,
      retryPolicy: { minimumBackoffSeconds: 60, maximumBackoffSeconds: 10 },
      colour: 'blue',
    });
    expect(ps.join('\n')).toMatch(/topic: topic must be 3–255 characters/);
    expect(ps.join('\n')).toMatch(/subscription: subscription must name a subscription/);
    expect(ps.join('\n')).toMatch(/ackDeadlineSeconds: ackDeadlineSeconds must be a whole number from 10 to 600, got 5/);
    expect(ps.join('\n')).toMatch(/retryPolicy\.maximumBackoffSeconds \(10\) must be >= minimumBackoffSeconds \(60\)/);
    expect(ps.join('\n')).toMatch(/unknown option "colour"/);
    expect(ps).toHaveLength(5);
  });

  it('refuses a dead-letter topic equal to the topic', () => {
    expect(problems({ topic: 'same-topic', deadLetter: { topic: 'projects/x/topics/same-topic' } })[0]).toMatch(
      /deadLetter\.topic must differ from topic/,
    );
  });

  it('resolvePubSubOptions throws a PubSubAdapterError with the problems', () => {
    expect(() => resolvePubSubOptions({ deadLetter: { maxDeliveryAttempts: 3 } })).toThrow(PubSubAdapterError);
    expect(() => resolvePubSubOptions({ deadLetter: { maxDeliveryAttempts: 3 } })).toThrow(
      /^\[smart-backfill\] \[pubsub\] invalid Pub\/Sub options: deadLetter\.maxDeliveryAttempts/,
    );
  });
});

describe('ensurePubSubResources', () => {
  it('creates topic, dead-letter topic and its subscription, and the worker subscription as configured — and is idempotent', async () => {
    const client = env.client();
    const n = env.names('a');
    const opts = {
      topic: n.topic,
      subscription: n.subscription,
      deadLetter: { topic: n.deadLetterTopic, maxDeliveryAttempts: 7 },
      exactlyOnce: true,
    };
    const first = await ensure(client, opts);
    const P = 'projects/test-project';
    expect([...first.created].sort()).toEqual(
      [
        `${P}/topics/${n.topic}`,
        `${P}/topics/${n.deadLetterTopic}`,
        `${P}/subscriptions/${n.deadLetterTopic}-sub`,
        `${P}/subscriptions/${n.subscription}`,
      ].sort(),
    );
    expect(first.notes.join()).toMatch(/gcp-sa-pubsub/);
    const sub = env.fake.subscription(`${P}/subscriptions/${n.subscription}`);
    expect(sub).toMatchObject({
      topic: `${P}/topics/${n.topic}`,
      ackDeadlineSeconds: 540,
      deadLetterPolicy: { deadLetterTopic: `${P}/topics/${n.deadLetterTopic}`, maxDeliveryAttempts: 7 },
      enableExactlyOnceDelivery: true,
      enableMessageOrdering: false,
    });
    expect(Number(sub?.retryPolicy?.minimumBackoff.seconds)).toBe(10);
    expect(Number(sub?.retryPolicy?.maximumBackoff.seconds)).toBe(600);

    const second = await ensure(client, opts);
    expect(second.created).toEqual([]);
    expect(second.existing).toHaveLength(4);
    expect(second.drift).toEqual([]);

    const drifted = await ensure(client, { ...opts, ackDeadlineSeconds: 300, exactlyOnce: false });
    expect(drifted.drift.join('\n')).toMatch(
      /ackDeadlineSeconds is 540, wanted 300 \(gcloud pubsub subscriptions update .* --ack-deadline=300\)/,
    );
    expect(drifted.drift.join('\n')).toMatch(/enableExactlyOnceDelivery is true, wanted false/);
  });

  it('refuses a subscription that exists on another topic', async () => {
    const client = env.client();
    const n = env.names('m');
    await ensure(client, { topic: n.topic, subscription: n.subscription, deadLetter: false });
    const err = await ensure(client, { topic: `${n.topic}-other`, subscription: n.subscription, deadLetter: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PubSubAdapterError);
    expect(err).toMatchObject({ code: 'invalid_config', detail: 'resource_mismatch' });
    expect((err as Error).message).toMatch(
      /exists but is attached to projects\/test-project\/topics\/.*, not projects\/test-project\/topics\/.*-other/,
    );
  });

  it('wraps transport errors with the package prefix and a cause', async () => {
    env.fake.failNext('CreateTopic', grpc.status.PERMISSION_DENIED);
    const err = await ensurePubSubResources({
      apiEndpoint: env.fake.endpoint,
      projectId: 'test-project',
      topic: 'some-topic',
      deadLetter: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PubSubAdapterError);
    expect((err as Error).message).toMatch(
      /^\[smart-backfill\] \[pubsub\] creating topic projects\/test-project\/topics\/some-topic failed/,
    );
    expect((err as Error).message).toMatch(/PERMISSION_DENIED/);
    expect((err as Error).cause).toBeDefined();
    expect(err).toMatchObject({ code: 'unavailable', detail: 'admin_failed' });
  });
});

describe('renderGcloudCommands', () => {
  it('prints the gcloud equivalent of ensurePubSubResources, including the dead-letter IAM bindings', () => {
    const out = renderGcloudCommands({
      projectId: 'nba-props',
      topic: 'nba-backfill-requests',
      subscription: 'backfill-worker-sub',
      deadLetter: { maxDeliveryAttempts: 10 },
      exactlyOnce: true,
    });
    const lines = out.split('\n');
    expect(lines).toContain('gcloud pubsub topics create nba-backfill-requests --project=nba-props');
    expect(lines).toContain('gcloud pubsub topics create smart-backfill-dead-letters --project=nba-props');
    expect(out).toContain(
      'gcloud pubsub subscriptions create smart-backfill-dead-letters-sub --topic=smart-backfill-dead-letters --ack-deadline=60 --project=nba-props',
    );
    expect(out).toContain(
      'gcloud pubsub subscriptions create backfill-worker-sub \\\n  --topic=nba-backfill-requests \\\n  --ack-deadline=540 \\\n  --min-retry-delay=10s \\\n  --max-retry-delay=600s \\\n  --dead-letter-topic=smart-backfill-dead-letters \\\n  --max-delivery-attempts=10 \\\n  --enable-exactly-once-delivery \\\n  --project=nba-props',
    );
    expect(out).toContain('--role=roles/pubsub.publisher');
    expect(out).toContain(
      'gcloud pubsub subscriptions add-iam-policy-binding backfill-worker-sub --member="$PUBSUB_AGENT" --role=roles/pubsub.subscriber --project=nba-props',
    );
  });

  it('prints a push subscription for Cloud Run, and nothing about dead letters when they are off', () => {
    const out = renderGcloudCommands({
      deadLetter: false,
      retryPolicy: false,
      push: { endpoint: 'https://worker-abc.a.run.app/', serviceAccount: 'pusher@p.iam.gserviceaccount.com' },
    });
    expect(out).toContain('--push-endpoint=https://worker-abc.a.run.app/');
    expect(out).toContain('--push-auth-service-account=pusher@p.iam.gserviceaccount.com');
    expect(out).not.toMatch(/dead-letter|retry-delay/);
  });

  it('throws on invalid options like the other entry points', () => {
    expect(() => renderGcloudCommands({ deadLetter: { maxDeliveryAttempts: 200 } })).toThrow(/from 5 to 100/);
  });
});
