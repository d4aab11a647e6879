/**
 * @smart-backfill/testkit — one contract suite per port, fault-injecting
 * wrappers, a manual clock and a deterministic simulator.
 *
 * Contract suites call vitest's `describe/it/expect`: import them from a test file only.
 */
export { ManualClock, advanceStepwise, settle } from './manual-clock.js';
export { /** @public */ type RandomSource, seededRandom } from './seeded-random.js';
export {
  InjectedFault,
  /** @public */ type FaultOptions,
  /** @public */ type QueueFaultOptions,
  withFaults,
  withQueueFaults,
} from './faults.js';
export type {
  /** @public */ ContractContext,
  /** @public */ ContractOptions,
  /** @public */ Disposable,
  /** @public */ ScheduleFixtureRow,
  /** @public */ ScheduleSubject,
  /** @public */ TargetSubject,
  /** @public */ QueueSubject,
  /** @public */ TrackerSubject,
  /** @public */ RunLogSubject,
  /** @public */ AlertLogSubject,
  /** @public */ CheckReaderSubject,
} from './contracts/types.js';
export { testScheduleSource, testTargetTable } from './contracts/window-contracts.js';
export { testBackfillQueue } from './contracts/backfill-queue-contract.js';
export { testRequestTracker } from './contracts/request-tracker-contract.js';
export { testRunLog } from './contracts/run-log-contract.js';
export { testAlertLog } from './contracts/alert-log-contract.js';
export { testCheckReader } from './contracts/check-reader-contract.js';
export { aNewRequest } from './contracts/request-fixtures.js';
export { aRunRecord } from './contracts/run-fixtures.js';
export { /** @public */ type SimulationOptions, simulate } from './simulate.js';
export { type SimulationReport, formatReport } from './simulation-report.js';
export { /** @public */ type CrashPoint, CrashableProcess, /** @public */ WorkerCrashed } from './crashable.js';
export { CrashSwitch, ProcessKilled } from './crash-switch.js';
export {
  /** @public */ DEFAULT_SIMULATED_GRAPH,
  /** @public */ type GraphSimulationOptions,
  /** @public */ type GraphSimulationReport,
  simulateGraph,
} from './simulate-graph.js';
