import { BigQuery } from '@google-cloud/bigquery';

/** How to reach BigQuery when the caller may not pass a client of their own. */
export interface ClientChoice {
  /** Your client; omitted: one is built from the fields below with Application Default Credentials. */
  readonly client?: BigQuery | undefined;
  readonly projectId?: string | undefined;
  readonly location?: string | undefined;
  /** Service-account key file, only when a client is built here. */
  readonly keyFilename?: string | undefined;
}

/** The caller's client, or one built from `projectId`, `location` and `keyFilename`. */
export const clientOf = (o: ClientChoice): BigQuery =>
  o.client ??
  new BigQuery({
    ...(o.projectId === undefined ? {} : { projectId: o.projectId }),
    ...(o.location === undefined ? {} : { location: o.location }),
    ...(o.keyFilename === undefined ? {} : { keyFilename: o.keyFilename }),
  });
