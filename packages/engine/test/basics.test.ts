import { describe, expect, it } from 'vitest';
import {
  consoleJsonLogger,
  isSmartBackfillError,
  processorRegistry,
  silentLogger,
  SmartBackfillError,
  systemClock,
} from '@smart-backfill/engine';
import { jsonLinesLogger } from '../src/logger.js';

describe('systemClock, loggers and errors', () => {
  it('systemClock sleeps and honours abort', async () => {
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(1000);
    await expect(systemClock.sleep(1)).resolves.toBeUndefined();
    const ac = new AbortController();
    const p = systemClock.sleep(60_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    await expect(systemClock.sleep(1, ac.signal)).rejects.toThrow('stop');
  });

  it('jsonLinesLogger writes one JSON object per line, filtered by level', () => {
    const lines: string[] = [];
    const log = jsonLinesLogger({ level: 'info', write: (l) => lines.push(l), now: () => Date.UTC(2025, 10, 16) });
    log.debug('hidden');
    log.warn('publish failed', { requestId: 'r1', error: new Error('boom') });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { ts: '2025-11-16T00:00:00.000Z', level: 'warn', msg: 'publish failed', requestId: 'r1', error: { name: 'Error', message: 'boom' } },
    ]);
    expect(typeof consoleJsonLogger.info).toBe('function');
    expect(() => silentLogger.error('nothing')).not.toThrow();
  });

  it('SmartBackfillError carries a code, a prefixed message and the cause', () => {
    const cause = new Error('socket hang up');
    const e = new SmartBackfillError('unavailable', 'could not read', { origin: 'engine', detail: 'read_failed', cause });
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, e.detail, e.message, e.cause]).toEqual([
      'SmartBackfillError',
      'unavailable',
      'read_failed',
      '[smart-backfill] [engine] could not read',
      cause,
    ]);
    expect(isSmartBackfillError(e, 'unavailable')).toBe(true);
    expect(isSmartBackfillError(e, 'corrupt')).toBe(false);
    expect(isSmartBackfillError(cause)).toBe(false);
  });

  it('two processors with one name are a configuration error', () => {
    const p = { name: 'P', run: async () => undefined };
    expect(() => processorRegistry([p, p])).toThrow(
      expect.objectContaining({
        code: 'invalid_config',
        message: '[smart-backfill] [engine] two processors are named "P"; names must be unique',
      }),
    );
  });
});
