import { isoDate, type NewBackfillRequest, type RequestTracker, type QueueMessage } from '@smart-backfill/core';
import { queueMessageForRequest, type Processor, type RunOptions } from '@smart-backfill/engine';
import { aNewRequest } from '@smart-backfill/testkit';

export const PROCESSOR = 'player_game_summary';

/** A processor that records every run and can be told to fail. */
export class RecordingProcessor implements Processor {
  readonly runs: RunOptions[] = [];
  running = 0;
  maxConcurrent = 0;
  failTimes = new Map<string, number>();
  gate: Promise<void> | null = null;
  constructor(readonly name = PROCESSOR) {}

  async run(opts: RunOptions): Promise<unknown> {
    this.runs.push(opts);
    this.running++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.running);
    try {
      if (this.gate !== null) await this.gate;
      const left = this.failTimes.get(opts.date) ?? 0;
      if (left > 0) {
        this.failTimes.set(opts.date, left - 1);
        throw new Error(`source for ${opts.date} is down`);
      }
      return { rows: 100 };
    } finally {
      this.running--;
    }
  }

  runsFor(date: string): number {
    return this.runs.filter((r) => r.date === date).length;
  }
}

export const newRequest = (requestId: string, date: string, processorName = PROCESSOR, at = Date.UTC(2025, 10, 16)): NewBackfillRequest =>
  aNewRequest(requestId, processorName, isoDate(date), at, { metadata: {} });

/** Record requests in the tracker (the outbox) and return their queue messages. */
export const trackedMessages = async (tracker: RequestTracker, reqs: readonly NewBackfillRequest[]): Promise<QueueMessage[]> => {
  const res = await tracker.create(reqs);
  return res.created.map(queueMessageForRequest);
};
