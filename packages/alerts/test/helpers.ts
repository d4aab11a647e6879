import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isoDate, type AlertNotice } from '@smart-backfill/core';

/** A notice like the engine builds: Nov 3–7 and Nov 12 missing, run Nov 20. */
export const notice = (over: Partial<AlertNotice> = {}): AlertNotice => ({
  kind: 'escalated',
  alertKey: 'player_game_summary:gap:2025-11-03',
  processorName: 'player_game_summary',
  runDate: isoDate('2025-11-20'),
  reason: 'gap_exceeds_threshold',
  missingDates: ['2025-11-03', '2025-11-04', '2025-11-05', '2025-11-06', '2025-11-07', '2025-11-12'].map(isoDate),
  absentDates: ['2025-11-03', '2025-11-04', '2025-11-05', '2025-11-12'].map(isoDate),
  incompleteDates: [
    { date: isoDate('2025-11-06'), count: 12 },
    { date: isoDate('2025-11-07'), count: 40 },
  ],
  lastError: null,
  healCommand: 'smart-backfill backfill player_game_summary --from 2025-11-03 --to 2025-11-12',
  openedAt: Date.parse('2025-11-20T06:00:00Z'),
  at: Date.parse('2025-11-20T06:00:00Z'),
  timeToRecoveryMs: null,
  ...over,
});

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export type Handler = (req: Received, n: number, res: http.ServerResponse) => void;

export interface TestServer {
  readonly origin: string;
  readonly requests: Received[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (port 0) answering the n-th request (1-based) with `handler`. */
export const startServer = async (handler: Handler): Promise<TestServer> => {
  const requests: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(r);
      handler(r, requests.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** A port on 127.0.0.1 that nothing listens on (a server opened and closed again). */
export const closedPort = async (): Promise<number> => {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

/** An injected `sleep` that records the delays it was asked for and returns at once. */
export const recordingSleep = (): { delays: number[]; sleep: (ms: number) => Promise<void> } => {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
};

/** A line sink that keeps what was written. */
export const memorySink = (): { lines: () => string[]; write: (s: string) => boolean } => {
  let buf = '';
  return {
    write: (s) => {
      buf += s;
      return true;
    },
    lines: () => buf.split('\n').filter((l) => l !== ''),
  };
};

/** A logger that keeps every call. */
export const memoryLogger = (): {
  calls: { level: string; message: string; fields?: Record<string, unknown> }[];
  warn: (m: string, f?: Record<string, unknown>) => void;
  error: (m: string, f?: Record<string, unknown>) => void;
} => {
  const calls: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  return {
    calls,
    warn: (message, fields) => void calls.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    error: (message, fields) => void calls.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
  };
};
