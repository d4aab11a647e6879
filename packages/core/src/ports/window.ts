import type { IsoDate } from '../iso-date.js';

/** The date range one check reads: `[start, end]`, both inclusive. */
export interface WindowQuery {
  /** The processor the check is for; adapters serving one table per processor may ignore it. */
  readonly processorName: string;
  readonly start: IsoDate;
  readonly end: IsoDate;
}

/** Everything `analyzeGaps` needs from storage for one check. */
export interface WindowData {
  readonly expectedDates: readonly IsoDate[];
  readonly recordCounts: ReadonlyMap<IsoDate, number>;
}
