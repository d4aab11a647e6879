// One copy, in testkit beside ManualClock; the engine tests keep their short names.
export { advanceStepwise as advance, settle } from '@smart-backfill/testkit';
