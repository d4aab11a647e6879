import * as t from 'io-ts';
import { DEFAULT_POLICY, POLICY_PRESETS, validatePolicy, type GapPolicy } from '@smart-backfill/core';
import { show } from './decoders.js';

const FIELDS = ['lookbackDays', 'criticalLookbackDays', 'minRecordsPerDate', 'autoBackfillThreshold', 'blockOn', 'maxAttempts'] as const;

/**
 * A policy: a preset name or any subset of `GapPolicy`, resolved to a full policy.
 * Field rules and messages come from core's `validatePolicy`, re-worded to the path style
 * (`policy.lookbackDays: expected a whole number >= 1, got "30"`).
 */
export const policyCodec: t.Type<GapPolicy, GapPolicy, unknown> = new t.Type<GapPolicy, GapPolicy, unknown>(
  'GapPolicy',
  (u): u is GapPolicy => typeof u === 'object' && u !== null && validatePolicy(u)._tag === 'Ok',
  (u, c) => {
    if (typeof u === 'string') {
      if (Object.prototype.hasOwnProperty.call(POLICY_PRESETS, u)) return t.success(POLICY_PRESETS[u as keyof typeof POLICY_PRESETS]);
      return t.failure(
        u,
        c,
        `expected a preset (${Object.keys(POLICY_PRESETS)
          .map((k) => JSON.stringify(k))
          .join(', ')}) or an object, got ${show(u)}`,
      );
    }
    if (typeof u !== 'object' || u === null || Array.isArray(u))
      return t.failure(u, c, `expected a preset name or an object, got ${show(u)}`);
    const r = validatePolicy(u, DEFAULT_POLICY);
    if (r._tag === 'Ok') return t.success(r.value);
    const raw = u as Record<string, unknown>;
    const errors: t.Errors = r.error.map((p) => {
      if (p.field === 'policy') {
        const unknownKey = Object.keys(raw).find((k) => !(FIELDS as readonly string[]).includes(k) && p.message.includes(`"${k}"`));
        return unknownKey !== undefined
          ? {
              value: raw[unknownKey],
              context: t.appendContext(c, unknownKey, t.unknown, raw[unknownKey]),
              message: `unknown field (known: ${FIELDS.join(', ')})`,
            }
          : { value: u, context: c, message: p.message };
      }
      // "lookbackDays must be a whole number >= 1, got -2" → "expected a whole number >= 1, got -2", with strings quoted.
      const rest = p.message.replace(new RegExp(`^${p.field} must be `), 'expected ');
      const message = rest.replace(/, got .*$/, `, got ${show(p.value)}`);
      return { value: p.value, context: t.appendContext(c, p.field, t.unknown, p.value), message };
    });
    return t.failures(errors);
  },
  t.identity,
);
