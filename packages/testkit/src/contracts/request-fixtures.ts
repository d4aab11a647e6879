import { type BackfillRequest, type IsoDate, type NewBackfillRequest } from '@smart-backfill/core';

/**
 * A new request with the seed's defaults, for tests; `over` sets any other field.
 * The date is not validated: a tracker's own validation is what some tests exercise.
 */
export const aNewRequest = (
  requestId: string,
  processorName: string,
  date: IsoDate | string,
  requestedAt: number,
  over: Partial<NewBackfillRequest> = {},
): NewBackfillRequest => ({
  requestId,
  processorName,
  date: date as IsoDate,
  requestType: 'auto',
  priority: 'normal',
  requestedAt,
  requestedBy: 'smart_backfill_detection',
  triggerReason: 'auto_backfill',
  metadata: { pattern: 'smart_backfill', auto_queued: true },
  ...over,
});

const FIELDS = [
  'requestId',
  'processorName',
  'date',
  'requestType',
  'priority',
  'requestedAt',
  'requestedBy',
  'triggerReason',
  'metadata',
  'status',
  'attempt',
  'failures',
  'gaveUp',
  'startedAt',
  'completedAt',
  'errorMessage',
  'leaseOwner',
  'leaseExpiresAt',
  'publishedAt',
  'notBefore',
  'updatedAt',
] as const satisfies readonly (keyof BackfillRequest)[];

/** The port's fields only, so adapters may carry extra columns. */
export const project = (r: BackfillRequest | undefined): Partial<BackfillRequest> | undefined => {
  if (r === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = r[f];
  return out as Partial<BackfillRequest>;
};

const byId = (a: { readonly requestId: string }, b: { readonly requestId: string }): number =>
  a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0;

export const projectSorted = (rs: readonly BackfillRequest[]): (Partial<BackfillRequest> | undefined)[] => [...rs].sort(byId).map(project);
