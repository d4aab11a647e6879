import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, POLICY_PRESETS, formatPolicyProblem, validatePolicy, type PolicyProblem } from '@smart-backfill/core';

const problems = (input: unknown): readonly PolicyProblem[] => {
  const r = validatePolicy(input);
  return r._tag === 'Err' ? r.error : [];
};

describe('policy', () => {
  it("has the seed's defaults", () => {
    expect(DEFAULT_POLICY).toEqual({
      lookbackDays: 30,
      criticalLookbackDays: 10,
      minRecordsPerDate: 100,
      autoBackfillThreshold: 3,
      blockOn: 'any',
      maxAttempts: 3,
    });
    expect(Object.isFrozen(DEFAULT_POLICY)).toBe(true);
  });

  it('presets differ only in the threshold: conservative 2, balanced 3, aggressive 7', () => {
    expect(POLICY_PRESETS.conservative).toEqual({ ...DEFAULT_POLICY, autoBackfillThreshold: 2 });
    expect(POLICY_PRESETS.balanced).toEqual({ ...DEFAULT_POLICY, autoBackfillThreshold: 3 });
    expect(POLICY_PRESETS.aggressive).toEqual({ ...DEFAULT_POLICY, autoBackfillThreshold: 7 });
  });

  it('fills absent fields from the defaults', () => {
    expect(validatePolicy(undefined)).toEqual({ _tag: 'Ok', value: DEFAULT_POLICY });
    expect(validatePolicy({ lookbackDays: 45 })).toEqual({ _tag: 'Ok', value: { ...DEFAULT_POLICY, lookbackDays: 45 } });
  });

  const messages = (input: unknown): string[] => problems(input).map(formatPolicyProblem);

  it('returns problems as data, not sentences to be re-parsed', () => {
    expect(problems({ minRecordsPerDate: 0 })).toEqual([
      { _tag: 'InvalidValue', field: 'minRecordsPerDate', value: 0, expected: 'a whole number >= 1' },
    ]);
    expect(problems({ lookbakDays: 30 })).toEqual([
      {
        _tag: 'UnknownField',
        field: 'lookbakDays',
        value: 30,
        known: ['lookbackDays', 'criticalLookbackDays', 'minRecordsPerDate', 'autoBackfillThreshold', 'blockOn', 'maxAttempts'],
      },
    ]);
    expect(problems('balanced')).toEqual([{ _tag: 'NotAnObject', value: 'balanced' }]);
  });

  it('names the field and the value', () => {
    expect(messages({ lookbackDays: -2 })).toEqual(['lookbackDays must be a whole number >= 1, got -2']);
    expect(messages({ minRecordsPerDate: 0 })).toEqual(['minRecordsPerDate must be a whole number >= 1, got 0']);
    expect(messages({ autoBackfillThreshold: -1 })[0]).toBe('autoBackfillThreshold must be a whole number >= 0, got -1');
    expect(problems({ autoBackfillThreshold: 0 })).toEqual([]);
    expect(messages({ blockOn: 'some' })[0]).toBe('blockOn must be "any" or "critical", got "some"');
    expect(messages({ maxAttempts: 1.5 })[0]).toBe('maxAttempts must be a whole number >= 1, got 1.5');
    expect(messages({ lookbackDays: '30' })[0]).toBe('lookbackDays must be a whole number >= 1, got "30"');
    expect(messages({ lookbakDays: 30 })[0]).toMatch(/no field "lookbakDays"/);
    expect(messages([1])[0]).toBe('policy must be an object, got an array');
  });

  it('criticalLookbackDays <= lookbackDays', () => {
    expect(messages({ lookbackDays: 7, criticalLookbackDays: 8 })).toEqual(['criticalLookbackDays must be <= lookbackDays (7), got 8']);
    expect(problems({ lookbackDays: 7, criticalLookbackDays: 7 })).toEqual([]);
    expect(problems({ lookbackDays: 5 })[0]).toMatchObject({ field: 'criticalLookbackDays' }); // default 10 > 5
  });

  it('returns every problem at once', () => {
    const ps = problems({ lookbackDays: 0, minRecordsPerDate: -5, autoBackfillThreshold: 'x', blockOn: 1, maxAttempts: 0, extra: true });
    expect(ps.map((p) => (p._tag === 'NotAnObject' ? 'policy' : p.field)).sort()).toEqual([
      'autoBackfillThreshold',
      'blockOn',
      'extra',
      'lookbackDays',
      'maxAttempts',
      'minRecordsPerDate',
    ]);
  });

  it('accepts exactly the in-range whole numbers (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 50 }),
        fc.integer({ min: -5, max: 50 }),
        fc.integer({ min: -5, max: 500 }),
        fc.integer({ min: -5, max: 10 }),
        (lookbackDays, criticalLookbackDays, minRecordsPerDate, autoBackfillThreshold) => {
          const r = validatePolicy({ lookbackDays, criticalLookbackDays, minRecordsPerDate, autoBackfillThreshold });
          const valid =
            lookbackDays >= 1 &&
            criticalLookbackDays >= 0 &&
            criticalLookbackDays <= lookbackDays &&
            minRecordsPerDate >= 1 &&
            autoBackfillThreshold >= 0;
          expect(r._tag).toBe(valid ? 'Ok' : 'Err');
          if (r._tag === 'Err')
            for (const p of r.error) expect(p._tag === 'InvalidValue' && formatPolicyProblem(p).startsWith(p.field)).toBe(true);
        },
      ),
    );
  });
});
