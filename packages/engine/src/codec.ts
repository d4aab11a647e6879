import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { createHash } from 'node:crypto';
import { diffDays, err, ok, parseIsoDate, type BackfillRequest, type IsoDate, type QueueMessage, type Result } from '@smart-backfill/core';

/**
 * The seed's Pub/Sub body, wire-compatible (snake_case), plus `request_id` and
 * `attempt`. `start_date`..`end_date` is a date range (the seed always sends one day).
 */
export interface BackfillMessage {
  readonly start_date: IsoDate;
  readonly end_date: IsoDate;
  readonly processor_name: string;
  readonly is_backfill: true;
  /** `auto_backfill` from the guard, `manual_backfill` from the CLI; free text otherwise. */
  readonly trigger_reason: string;
  /** ISO-8601 timestamp; the seed's Python `isoformat()` (no zone, microseconds) is accepted. */
  readonly requested_at: string;
  /** The tracker's request id: consumers dedupe on it. */
  readonly request_id: string;
  /** Attempts already made when this message was published (0 for a fresh request). */
  readonly attempt: number;
}

/** One thing wrong with a message, at a path: `processor_name: expected a non-empty string, got 42`. */
export interface DecodeProblem {
  readonly path: string;
  readonly message: string;
}

/** Wire bodies larger than this are refused before parsing. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** A message may ask for at most this many days at once. */
export const MAX_RANGE_DAYS = 366;

/** Shorten by code points: cutting UTF-16 units can split a surrogate pair, and a store that keeps UTF-8 text refuses the half. */
const clip = (s: string): string => {
  if (s.length <= 60) return s;
  const points = Array.from(s);
  return points.length > 60 ? points.slice(0, 57).join('') + '...' : s;
};

/**
 * The text with each unpaired UTF-16 surrogate replaced by U+FFFD. Problem texts
 * quote what they were given, and V8's JSON errors quote single UTF-16 units
 * (`Unexpected token '\ud83d', "😀x" is not valid JSON` for an astral character):
 * a store that keeps UTF-8 text refuses a lone surrogate, so a dead-letter reason
 * holding one could never be written and its message would never leave the queue.
 */
export const wellFormed = (s: string): string =>
  s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(clip(v));
  if (v === undefined) return 'nothing';
  if (typeof v === 'bigint') return `${v}n`;
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : clip(s);
  } catch {
    return String(v);
  }
};

const refine = <A>(name: string, check: (u: unknown) => string | undefined, is: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(
    name,
    is,
    (u, c) => {
      const why = check(u);
      return why === undefined ? t.success(u as A) : t.failure(u, c, why);
    },
    t.identity,
  );

const NonEmptyString = refine<string>(
  'a non-empty string',
  (u) => (typeof u === 'string' && u.trim().length > 0 ? undefined : `expected a non-empty string, got ${show(u)}`),
  (u): u is string => typeof u === 'string' && u.trim().length > 0,
);

/** Processor names become log fields, attributes and SQL parameters: keep them tame. */
const PROCESSOR_NAME = /^[A-Za-z0-9_.:\-/]{1,200}$/;
const ProcessorName = refine<string>(
  'a processor name',
  (u) =>
    typeof u !== 'string' || u.trim().length === 0
      ? `expected a non-empty string, got ${show(u)}`
      : PROCESSOR_NAME.test(u)
        ? undefined
        : `expected letters, digits and _ . : - / only (at most 200), got ${show(u)}`,
  (u): u is string => typeof u === 'string' && PROCESSOR_NAME.test(u),
);

const IsoDateC = refine<IsoDate>(
  'a date',
  (u) => {
    const r = parseIsoDate(u);
    return r._tag === 'Ok' ? undefined : `expected a YYYY-MM-DD date, got ${r.error.message}`;
  },
  (u): u is IsoDate => parseIsoDate(u)._tag === 'Ok',
);

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?$/;
const timestampProblem = (u: unknown): string | undefined => {
  if (typeof u !== 'string') return `expected an ISO-8601 timestamp string, got ${show(u)}`;
  const m = TIMESTAMP.exec(u);
  if (m === null || parseIsoDate(m[1])._tag !== 'Ok') return `expected an ISO-8601 timestamp like 2025-11-16T08:00:00Z, got ${show(u)}`;
  return undefined;
};
const Timestamp = refine<string>('an ISO timestamp', timestampProblem, (u): u is string => timestampProblem(u) === undefined);

const TrueLiteral = refine<true>(
  'true',
  (u) => (u === true ? undefined : `expected true (a backfill message always is one), got ${show(u)}`),
  (u): u is true => u === true,
);

const Attempt = refine<number>(
  'a whole number >= 0',
  (u) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= 0 ? undefined : `expected a whole number >= 0, got ${show(u)}`),
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
);

/** The wire shape. `request_id` and `attempt` are optional so hand-published seed messages still decode. */
const WireMessage = t.intersection([
  t.type({
    start_date: IsoDateC,
    end_date: IsoDateC,
    processor_name: ProcessorName,
    is_backfill: TrueLiteral,
    trigger_reason: NonEmptyString,
    requested_at: Timestamp,
  }),
  t.partial({
    request_id: NonEmptyString,
    attempt: Attempt,
  }),
]);

const pathOf = (context: t.Context): string =>
  context
    .map((c) => c.key)
    // Intersection members are keyed "0", "1" by io-ts; they are not part of the message's own path.
    .filter((k, i) => k !== '' && !(i > 0 && /^\d+$/.test(k) && context[i - 1]?.type instanceof t.IntersectionType))
    .join('.');

