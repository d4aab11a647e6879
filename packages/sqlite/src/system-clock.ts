import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '@smart-backfill/core';

/** The default when `openSqliteStore` is given no clock (kept local: this package does not need the engine). */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, signal === undefined ? undefined : { signal }),
};
