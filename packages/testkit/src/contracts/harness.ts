import { describe } from 'vitest';
import { ManualClock } from '../manual-clock.js';
import type { ContractOptions, Disposable } from './types.js';

export const DEFAULT_START_MS = Date.UTC(2025, 5, 1);

/** `describe` that honours `skip` (a string is printed as the reason in the title). */
export const contractDescribe = <S>(port: string, opts: ContractOptions<S>, body: () => void): void => {
  const title = `${port} contract: ${opts.name}`;
  if (opts.skip === true) describe.skip(title, body);
  else if (typeof opts.skip === 'string' && opts.skip !== '') describe.skip(`${title} (skipped: ${opts.skip})`, body);
  else describe(title, body);
};

/** Create a fresh subject on a fresh manual clock, run `fn`, always clean up. */
export const withSubject = async <S extends Disposable, R>(
  opts: ContractOptions<S>,
  fn: (subject: S, clock: ManualClock) => Promise<R>,
): Promise<R> => {
  const clock = new ManualClock(opts.startMs ?? DEFAULT_START_MS);
  const subject = await opts.create({ clock });
  try {
    return await fn(subject, clock);
  } finally {
    await subject.cleanup?.();
  }
};

export const sortStrings = <T extends string>(xs: Iterable<T>): T[] => [...xs].sort();
