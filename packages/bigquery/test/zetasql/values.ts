/**
 * Values between BigQuery's REST shapes (insertAll JSON, query parameters, `f`/`v`
 * result cells) and ZetaSQL's `ValueProto`, for the ZetaSQL-evaluated fake.
 */
import type { Field, Json } from '../fake-bigquery-server.js';
import type { RestParameterType, TypeProto } from './analyzer.js';

/** A ZetaSQL `ValueProto` as the gRPC loader renders it (longs as strings); `{}` is NULL. */
export type ValueProto = Record<string, unknown>;

const DAY_MS = 86_400_000;
const pad = (n: number | bigint, w = 2): string => String(n).padStart(w, '0');

/** `2025-11-20T08:00:00.123456Z`, `2025-11-20 08:00:00+00:00`, epoch seconds: seconds and nanos. */
const timestampOf = (v: unknown): { seconds: string; nanos: number } => {
  if (typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v))) {
    // insertAll accepts epoch seconds.
    const micros = BigInt(Math.round(Number(v) * 1e6));
    const s = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n);
    return { seconds: String(s), nanos: Number(micros - s * 1_000_000n) * 1000 };
  }
  const text = String(v).trim().replace(' ', 'T');
  const frac = /T\d{2}:\d{2}:\d{2}\.(\d+)/.exec(text)?.[1] ?? '';
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(withZone.replace(/\.\d+/, ''));
  if (Number.isNaN(ms)) throw new Error(`not a TIMESTAMP: ${JSON.stringify(v)}`);
  return { seconds: String(Math.floor(ms / 1000)), nanos: Number((frac + '000000000').slice(0, 9)) };
};

