import { randomUUID } from 'node:crypto';
import type { PubSub } from '@google-cloud/pubsub';
import { ensurePubSubResources, type EnsureOptions } from '../src/index.js';
import { FakePubSubServer } from './fake-pubsub-server.js';

/** One fake server per test file; each test gets fresh, uniquely named resources on it. */
export interface FakeEnv {
  readonly fake: FakePubSubServer;
  /** Set the time the fake reads (a ManualClock's `now`, or real time when null). */
  useClock(now: (() => number) | null): void;
  client(): PubSub;
  names(prefix?: string): { topic: string; subscription: string; deadLetterTopic: string; deadLetterSubscription: string };
  stop(): Promise<void>;
}

export const startFakeEnv = async (): Promise<FakeEnv> => {
  let clockNow: (() => number) | null = null;
  const fake = await FakePubSubServer.start({ now: () => (clockNow === null ? Date.now() : clockNow()), pullWaitMs: 300 });
  const clients: PubSub[] = [];
  return {
    fake,
    useClock(now) {
      clockNow = now;
    },
    client() {
      const c = fake.client();
      clients.push(c);
      return c;
    },
    names(prefix = 'sb') {
      const id = randomUUID().slice(0, 8);
      return {
        topic: `${prefix}-topic-${id}`,
        subscription: `${prefix}-sub-${id}`,
        deadLetterTopic: `${prefix}-dlq-${id}`,
        deadLetterSubscription: `${prefix}-dlq-sub-${id}`,
      };
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await fake.stop();
    },
  };
};

/** A full resource name in the fake's project. */
export const full = (kind: 'topics' | 'subscriptions', name: string): string => `projects/test-project/${kind}/${name}`;

export const ensure = (client: PubSub, o: Omit<EnsureOptions, 'client'>) => ensurePubSubResources({ ...o, client });

/** Poll until `f()` is true (real time; no timed assertion: only a generous ceiling). */
export const eventually = async (f: () => boolean | Promise<boolean>, what: string, ceilingMs = 10_000): Promise<void> => {
  const until = Date.now() + ceilingMs;
  while (!(await f())) {
    if (Date.now() > until) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
