/**
 * Small io-ts decoders whose failures read well: every error carries a path
 * (`processors[0].policy.lookbackDays`) and a sentence (`expected a whole number >= 1, got "30"`).
 * The stock combinators report unions and intersections as a wall of alternatives,
 * so objects, arrays and records here are hand-written `t.Type`s that fail once per
 * real problem and flag unknown fields.
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { parseIsoDate, type IsoDate } from '@smart-backfill/core';

/** A value shown in a message: strings quoted, objects as short JSON. */
export const show = (u: unknown): string => {
  if (u === undefined) return 'nothing';
  if (u === null) return 'null';
  if (typeof u === 'string') return JSON.stringify(u.length > 60 ? `${u.slice(0, 57)}...` : u);
  if (Array.isArray(u)) return 'an array';
  if (typeof u === 'object') return 'an object';
  if (typeof u === 'function') return 'a function';
  return String(u);
};

const ARRAY_KIND = Symbol('array');
type Tagged = { [ARRAY_KIND]?: true };

const make = <A>(name: string, validate: (u: unknown, c: t.Context) => t.Validation<A>): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(name, (u): u is A => !isLeft(validate(u, [{ key: '', type: t.unknown, actual: u }])), validate, t.identity);

/** Sub-validate `codec` at `key`, appending to `errors`; returns the value or `undefined`. */
const sub = <A>(codec: t.Decoder<unknown, A>, u: unknown, c: t.Context, key: string, errors: t.Errors): A | undefined => {
  const r = codec.validate(u, t.appendContext(c, key, codec as t.Decoder<unknown, A> & t.Any, u));
  if (isLeft(r)) {
    errors.push(...r.left);
    return undefined;
  }
  return r.right;
};

export const string = (what = 'a non-empty string'): t.Type<string, string, unknown> =>
  make(what, (u, c) => (typeof u === 'string' && u.length > 0 ? t.success(u) : t.failure(u, c, `expected ${what}, got ${show(u)}`)));

export const matching = (re: RegExp, what: string): t.Type<string, string, unknown> =>
  make(what, (u, c) => (typeof u === 'string' && re.test(u) ? t.success(u) : t.failure(u, c, `expected ${what}, got ${show(u)}`)));

export const literal = <L extends string>(values: readonly L[]): t.Type<L, L, unknown> =>
  make(values.join(' | '), (u, c) =>
    typeof u === 'string' && (values as readonly string[]).includes(u)
      ? t.success(u as L)
      : t.failure(u, c, `expected ${values.map((v) => JSON.stringify(v)).join(' or ')}, got ${show(u)}`),
  );

export const boolean: t.Type<boolean, boolean, unknown> = make('boolean', (u, c) =>
  typeof u === 'boolean' ? t.success(u) : t.failure(u, c, `expected true or false, got ${show(u)}`),
);

export const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER): t.Type<number, number, unknown> =>
  make(`integer >= ${min}`, (u, c) =>
    typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max
      ? t.success(u)
      : t.failure(u, c, `expected a whole number >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''}, got ${show(u)}`),
  );

export const isoDate: t.Type<IsoDate, IsoDate, unknown> = make('IsoDate', (u, c) => {
  const r = parseIsoDate(u);
  return r._tag === 'Ok' ? t.success(r.value) : t.failure(u, c, r.error.message);
});

export const func: t.Type<(...args: never[]) => unknown, (...args: never[]) => unknown, unknown> = make('function', (u, c) =>
  typeof u === 'function' ? t.success(u as (...args: never[]) => unknown) : t.failure(u, c, `expected a function, got ${show(u)}`),
);

export const array = <A>(item: t.Decoder<unknown, A>, opts: { minLength?: number } = {}): t.Type<A[], A[], unknown> => {
  const codec = make<A[]>(`Array<${item.name}>`, (u, c) => {
    if (!Array.isArray(u)) return t.failure(u, c, `expected an array, got ${show(u)}`);
    if (opts.minLength !== undefined && u.length < opts.minLength) {
      return t.failure(u, c, `expected at least ${opts.minLength} entr${opts.minLength === 1 ? 'y' : 'ies'}, got ${u.length}`);
    }
    const errors: t.Errors = [];
    const out: A[] = [];
    u.forEach((v, i) => {
      const a = sub(item, v, c, String(i), errors);
      if (a !== undefined) out.push(a);
    });
    return errors.length > 0 ? t.failures(errors) : t.success(out);
  });
  (codec as unknown as Tagged)[ARRAY_KIND] = true;
  return codec;
};

/** A `{ key: value }` object with validated keys and values. */
export const record = <K extends string, V>(
  key: t.Decoder<unknown, K>,
  value: t.Decoder<unknown, V>,
): t.Type<Record<K, V>, Record<K, V>, unknown> =>
  make(`Record<${key.name}, ${value.name}>`, (u, c) => {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `expected an object, got ${show(u)}`);
    const errors: t.Errors = [];
    const out = {} as Record<K, V>;
    for (const [k, v] of Object.entries(u)) {
      const kk = key.validate(k, t.appendContext(c, k, key as t.Decoder<unknown, K> & t.Any, k));
      if (isLeft(kk)) {
        errors.push(...kk.left);
        continue;
      }
      const vv = sub(value, v, c, k, errors);
      if (vv !== undefined) out[kk.right] = vv;
    }
    return errors.length > 0 ? t.failures(errors) : t.success(out);
  });

type Decoders = Record<string, t.Decoder<unknown, unknown>>;
type Out<R extends Decoders, O extends Decoders> = { [K in keyof R]: t.TypeOf<R[K] & t.Any> } & { [K in keyof O]?: t.TypeOf<O[K] & t.Any> };

