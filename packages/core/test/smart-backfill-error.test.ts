import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  countProblem,
  dateProblem,
  durationProblem,
  instantProblem,
  invalidInput,
  isSmartBackfillError,
  nonEmptyProblem,
  releaseStatusProblem,
  SMART_BACKFILL_ERROR_CODES,
  SmartBackfillError,
} from '@smart-backfill/core';

describe('SmartBackfillError', () => {
  it('carries a code, the field, a detail, an origin-prefixed message and the cause', () => {
    const cause = new Error('boom');
    const e = new SmartBackfillError('unavailable', 'could not read', { origin: 'x', field: 'f', detail: 'read_failed', cause });
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, e.field, e.detail, e.message, e.cause]).toEqual([
      'SmartBackfillError',
      'unavailable',
      'f',
      'read_failed',
      '[smart-backfill] [x] could not read',
      cause,
    ]);
    expect(new SmartBackfillError('corrupt', 'as is').message).toBe('as is');
    expect('cause' in new SmartBackfillError('corrupt', 'no cause')).toBe(false);
  });

  it('invalidInput names the field in the message and in `field`', () => {
    const e = invalidInput('memory', 'query.start', dateProblem('2025-02-30') ?? '');
    expect(e).toMatchObject({ code: 'invalid_input', field: 'query.start' });
    expect(e.message).toMatch(/^\[smart-backfill\] \[memory\] query\.start: .*2025-02-30/);
  });

  it('the type guard checks the code, and recognises an error from another copy of core by its brand', () => {
    const e = new SmartBackfillError('contention', 'locked');
    expect(isSmartBackfillError(e)).toBe(true);
    expect(isSmartBackfillError(e, 'contention')).toBe(true);
    expect(isSmartBackfillError(e, 'corrupt')).toBe(false);
    for (const other of [new Error('x'), { code: 'contention' }, null, 'contention', undefined])
      expect(isSmartBackfillError(other)).toBe(false);
    const foreign = Object.assign(new Error('from a second copy'), { code: 'corrupt', [Symbol.for('@smart-backfill/error')]: true });
    expect(isSmartBackfillError(foreign, 'corrupt')).toBe(true);
  });

  it('docs/adapters.md lists every code, and no other', () => {
    const doc = readFileSync(new URL('../../../docs/adapters.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Errors'), doc.indexOf('## Writing your own'));
    const listed = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual([...SMART_BACKFILL_ERROR_CODES]);
  });
});

describe('input problems: the rules every adapter refuses as invalid_input', () => {
  it.each([
    ['dateProblem', dateProblem, '2025-05-01', ['2025-02-30', '2025-5-1', '', null, 20250501]],
    ['nonEmptyProblem', nonEmptyProblem, 'P', ['', null, 3]],
    ['instantProblem', instantProblem, 1748736000667.5, [Number.NaN, Number.POSITIVE_INFINITY, '1', null]],
    ['countProblem', countProblem, 0, [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3']],
    ['durationProblem', durationProblem, 1.5, [-1, Number.NaN, Number.POSITIVE_INFINITY, null]],
    ['releaseStatusProblem', releaseStatusProblem, 'cancelled', ['done', 'held', '', null]],
  ] as const)('%s accepts a good value and names the problem with each bad one', (_name, problem, good, bad) => {
    expect(problem(good)).toBeUndefined();
    for (const b of bad) expect(problem(b), String(b)).toEqual(expect.any(String));
  });
});
