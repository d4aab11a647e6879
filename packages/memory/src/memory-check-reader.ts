import {
  alertInCheck,
  heldRunInCheck,
  type AlertLog,
  type CheckData,
  type CheckQuery,
  type CheckReader,
  type RequestTracker,
  type RunLog,
  type WindowReader,
} from '@smart-backfill/core';

/**
 * A whole check from the memory ports: nothing costs a round trip here, so it reads each
 * port in turn (within one turn of the event loop, so no write lands in between) and
 * returns what a store that reads it in one query would.
 */
export const memoryCheckReader = (
  window: WindowReader,
  ports: { readonly tracker: RequestTracker; readonly alertLog: AlertLog; readonly runLog: RunLog },
): WindowReader & CheckReader => {
  const describe = window.describeWindow?.bind(window);
  return {
    readWindow: (q) => window.readWindow(q),
    ...(describe === undefined ? {} : { describeWindow: describe }),
    async readCheck(q: CheckQuery): Promise<CheckData> {
      const [data, requests, alerts, held] = await Promise.all([
        window.readWindow(q),
        ports.tracker.forWindow(q),
        ports.alertLog.list({ processorName: q.processorName }),
        ports.runLog.heldRuns({ processorName: q.processorName }),
      ]);
      return {
        expectedDates: data.expectedDates,
        recordCounts: data.recordCounts,
        requests,
        alerts: alerts.filter((a) => alertInCheck(a, q)),
        heldRuns: held.filter((h) => heldRunInCheck(h, q)),
      };
    },
  };
};
