import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromEpochDay, isoDate, toEpochDay } from '@smart-backfill/core';
import { decodeBackfillMessage, formatProblems, MAX_MESSAGE_BYTES, type BackfillMessage } from '@smart-backfill/engine';
import { encodeBackfillMessage } from '../src/codec.js';

const valid: BackfillMessage = {
  start_date: isoDate('2025-11-15'),
  end_date: isoDate('2025-11-15'),
  processor_name: 'PlayerGameSummaryProcessor',
  is_backfill: true,
  trigger_reason: 'auto_backfill',
  requested_at: '2025-11-16T08:00:00.000Z',
  request_id: 'r-1',
  attempt: 0,
};

const problemsOf = (input: unknown) => {
  const r = decodeBackfillMessage(input);
  if (r._tag === 'Ok') throw new Error(`expected a decode error, got ${JSON.stringify(r.value)}`);
  return r.error;
};

const arbDate = fc.integer({ min: 0, max: 40000 }).map((n) => fromEpochDay(n));
const arbMessage: fc.Arbitrary<BackfillMessage> = fc
  .record({
    start: arbDate,
    span: fc.integer({ min: 0, max: 30 }),
    processor_name: fc.stringMatching(/^[A-Za-z0-9_.:\-/]{1,40}$/),
    trigger_reason: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim().length > 0),
    requested_at: fc.integer({ min: 0, max: 4102444800000 }).map((ms) => new Date(ms).toISOString()),
    request_id: fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim().length > 0),
    attempt: fc.nat({ max: 1000 }),
  })
  .map(({ start, span, ...rest }) => ({
    ...rest,
    start_date: start,
    end_date: fromEpochDay(toEpochDay(start) + span),
    is_backfill: true as const,
  }));

