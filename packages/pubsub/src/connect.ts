import { PubSub } from '@google-cloud/pubsub';
import type { PubSubConnectionOptions } from './options.js';

/** A client and whether we made it (and so must close it). */
export interface Connection {
  readonly pubsub: PubSub;
  readonly owned: boolean;
}

/**
 * The caller's client, or a new one. An `apiEndpoint` that is not a
 * `*.googleapis.com` host puts the client in emulator mode (plain-text channel,
 * no credentials), as `PUBSUB_EMULATOR_HOST` does.
 */
export const connectPubSub = (opts: PubSubConnectionOptions & { readonly projectId?: string | undefined }): Connection => {
  if (opts.client !== undefined) return { pubsub: opts.client, owned: false };
  const config: ConstructorParameters<typeof PubSub>[0] = {};
  if (opts.projectId !== undefined) config.projectId = opts.projectId;
  if (opts.apiEndpoint !== undefined) config.apiEndpoint = opts.apiEndpoint;
  return { pubsub: new PubSub(config), owned: true };
};