const toProblems = (errors: t.Errors): DecodeProblem[] => {
  const seen = new Set<string>();
  const out: DecodeProblem[] = [];
  for (const e of errors) {
    const path = pathOf(e.context) || '(message)';
    const leaf = e.context[e.context.length - 1];
    const message = e.message ?? `expected ${leaf?.type.name ?? 'a value'}, got ${show(e.value)}`;
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
  }
  return out;
};

/** A stable id for a message that came without one (a hand-published seed message): redeliveries map to the same request. */
export const derivedRequestId = (m: {
  readonly processor_name: string;
  readonly start_date: string;
  readonly end_date: string;
  readonly requested_at: string;
}): string =>
  'msg-' +
  createHash('sha256')
    .update(`${m.processor_name}\u0000${m.start_date}\u0000${m.end_date}\u0000${m.requested_at}`)
    .digest('hex')
    .slice(0, 32);

/** The message body as a parsed JSON object, from text, bytes or an object already parsed. */
const bodyObject = (input: unknown): Result<DecodeProblem[], unknown> => {
  let text: string;
  if (typeof input === 'string') {
    const bytes = Buffer.byteLength(input, 'utf8');
    if (bytes > MAX_MESSAGE_BYTES)
      return err([{ path: '(message)', message: `message is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}` }]);
    text = input;
  } else if (input instanceof Uint8Array) {
    if (input.byteLength > MAX_MESSAGE_BYTES) {
      return err([{ path: '(message)', message: `message is ${input.byteLength} bytes; the limit is ${MAX_MESSAGE_BYTES}` }]);
    }
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      return err([{ path: '(message)', message: 'message bytes are not valid UTF-8' }]);
    }
  } else if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    return ok(input);
  } else {
    return err([
      {
        path: '(message)',
        message: `expected a JSON object (as text, bytes or an object), got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : show(input)}`,
      },
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return err([{ path: '(message)', message: `message is not valid JSON (${wellFormed(e instanceof Error ? e.message : String(e))})` }]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return err([
      {
        path: '(message)',
        message: `expected a JSON object, got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : show(parsed)}`,
      },
    ]);
  }
  return ok(parsed);
};

/**
 * Decode a backfill message from text, bytes or an already parsed object.
 * Returns every problem with its path, never a guess: `2025-02-30` is an error,
 * as are bad JSON, bodies over {@link MAX_MESSAGE_BYTES} and `end_date < start_date`.
 * Unknown fields are ignored (forward compatibility).
 */
export const decodeBackfillMessage = (input: unknown): Result<readonly DecodeProblem[], BackfillMessage> => {
  const body = bodyObject(input);
  if (body._tag === 'Err') return body;
  return pipe(
    WireMessage.decode(body.value),
    E.mapLeft(toProblems),
    E.chain((w): E.Either<DecodeProblem[], BackfillMessage> => {
      const span = diffDays(w.end_date, w.start_date);
      if (span < 0)
        return E.left([{ path: 'end_date', message: `expected a date on or after start_date (${w.start_date}), got ${show(w.end_date)}` }]);
      if (span >= MAX_RANGE_DAYS)
        return E.left([{ path: 'end_date', message: `a message may span at most ${MAX_RANGE_DAYS} days, got ${span + 1}` }]);
      return E.right({
        start_date: w.start_date,
        end_date: w.end_date,
        processor_name: w.processor_name,
        is_backfill: true,
        trigger_reason: w.trigger_reason,
        requested_at: w.requested_at,
        request_id: w.request_id ?? derivedRequestId(w),
        attempt: w.attempt ?? 0,
      });
    }),
    E.fold((problems): Result<readonly DecodeProblem[], BackfillMessage> => err(problems), ok),
  );
};

/** `processor_name: expected a non-empty string, got 42; start_date: ...` */
export const formatProblems = (problems: readonly DecodeProblem[]): string =>
  wellFormed(problems.map((p) => `${p.path}: ${p.message}`).join('; '));

/**
 * The queue message for a backfill: `data` is the JSON body (fields in the seed's
 * order), `id` the request id, attributes `processor_name`, `game_date` (= start_date),
 * `request_id`, `attempt` (decimal), `trigger_reason`.
 */
export const encodeBackfillMessage = (m: BackfillMessage): QueueMessage => ({
  id: m.request_id,
  data: JSON.stringify({
    start_date: m.start_date,
    end_date: m.end_date,
    processor_name: m.processor_name,
    is_backfill: true,
    trigger_reason: m.trigger_reason,
    requested_at: m.requested_at,
    request_id: m.request_id,
    attempt: m.attempt,
  }),
  attributes: {
    processor_name: m.processor_name,
    game_date: m.start_date,
    request_id: m.request_id,
    attempt: String(m.attempt),
    trigger_reason: m.trigger_reason,
  },
});

/** The message that carries a tracked request. */
export const messageForRequest = (r: BackfillRequest): BackfillMessage => ({
  start_date: r.date,
  end_date: r.date,
  processor_name: r.processorName,
  is_backfill: true,
  trigger_reason: r.triggerReason,
  requested_at: new Date(r.requestedAt).toISOString(),
  request_id: r.requestId,
  attempt: r.attempt,
});

/** `encodeBackfillMessage(messageForRequest(r))`. */
export const queueMessageForRequest = (r: BackfillRequest): QueueMessage => encodeBackfillMessage(messageForRequest(r));
