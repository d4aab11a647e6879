import { dateProblem, invalidInput, nonEmptyProblem, type WindowQuery } from '@smart-backfill/core';
import { ORIGIN } from './jsonl-file.js';

/** Refuse a bad value with core's rule, as `invalid_input` naming the field, before anything is read or written. */
export const check = (problem: (v: unknown) => string | undefined, value: unknown, field: string): void => {
  const p = problem(value);
  if (p !== undefined) throw invalidInput(ORIGIN, field, p);
};

export const checkWindow = (q: WindowQuery): void => {
  check(nonEmptyProblem, q.processorName, 'processorName');
  check(dateProblem, q.start, 'start');
  check(dateProblem, q.end, 'end');
};
