import type { PubSubQueueConfig } from './config-types.js';
import { loadExtension } from '../runtime/extensions.js';

type ValidatePubSubOptions = typeof import('@smart-backfill/pubsub').validatePubSubOptions;

/** The resource and connection options `@smart-backfill/pubsub` takes, from a config's `queue` (without `type`). */
export type PubSubOptionsInput = Omit<PubSubQueueConfig, 'type' | 'topic' | 'subscription'> & {
  readonly topic?: string;
  readonly subscription?: string;
};

export const pubSubOptionsOf = (queue: PubSubQueueConfig): PubSubOptionsInput => {
  const { type: _type, ...rest } = queue;
  return rest;
};

/**
 * Check Pub/Sub options with the adapter's own rules and messages (loading
 * `@smart-backfill/pubsub`, and so the Google SDK, only here: the queue is Pub/Sub).
 * Each problem becomes `<name of its field>: <problem>`; `nameOf` says how the user
 * wrote the field (`queue.deadLetter.topic`, or a flag like `--dead-letter-topic`).
 * Returns no lines when all is well.
 */
export const pubSubProblems = async (options: PubSubOptionsInput, nameOf: (field: string) => string): Promise<string[]> => {
  const validate = await loadExtension<ValidatePubSubOptions>('@smart-backfill/pubsub', 'validatePubSubOptions', 'queue.type "pubsub"');
  const r = validate(options);
  if (r.ok) return [];
  return r.problems.map((p) => {
    // The adapter's messages start with the field's name; the user's name for it replaces it.
    const message = p.message.startsWith(`${p.field} `) ? p.message.slice(p.field.length + 1) : p.message;
    return `${nameOf(p.field)}: ${message}`;
  });
};
