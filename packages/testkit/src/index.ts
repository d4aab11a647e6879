/**
 * @smart-backfill/testkit — one contract suite per port, fault-injecting
 * wrappers, a manual clock and a deterministic simulator.
 *
 * Contract suites call vitest's `describe/it/expect`: import them from a test file only.
 */
export { ManualClock, advanceStepwise, settle } from './manual-clock.js';
export { type RandomSource, seededRandom } from './seeded-random.js';
export { InjectedFault, type FaultOptions, type QueueFaultOptions, withFaults, withQueueFaults } from './faults.js';
export type {
  ContractContext,
  ContractOptions,
  Disposable,
  ScheduleFixtureRow,
  ScheduleSubject,
  TargetSubject,
  QueueSubject,
  TrackerSubject,
  RunLogSubject,
  AlertLogSubject,
  CheckReaderSubject,
} from './contracts/types.js';
export { testScheduleSource, testTargetTable } from './contracts/window-contracts.js';
export { testBackfillQueue } from './contracts/backfill-queue-contract.js';
export { testRequestTracker } from './contracts/request-tracker-contract.js';
export { testRunLog } from './contracts/run-log-contract.js';
export { testAlertLog } from './contracts/alert-log-contract.js';
export { testCheckReader } from './contracts/check-reader-contract.js';
export { type SimulationOptions, simulate } from './simulate.js';
export { type SimulationReport, formatReport } from './simulation-report.js';
export { type CrashPoint, CrashableProcess, WorkerCrashed } from './crashable.js';
export { CrashSwitch, ProcessKilled } from './crash-switch.js';