/**
 * An object with required and optional fields. Unknown fields are errors
 * (a typo in a config must not be silently ignored), except keys starting with `$`
 * (`$schema`, `$comment`).
 */
export const struct = <R extends Decoders, O extends Decoders>(
  name: string,
  required: R,
  optional: O,
): t.Type<Out<R, O>, Out<R, O>, unknown> =>
  make(name, (u, c) => {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `expected an object, got ${show(u)}`);
    const raw = u as Record<string, unknown>;
    const errors: t.Errors = [];
    const out: Record<string, unknown> = {};
    for (const [k, codec] of Object.entries(required)) {
      if (raw[k] === undefined) {
        errors.push({ value: undefined, context: t.appendContext(c, k, t.unknown, undefined), message: `is required (${codec.name})` });
        continue;
      }
      const v = sub(codec, raw[k], c, k, errors);
      if (v !== undefined) out[k] = v;
    }
    for (const [k, codec] of Object.entries(optional)) {
      if (raw[k] === undefined) continue;
      const v = sub(codec, raw[k], c, k, errors);
      if (v !== undefined) out[k] = v;
    }
    const known = [...Object.keys(required), ...Object.keys(optional)];
    for (const k of Object.keys(raw)) {
      if (known.includes(k) || k.startsWith('$')) continue;
      errors.push({
        value: raw[k],
        context: t.appendContext(c, k, t.unknown, raw[k]),
        message: `unknown field (known: ${known.join(', ')})`,
      });
    }
    return errors.length > 0 ? t.failures(errors) : t.success(out as Out<R, O>);
  });

/**
 * One of several object shapes told apart by a string field (`type`), so an error
 * talks about the shape the user meant instead of every alternative.
 */
export const tagged = <A>(field: string, cases: Record<string, t.Decoder<unknown, A>>): t.Type<A, A, unknown> =>
  make(Object.keys(cases).join(' | '), (u, c) => {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `expected an object, got ${show(u)}`);
    const tag = (u as Record<string, unknown>)[field];
    const codec = typeof tag === 'string' && Object.prototype.hasOwnProperty.call(cases, tag) ? cases[tag] : undefined;
    if (codec === undefined) {
      return t.failure(
        tag,
        t.appendContext(c, field, t.unknown, tag),
        `expected ${Object.keys(cases)
          .map((k) => JSON.stringify(k))
          .join(' or ')}, got ${show(tag)}`,
      );
    }
    return codec.validate(u, c);
  });

/** A custom step after decoding (cross-field rules). */
export const refine = <A>(codec: t.Decoder<unknown, A>, check: (a: A, c: t.Context) => t.Errors): t.Type<A, A, unknown> =>
  make(codec.name, (u, c) => {
    const r = codec.validate(u, c);
    if (isLeft(r)) return r;
    const errors = check(r.right, c);
    return errors.length > 0 ? t.failures(errors) : r;
  });

/** An error at `path` below the context `c`. */
export const errorAt = (c: t.Context, path: readonly string[], value: unknown, message: string): t.ValidationError => ({
  value,
  context: path.reduce<t.Context>((ctx, k) => t.appendContext(ctx, k, t.unknown, value), c),
  message,
});

const RAW_PATH = '\u0000path:';

/**
 * Wrap a validator that reports its own paths (another package's codec):
 * each `{ path, message }` it returns becomes an error at exactly that path.
 */
export const foreign = <A>(
  name: string,
  decode: (u: unknown) => { ok: true; value: A } | { ok: false; problems: readonly { path: string; message: string }[] },
): t.Type<A, A, unknown> =>
  make(name, (u, c) => {
    const r = decode(u);
    if (r.ok) return t.success(r.value);
    return t.failures(
      r.problems.map((p) => ({ value: u, context: t.appendContext(c, `${RAW_PATH}${p.path}`, t.unknown, u), message: p.message })),
    );
  });

/** `processors[0].policy.lookbackDays` from an io-ts context. */
export const pathOf = (context: t.Context): string => {
  let out = '';
  for (let i = 1; i < context.length; i++) {
    const entry = context[i];
    const parent = context[i - 1];
    if (entry === undefined || parent === undefined) continue;
    if (entry.key.startsWith(RAW_PATH)) {
      out = entry.key.slice(RAW_PATH.length);
      continue;
    }
    const isArray = (parent.type as unknown as Tagged)[ARRAY_KIND] === true;
    if (isArray || /^\d+$/.test(entry.key)) out += `[${entry.key}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(entry.key)) out += out === '' ? entry.key : `.${entry.key}`;
    else out += `[${JSON.stringify(entry.key)}]`;
  }
  return out;
};

/** One line per problem: `path: message`. */
export const formatErrors = (errors: t.Errors, root?: string): string[] => {
  const lines = errors.map((e) => {
    const p = pathOf(e.context);
    const full = root === undefined ? p : p === '' ? root : p.startsWith('[') ? `${root}${p}` : `${root}.${p}`;
    return `${full === '' ? '(top level)' : full}: ${e.message ?? `invalid value ${show(e.value)}`}`;
  });
  return [...new Set(lines)];
};

/** Decode or return the formatted problems. */
export const decodeWith = <A>(
  codec: t.Decoder<unknown, A>,
  u: unknown,
  root?: string,
): { ok: true; value: A } | { ok: false; problems: string[] } => {
  const r = codec.decode(u);
  return isLeft(r) ? { ok: false, problems: formatErrors(r.left, root) } : { ok: true, value: r.right };
};
