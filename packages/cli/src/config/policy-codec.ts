import * as t from 'io-ts';
import { DEFAULT_POLICY, POLICY_PRESETS, validatePolicy, type GapPolicy } from '@smart-backfill/core';
import { show } from './decoders.js';

/**
 * A policy: a preset name or any subset of `GapPolicy`, resolved to a full policy.
 * Field rules come from core's `validatePolicy`, whose problems are data; they are
 * worded here in the path style (`policy.lookbackDays: expected a whole number >= 1, got "30"`).
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
    const errors: t.Errors = r.error.map((p) => {
      switch (p._tag) {
        case 'NotAnObject':
          return { value: u, context: c, message: `expected a preset name or an object, got ${show(u)}` };
        case 'UnknownField':
          return {
            value: p.value,
            context: t.appendContext(c, p.field, t.unknown, p.value),
            message: `unknown field (known: ${p.known.join(', ')})`,
          };
        case 'InvalidValue':
          return {
            value: p.value,
            context: t.appendContext(c, p.field, t.unknown, p.value),
            message: `expected ${p.expected}, got ${show(p.value)}`,
          };
      }
    });
    return t.failures(errors);
  },
  t.identity,
);
