import { afterAll, expect } from 'vitest';
import { FakeBigQuery } from './fake-bigquery-server.js';

/** Hosts the shared vitest setup refused to connect to (it throws, and records them here). */
export const netTrap = (): readonly string[] => (globalThis as { __smartBackfillNetTrap?: string[] }).__smartBackfillNetTrap ?? [];

/** One fake per test file, stopped after it; asserts at the end that nothing tried to leave loopback. */
export const startFake = async (): Promise<FakeBigQuery> => {
  const fake = await new FakeBigQuery().start();
  afterAll(async () => {
    await fake.stop();
    expect(netTrap()).toEqual([]);
  });
  return fake;
};

let counter = 0;
/** A fresh tracking dataset name, so every contract subject starts empty. */
export const freshDataset = (prefix = 'sb'): string => `${prefix}_${process.pid}_${++counter}`;
