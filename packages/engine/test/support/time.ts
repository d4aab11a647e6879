import type { ManualClock } from '@smart-backfill/testkit';

/** Let every queued promise continuation run (a few macrotask turns). */
export const settle = async (turns = 5): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
};

/**
 * Move `clock` forward by `ms` one sleep deadline at a time, settling in between,
 * so a sleeper woken on the way (a heartbeat) can sleep again and wake again
 * within the same span, as it would in real time.
 */
export const advance = async (clock: ManualClock, ms: number): Promise<void> => {
  const target = clock.now() + ms;
  for (let next = clock.nextDeadline(); next !== undefined && next <= target; next = clock.nextDeadline()) {
    clock.set(Math.max(clock.now(), next));
    await settle();
  }
  clock.set(target);
  await settle();
};
