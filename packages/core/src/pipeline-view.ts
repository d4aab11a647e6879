import { compareDates, type IsoDate } from './iso-date.js';
import type { Dependency, PipelineGraph } from './pipeline-graph.js';
import type { HeldRun, RunMetadata, RunRecord } from './ports/run-log.js';

/** One processor as `status` and the report list it: its level in the graph and what it reads. */
export interface PipelineRow {
  readonly processor: string;
  /** 0 for a processor that reads no other; otherwise one more than the deepest processor it reads. */
  readonly level: number;
  readonly dependsOn: readonly Dependency[];
}

/**
 * The processors by level, then by name: every processor after all it reads (a processor's
 * level is above each of its inputs'), and the same graph always lists the same way,
 * whatever order the config declares them in.
 */
export const pipelineRows = (graph: PipelineGraph): PipelineRow[] => {
  const level = new Map<string, number>();
  for (const n of graph.order) level.set(n, Math.max(-1, ...(graph.dependsOn.get(n) ?? []).map((d) => level.get(d.processor) ?? 0)) + 1);
  return graph.order
    .map((n) => ({ processor: n, level: level.get(n) ?? 0, dependsOn: graph.dependsOn.get(n) ?? [] }))
    .sort((a, b) => a.level - b.level || (a.processor < b.processor ? -1 : a.processor > b.processor ? 1 : 0));
};

/**
 * What a run held for its inputs waits for on one upstream processor, as the guard stored
 * it on the run's record (`metadata.waiting_for_upstream`).
 */
export interface UpstreamGap {
  readonly processor: string;
  /** The upstream dates the run reads that were missing or below the upstream's minimum. */
  readonly missing: readonly IsoDate[];
  /** Backfills of the upstream that the run queued. */
  readonly queued: readonly IsoDate[];
  /** Missing dates the upstream already had a backfill for (its own guard's, or another run's), or holds a run of its own for. */
  readonly inFlight: readonly IsoDate[];
  /** Dates escalated on the upstream (too large a gap, or backfills that keep failing); a person must fill them. */
  readonly escalated: readonly IsoDate[];
}

/** The run-record metadata key under which the guard stores a held run's `UpstreamGap`s. */
export const UPSTREAM_WAITS_KEY = 'waiting_for_upstream';

const dates = (v: unknown): IsoDate[] | undefined =>
  Array.isArray(v) && v.every((d) => typeof d === 'string') ? (v as IsoDate[]) : undefined;

/** The upstream gaps stored on a run record, or `undefined` when it stores none (or not in this shape). */
const upstreamGapsIn = (metadata: RunMetadata): UpstreamGap[] | undefined => {
  const raw = metadata[UPSTREAM_WAITS_KEY];
  if (!Array.isArray(raw)) return undefined;
  const gaps: UpstreamGap[] = [];
  for (const w of raw as unknown[]) {
    if (typeof w !== 'object' || w === null) return undefined;
    const o = w as Record<string, unknown>;
    const [missing, queued, inFlight, escalated] = [o['missing'], o['queued'], o['inFlight'], o['escalated']].map(dates);
    if (typeof o['processor'] !== 'string' || !missing || !queued || !inFlight || !escalated) return undefined;
    gaps.push({ processor: o['processor'], missing, queued, inFlight, escalated });
  }
  return gaps;
};

/**
 * Which upstream gaps hold `held`, as stored: the latest record of its run date since it was
 * held that stores them (a run held for its inputs is held as its check starts, so that record
 * is never older than `heldAt`). `undefined` when the run waits for dates of its own, or when no
 * such record is among `runs` (pass the processor's runs since `heldAt`).
 */
export const heldRunUpstreamGaps = (
  held: Pick<HeldRun, 'processorName' | 'runDate' | 'heldAt' | 'waitingFor'>,
  runs: readonly RunRecord[],
): readonly UpstreamGap[] | undefined => {
  if (held.waitingFor.length > 0) return undefined;
  let found: { at: number; gaps: UpstreamGap[] } | undefined;
  for (const r of runs) {
    if (r.processorName !== held.processorName || compareDates(r.runDate, held.runDate) !== 0 || r.startedAt < held.heldAt) continue;
    const gaps = upstreamGapsIn(r.metadata);
    if (gaps !== undefined && (found === undefined || r.startedAt >= found.at)) found = { at: r.startedAt, gaps };
  }
  return found?.gaps;
};
