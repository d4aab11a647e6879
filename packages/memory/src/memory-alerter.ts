import { SmartBackfillError, type Alerter, type AlertNotice } from '@smart-backfill/core';

export interface MemoryAlerter extends Alerter {
  /** Notices delivered, in order. */
  readonly notices: AlertNotice[];
  /** Sends attempted, including failed ones. */
  readonly attempts: () => number;
  /** Make `send` throw (`true`, or for the notices a predicate picks) until set back. */
  failWhen(fail: boolean | ((n: AlertNotice) => boolean)): void;
}

/** Records every notice; can be told to fail, to show that a broken channel breaks nothing. */
export const memoryAlerter = (opts: { readonly fail?: boolean | ((n: AlertNotice) => boolean) } = {}): MemoryAlerter => {
  let fail = opts.fail ?? false;
  let attempts = 0;
  const notices: AlertNotice[] = [];
  return {
    notices,
    attempts: () => attempts,
    failWhen(f) {
      fail = f;
    },
    async send(n) {
      attempts++;
      if (fail === true || (typeof fail === 'function' && fail(n)))
        throw new SmartBackfillError('unavailable', 'alerter told to fail', { origin: 'memory' });
      notices.push(n);
    },
  };
};