describe('backfill message codec', () => {
  it('round-trips every valid message through text, bytes and objects', () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        const q = encodeBackfillMessage(m);
        expect(decodeBackfillMessage(q.data)).toEqual({ _tag: 'Ok', value: m });
        expect(decodeBackfillMessage(new TextEncoder().encode(q.data))).toEqual({ _tag: 'Ok', value: m });
        expect(decodeBackfillMessage(JSON.parse(q.data))).toEqual({ _tag: 'Ok', value: m });
        expect(q.id).toBe(m.request_id);
        expect(q.attributes).toEqual({
          processor_name: m.processor_name,
          game_date: m.start_date,
          request_id: m.request_id,
          attempt: String(m.attempt),
          trigger_reason: m.trigger_reason,
        });
      }),
    );
  });

  it('writes the seed body in snake_case', () => {
    expect(JSON.parse(encodeBackfillMessage(valid).data)).toEqual({
      start_date: '2025-11-15',
      end_date: '2025-11-15',
      processor_name: 'PlayerGameSummaryProcessor',
      is_backfill: true,
      trigger_reason: 'auto_backfill',
      requested_at: '2025-11-16T08:00:00.000Z',
      request_id: 'r-1',
      attempt: 0,
    });
  });

  it('decodes a hand-published seed message (Python isoformat, no request_id) with a stable derived id', () => {
    const seedBody = JSON.stringify({
      start_date: '2025-11-15',
      end_date: '2025-11-15',
      processor_name: 'PlayerGameSummaryProcessor',
      is_backfill: true,
      trigger_reason: 'auto_backfill',
      requested_at: '2025-11-16T08:00:00.123456',
    });
    const a = decodeBackfillMessage(seedBody);
    const b = decodeBackfillMessage(seedBody);
    expect(a._tag).toBe('Ok');
    if (a._tag !== 'Ok' || b._tag !== 'Ok') return;
    expect(a.value.request_id).toMatch(/^msg-[0-9a-f]{32}$/);
    expect(a.value.request_id).toBe(b.value.request_id);
    expect(a.value.attempt).toBe(0);
  });

  it('reports every problem with its path', () => {
    const problems = problemsOf({
      start_date: '2025-02-30',
      end_date: 20251115,
      processor_name: 42,
      is_backfill: 'yes',
      trigger_reason: '',
      requested_at: 'yesterday',
      request_id: null,
      attempt: -1,
    });
    expect(problems.map((p) => p.path).sort()).toEqual(
      ['attempt', 'end_date', 'is_backfill', 'processor_name', 'request_id', 'requested_at', 'start_date', 'trigger_reason'].sort(),
    );
    const text = formatProblems(problems);
    expect(text).toContain('processor_name: expected a non-empty string, got 42');
    expect(text).toContain('start_date: expected a YYYY-MM-DD date, got "2025-02-30" is not a calendar date');
    expect(text).toContain('day must be 01–28');
    expect(text).toContain('is_backfill: expected true');
    expect(text).toContain('attempt: expected a whole number >= 0, got -1');
  });

  it('names missing fields', () => {
    const problems = problemsOf({ processor_name: 'P' });
    expect(problems.map((p) => p.path).sort()).toEqual(['end_date', 'is_backfill', 'requested_at', 'start_date', 'trigger_reason']);
    expect(problems.find((p) => p.path === 'start_date')?.message).toContain('got undefined');
  });

  it('rejects bad JSON, non-objects, huge payloads, bad UTF-8 and reversed ranges with a clear reason', () => {
    expect(formatProblems(problemsOf('{"start_date": '))).toMatch(/^\(message\): message is not valid JSON/);
    expect(formatProblems(problemsOf('[1,2]'))).toBe('(message): expected a JSON object, got an array');
    expect(formatProblems(problemsOf(null))).toContain('got null');
    expect(formatProblems(problemsOf(42))).toContain('got 42');
    const huge = JSON.stringify({ ...valid, pad: 'x'.repeat(MAX_MESSAGE_BYTES) });
    expect(formatProblems(problemsOf(huge))).toMatch(/bytes; the limit is 65536/);
    expect(formatProblems(problemsOf(new TextEncoder().encode(huge)))).toMatch(/the limit is 65536/);
    expect(formatProblems(problemsOf(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])))).toContain('not valid UTF-8');
    expect(formatProblems(problemsOf({ ...valid, end_date: '2025-11-14' }))).toBe(
      'end_date: expected a date on or after start_date (2025-11-15), got "2025-11-14"',
    );
    expect(formatProblems(problemsOf({ ...valid, processor_name: "x'; DROP TABLE t; --" }))).toContain('processor_name: expected letters');
  });

  it('never throws on arbitrary input and never accepts garbage', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue(), fc.uint8Array(), fc.anything()), (input) => {
        const r = decodeBackfillMessage(input);
        if (r._tag === 'Ok') {
          // Only well-formed messages may decode.
          expect(r.value.is_backfill).toBe(true);
          expect(decodeBackfillMessage(encodeBackfillMessage(r.value).data)).toEqual(r);
        } else {
          expect(r.error.length).toBeGreaterThan(0);
          for (const p of r.error) expect(p.message.length).toBeGreaterThan(0);
        }
      }),
    );
  });

  it('keeps problem messages valid Unicode when it shortens a long value (UTF-8 stores refuse half a surrogate pair)', () => {
    const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    const r = decodeBackfillMessage({ ...valid, processor_name: { x: '😀'.repeat(40) }, trigger_reason: '😀'.repeat(80) });
    expect(r._tag).toBe('Err');
    if (r._tag === 'Err') for (const p of r.error) expect(loneSurrogate.test(p.message)).toBe(false);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 30, maxLength: 90 }), (text) => {
        const bad = decodeBackfillMessage({ ...valid, attempt: { note: text } });
        expect(bad._tag).toBe('Err');
        if (bad._tag === 'Err') expect(loneSurrogate.test(formatProblems(bad.error))).toBe(false);
      }),
    );
  });

  it('ignores unknown fields (forward compatibility)', () => {
    const r = decodeBackfillMessage({ ...valid, priority: 'high' });
    expect(r).toEqual({ _tag: 'Ok', value: valid });
  });
});