const dateOf = (v: unknown): number => {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(v));
  if (m === null) throw new Error(`not a DATE: ${JSON.stringify(v)}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS;
};

/** DATETIME as ZetaSQL packs it: year<<26 | month<<22 | day<<17 | hour<<12 | minute<<6 | second. */
const datetimeOf = (v: unknown): { bit_field_datetime_seconds: string; nanos: number } => {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?$/.exec(String(v).trim());
  if (m === null) throw new Error(`not a DATETIME: ${JSON.stringify(v)}`);
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => BigInt(m[i] ?? '0'));
  const bits = (y! << 26n) | (mo! << 22n) | (d! << 17n) | (h! << 12n) | (mi! << 6n) | s!;
  return { bit_field_datetime_seconds: String(bits), nanos: Number(((m[7] ?? '') + '000000000').slice(0, 9)) };
};

/** NUMERIC as ZetaSQL serializes it: value × 10⁹ as little-endian two's complement, shortest form. */
const numericOf = (v: unknown): Buffer => {
  const m = /^(-?)(\d*)(?:\.(\d{0,9}))?$/.exec(String(v).trim());
  if (m === null) throw new Error(`not a NUMERIC: ${JSON.stringify(v)}`);
  let n = BigInt((m[2] || '0') + ((m[3] ?? '') + '000000000').slice(0, 9));
  if (m[1] === '-') n = -n;
  const bytes: number[] = [];
  for (;;) {
    const b = Number(n & 0xffn);
    bytes.push(b);
    n >>= 8n;
    if ((n === 0n && (b & 0x80) === 0) || (n === -1n && (b & 0x80) !== 0)) break;
  }
  return Buffer.from(bytes);
};

const numericText = (b: Buffer | string): string => {
  const buf = typeof b === 'string' ? Buffer.from(b, 'base64') : b;
  let n = 0n;
  for (let i = buf.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(buf[i]!);
  if (buf.length > 0 && (buf[buf.length - 1]! & 0x80) !== 0) n -= 1n << BigInt(8 * buf.length);
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const frac = pad(abs % 1_000_000_000n, 9).replace(/0+$/, '');
  return `${neg ? '-' : ''}${abs / 1_000_000_000n}${frac === '' ? '' : `.${frac}`}`;
};

/** A JSON value (insertAll row field, parameter value) as a `ValueProto` of the type. */
export const toValue = (type: TypeProto, v: unknown): ValueProto => {
  if (v === null || v === undefined) return {};
  switch (type.type_kind) {
    case 'TYPE_STRING':
      return { string_value: String(v) };
    case 'TYPE_BYTES':
      return { bytes_value: Buffer.from(String(v), 'base64') };
    case 'TYPE_INT64':
      return { int64_value: String(BigInt(String(v))) };
    case 'TYPE_DOUBLE':
      return { double_value: Number(v) };
    case 'TYPE_BOOL':
      return { bool_value: v === true || v === 'true' || v === 'TRUE' };
    case 'TYPE_DATE':
      return { date_value: dateOf(v) };
    case 'TYPE_TIMESTAMP':
      return { timestamp_value: timestampOf(v) };
    case 'TYPE_DATETIME':
      return { datetime_value: datetimeOf(v) };
    case 'TYPE_NUMERIC':
      return { numeric_value: numericOf(v) };
    case 'TYPE_JSON':
      return { json_value: typeof v === 'string' ? v : JSON.stringify(v) };
    case 'TYPE_ARRAY':
      if (!Array.isArray(v)) throw new Error(`not an ARRAY: ${JSON.stringify(v)}`);
      return { array_value: { element: v.map((x) => toValue(type.array_type!.element_type, x)) } };
    case 'TYPE_STRUCT': {
      const fields = type.struct_type?.field ?? [];
      const o = v as Json;
      return { struct_value: { field: fields.map((f) => toValue(f.field_type, o[f.field_name])) } };
    }
    default:
      throw new Error(`the ZetaSQL fake has no conversion for ${type.type_kind}`);
  }
};

const isNull = (v: ValueProto): boolean => Object.keys(v).filter((k) => k !== 'value').length === 0;

/** A `ValueProto` as the REST API sends a cell's `v`: strings, TIMESTAMP as int64 microseconds, arrays as `[{ v }]`. */
export const toCell = (type: TypeProto, v: ValueProto): unknown => {
  if (isNull(v)) return type.type_kind === 'TYPE_ARRAY' ? [] : null;
  switch (type.type_kind) {
    case 'TYPE_TIMESTAMP': {
      const t = v['timestamp_value'] as { seconds?: string; nanos?: number };
      return String(BigInt(t.seconds ?? '0') * 1_000_000n + BigInt(Math.floor((t.nanos ?? 0) / 1000)));
    }
    case 'TYPE_ARRAY': {
      const els = (v['array_value'] as { element?: ValueProto[] }).element ?? [];
      return els.map((e) => ({ v: toCell(type.array_type!.element_type, e) }));
    }
    case 'TYPE_STRUCT': {
      const fields = type.struct_type?.field ?? [];
      const vals = (v['struct_value'] as { field?: ValueProto[] }).field ?? [];
      return { f: fields.map((f, i) => ({ v: toCell(f.field_type, vals[i] ?? {}) })) };
    }
    default: {
      const j = toJson(type, v);
      return j === null ? null : String(j);
    }
  }
};

/** A `ValueProto` as an insertAll JSON field would carry it (what `rows()` shows a test). */
export const toJson = (type: TypeProto, v: ValueProto): unknown => {
  if (isNull(v)) return type.type_kind === 'TYPE_ARRAY' ? [] : null;
  switch (type.type_kind) {
    case 'TYPE_STRING':
      return v['string_value'] ?? '';
    case 'TYPE_BYTES':
      return Buffer.from(v['bytes_value'] as Buffer).toString('base64');
    case 'TYPE_INT64':
      return String(v['int64_value'] ?? '0');
    case 'TYPE_DOUBLE':
      return Number(v['double_value'] ?? 0);
    case 'TYPE_BOOL':
      return v['bool_value'] === true;
    case 'TYPE_DATE':
      return new Date(Number(v['date_value'] ?? 0) * DAY_MS).toISOString().slice(0, 10);
    case 'TYPE_TIMESTAMP': {
      const t = v['timestamp_value'] as { seconds?: string; nanos?: number };
      const iso = new Date(Number(t.seconds ?? 0) * 1000).toISOString().slice(0, 19);
      const nanos = t.nanos ?? 0;
      return `${iso}${nanos === 0 ? '' : `.${pad(nanos, 9).replace(/0+$/, '')}`}Z`;
    }
    case 'TYPE_DATETIME': {
      const d = v['datetime_value'] as { bit_field_datetime_seconds?: string; nanos?: number };
      const b = BigInt(d.bit_field_datetime_seconds ?? '0');
      const f = (shift: bigint, mask: bigint): bigint => (b >> shift) & mask;
      const nanos = d.nanos ?? 0;
      return `${pad(f(26n, 0x3fffn), 4)}-${pad(f(22n, 0xfn))}-${pad(f(17n, 0x1fn))}T${pad(f(12n, 0x1fn))}:${pad(f(6n, 0x3fn))}:${pad(
        f(0n, 0x3fn),
      )}${nanos === 0 ? '' : `.${pad(nanos, 9).replace(/0+$/, '')}`}`;
    }
    case 'TYPE_NUMERIC':
      return numericText(v['numeric_value'] as Buffer);
    case 'TYPE_JSON':
      return v['json_value'];
    case 'TYPE_ARRAY':
      return ((v['array_value'] as { element?: ValueProto[] }).element ?? []).map((e) => toJson(type.array_type!.element_type, e));
    case 'TYPE_STRUCT': {
      const vals = (v['struct_value'] as { field?: ValueProto[] }).field ?? [];
      return Object.fromEntries((type.struct_type?.field ?? []).map((f, i) => [f.field_name, toJson(f.field_type, vals[i] ?? {})]));
    }
    default:
      throw new Error(`the ZetaSQL fake has no conversion for ${type.type_kind}`);
  }
};

const REST_TYPE: Record<string, string> = {
  TYPE_STRING: 'STRING',
  TYPE_BYTES: 'BYTES',
  TYPE_INT64: 'INTEGER',
  TYPE_DOUBLE: 'FLOAT',
  TYPE_BOOL: 'BOOLEAN',
  TYPE_DATE: 'DATE',
  TYPE_TIMESTAMP: 'TIMESTAMP',
  TYPE_DATETIME: 'DATETIME',
  TYPE_NUMERIC: 'NUMERIC',
  TYPE_BIGNUMERIC: 'BIGNUMERIC',
  TYPE_JSON: 'JSON',
  TYPE_INTERVAL: 'INTERVAL',
};

/** A result column as a REST schema field: ARRAY is `mode: REPEATED`, STRUCT is `RECORD` with `fields`. */
export const toField = (name: string, type: TypeProto): Field => {
  if (type.type_kind === 'TYPE_ARRAY') return { ...toField(name, type.array_type!.element_type), mode: 'REPEATED' };
  if (type.type_kind === 'TYPE_STRUCT')
    return {
      name,
      type: 'RECORD',
      mode: 'NULLABLE',
      fields: (type.struct_type?.field ?? []).map((f) => toField(f.field_name, f.field_type)),
    };
  const t = REST_TYPE[type.type_kind];
  if (t === undefined) throw new Error(`the ZetaSQL fake has no REST type for ${type.type_kind}`);
  return { name, type: t, mode: 'NULLABLE' };
};

/** A REST `QueryParameterValue` (`{ value }`, `{ arrayValues }`, `{ structValues }`) of the given type. */
export interface RestParameterValue {
  readonly value?: unknown;
  readonly arrayValues?: readonly RestParameterValue[];
  readonly structValues?: Record<string, RestParameterValue>;
}

export const parameterValue = (t: RestParameterType, v: RestParameterValue | undefined, type: TypeProto): ValueProto => {
  if (v === undefined) return {};
  if (t.type === 'ARRAY')
    return v.arrayValues === undefined
      ? {}
      : { array_value: { element: v.arrayValues.map((x) => parameterValue(t.arrayType!, x, type.array_type!.element_type)) } };
  if (t.type === 'STRUCT') {
    const fields = type.struct_type?.field ?? [];
    return {
      struct_value: {
        field: fields.map((f, i) => parameterValue(t.structTypes![i]!.type, v.structValues?.[f.field_name], f.field_type)),
      },
    };
  }
  return toValue(type, v.value);
};
