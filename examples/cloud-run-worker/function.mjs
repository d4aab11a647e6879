// Cloud Functions 2nd gen entry point, the seed's `handle_backfill_request`:
//   gcloud functions deploy backfill-worker --gen2 --runtime=nodejs20 --source=. \
//     --entry-point=handleBackfillRequest --trigger-topic=smart-backfill-requests --timeout=540s --retry
// (needs `@google-cloud/functions-framework` in dependencies and "main": "function.mjs").
import { createApp } from './app.mjs';

const app = await createApp();

/**
 * The function the platform calls (see README.md). Resolving acks the event; throwing
 * makes the platform retry it.
 * @public
 */
export const handleBackfillRequest = (cloudEvent) => app.cloudEvent(cloudEvent);
