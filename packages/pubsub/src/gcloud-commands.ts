import type { PushOptions } from './admin.js';
import { resolvePubSubOptions, shortName, type PubSubResourceOptions } from './options.js';

const quote = (s: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The gcloud commands that create what `ensurePubSubResources` creates, for people
 * who keep infrastructure in scripts (`smart-backfill init --pubsub` prints them).
 * Includes the IAM bindings a dead-letter policy needs, which the API call cannot
 * make for you without owner rights.
 */
export const renderGcloudCommands = (input: PubSubResourceOptions & { readonly push?: PushOptions | undefined }): string => {
  const o = resolvePubSubOptions({ ...input, push: undefined });
  const project = o.projectId === undefined ? '' : ` --project=${quote(o.projectId)}`;
  const topic = shortName(o.topic);
  const sub = shortName(o.subscription);
  const lines: string[] = ['# smart-backfill: Pub/Sub resources (idempotent to re-run: "already exists" errors are harmless)'];
  lines.push(`gcloud pubsub topics create ${topic}${project}`);
  if (o.deadLetter !== null) {
    lines.push(`gcloud pubsub topics create ${shortName(o.deadLetter.topic)}${project}`);
    lines.push('# a topic without a subscription drops what reaches it: keep the dead letters');
    lines.push(
      `gcloud pubsub subscriptions create ${shortName(o.deadLetter.subscription)} --topic=${shortName(o.deadLetter.topic)} --ack-deadline=60${project}`,
    );
  }
  const flags = [`--topic=${topic}`, `--ack-deadline=${o.ackDeadlineSeconds}`];
  if (o.retryPolicy !== null)
    flags.push(`--min-retry-delay=${o.retryPolicy.minimumBackoffSeconds}s`, `--max-retry-delay=${o.retryPolicy.maximumBackoffSeconds}s`);
  if (o.deadLetter !== null)
    flags.push(`--dead-letter-topic=${shortName(o.deadLetter.topic)}`, `--max-delivery-attempts=${o.deadLetter.maxDeliveryAttempts}`);
  if (o.exactlyOnce) flags.push('--enable-exactly-once-delivery');
  if (o.orderingKeys) flags.push('--enable-message-ordering');
  if (input.push !== undefined) {
    flags.push(`--push-endpoint=${quote(input.push.endpoint)}`);
    if (input.push.serviceAccount !== undefined) flags.push(`--push-auth-service-account=${quote(input.push.serviceAccount)}`);
  }
  if (project !== '') flags.push(project.trim());
  lines.push(`gcloud pubsub subscriptions create ${sub} \\\n  ${flags.join(' \\\n  ')}`);
  if (o.deadLetter !== null) {
    const p = o.projectId ?? '"$(gcloud config get-value project)"';
    lines.push('# dead-letter forwarding runs as the Pub/Sub service agent: let it publish to the dead-letter topic and ack on the source');
    lines.push(`PROJECT_NUMBER=$(gcloud projects describe ${p} --format='value(projectNumber)')`);
    lines.push('PUBSUB_AGENT="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"');
    lines.push(
      `gcloud pubsub topics add-iam-policy-binding ${shortName(o.deadLetter.topic)} --member="$PUBSUB_AGENT" --role=roles/pubsub.publisher${project}`,
    );
    lines.push(
      `gcloud pubsub subscriptions add-iam-policy-binding ${sub} --member="$PUBSUB_AGENT" --role=roles/pubsub.subscriber${project}`,
    );
  }
  return lines.join('\n') + '\n';
};
