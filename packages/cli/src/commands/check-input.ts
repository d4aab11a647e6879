import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as t from 'io-ts';
import { analyzeGaps, decide, DEFAULT_POLICY, type GapAnalysis, type GapPolicy, type Decision, type IsoDate } from '@smart-backfill/core';
import { badInput, messageOf } from '../cli-error.js';
import { array, boolean, decodeWith, isoDate, record, struct, wholeNumber } from '../config/decoders.js';
import { policyCodec } from '../config/policy-codec.js';
import type { CliIo } from '../io.js';

/**
 * The input of `check --input`: the pure check on plain date sets.
 * `activeRequests` and `failedAttempts` are optional context for `decide`
 * (dates already being backfilled, failed attempts per date).
 */
export interface CheckInput {
  readonly asOf: IsoDate;
  readonly expectedDates: readonly IsoDate[];
  readonly recordCounts: Readonly<Record<string, number>>;
  readonly policy: GapPolicy;
  readonly isBackfill: boolean;
  readonly activeRequests: readonly IsoDate[];
  readonly failedAttempts: Readonly<Record<string, number>>;
}

const checkInputCodec = struct(
  'CheckInput',
  { asOf: isoDate, expectedDates: array(isoDate), recordCounts: record(isoDate, wholeNumber(0)) },
  { policy: policyCodec, isBackfill: boolean, activeRequests: array(isoDate), failedAttempts: record(isoDate, wholeNumber(0)) },
);

/** Validate parsed JSON; every bad field is its own line naming its path. */
export const decodeCheckInput = (u: unknown): CheckInput => {
  const r = decodeWith(checkInputCodec as t.Decoder<unknown, t.TypeOf<typeof checkInputCodec>>, u);
  if (!r.ok) throw badInput(r.problems);
  const v = r.value;
  return {
    asOf: v.asOf,
    expectedDates: v.expectedDates,
    recordCounts: v.recordCounts,
    policy: v.policy ?? DEFAULT_POLICY,
    isBackfill: v.isBackfill ?? false,
    activeRequests: v.activeRequests ?? [],
    failedAttempts: v.failedAttempts ?? {},
  };
};

/** Read `--input FILE` or `--input -` (standard input) and parse it as JSON. */
export const readCheckInput = async (source: string, io: CliIo): Promise<unknown> => {
  let text: string;
  const label = source === '-' ? 'standard input' : source;
  try {
    text = source === '-' ? await io.readStdin() : readFileSync(resolve(io.cwd, source), 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw badInput(`--input: cannot read ${JSON.stringify(source)}${code === 'ENOENT' ? ': no such file' : ` (${messageOf(e)})`}`, e);
  }
  if (text.trim() === '')
    throw badInput(`--input: ${label} is empty; expected a JSON object { asOf, expectedDates, recordCounts, policy?, isBackfill? }`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badInput(`--input: ${label} is not valid JSON (${messageOf(e)})`, e);
  }
};

export interface CheckResult {
  readonly analysis: GapAnalysis;
  readonly decision: Decision;
}

/** The pure check: core's `analyzeGaps` then `decide`. */
export const checkPlain = (input: CheckInput): CheckResult => {
  const analysis = analyzeGaps({
    asOf: input.asOf,
    expectedDates: input.expectedDates,
    recordCounts: input.recordCounts,
    policy: input.policy,
  });
  const decision = decide(analysis, input.policy, {
    isBackfill: input.isBackfill,
    activeRequests: input.activeRequests,
    failedAttempts: input.failedAttempts,
  });
  return { analysis, decision };
};
