import type { Alerter } from '@smart-backfill/core';

/** An `Alerter` with a name, so fan-out reports and errors can say which channel failed. */
export interface NamedAlerter extends Alerter {
  readonly name: string;
}
