/**
 * Second setup file of the reliability suite (after scripts/vitest-setup.ts,
 * which installs the trap): at the end of every test file, no socket may have
 * tried to leave loopback. Each file runs in its own worker process, so the
 * check runs per file, not once at the end.
 */
import { afterAll, expect } from 'vitest';

afterAll(() => {
  const trap = (globalThis as { __smartBackfillNetTrap?: string[] }).__smartBackfillNetTrap;
  expect(trap, 'scripts/vitest-setup.ts must install the non-loopback trap').toBeDefined();
  expect(trap, 'a test tried to open a non-loopback connection').toEqual([]);
});
