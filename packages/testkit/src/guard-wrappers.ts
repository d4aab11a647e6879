import type { GuardedProcessor, GuardOutcome } from '@smart-backfill/engine';

/**
 * `guard` with another `run`; its name, inner processor, policy, check and verify pass
 * through. Its inputs and alert upkeep do not: the wrappers here never carried them.
 */
export const replaceRun = (guard: GuardedProcessor, run: GuardedProcessor['run']): GuardedProcessor => ({
  name: guard.name,
  inner: guard.inner,
  policy: guard.policy,
  check: (date) => guard.check(date),
  verifyFilled: (date) => guard.verifyFilled(date),
  run,
});

/** `guard` with every outcome of its `run` shown to `observe` before it is returned. */
export const observeRuns = (guard: GuardedProcessor, observe: (outcome: GuardOutcome) => void): GuardedProcessor =>
  replaceRun(guard, async (opts) => {
    const o = await guard.run(opts);
    observe(o);
    return o;
  });
