import { dateProblem, invalidInput, nonEmptyProblem, type WindowQuery } from '@smart-backfill/core';

/**
 * Refuse what a durable adapter would refuse, so code tested against memory does not
 * meet its first `invalid_input` in production: throw when `problem` finds one in `value`.
 */
export const check = (problem: (v: unknown) => string | undefined, value: unknown, field: string): void => {
  const p = problem(value);
  if (p !== undefined) throw invalidInput('memory', field, p);
};

export const checkWindow = (q: WindowQuery): void => {
  check(nonEmptyProblem, q.processorName, 'processorName');
  check(dateProblem, q.start, 'start');
  check(dateProblem, q.end, 'end');
};
