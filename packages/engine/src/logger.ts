/** The few log calls the engine makes. Bring your own (pino, winston) by adapting these four methods. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => {};

/** Logs nothing: the default, so a library never writes to a caller's stdout uninvited. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const safeFields = (fields: Record<string, unknown> | undefined): Record<string, unknown> => {
  if (fields === undefined) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? { name: v.name, message: v.message } : v;
  return out;
};

/**
 * One JSON object per line (`{"ts","level","msg",...fields}`), the format Cloud Logging
 * and most collectors parse. `write` defaults to stderr so stdout stays for program output.
 */
export const jsonLinesLogger = (
  opts: { readonly level?: Level; readonly write?: (line: string) => void; readonly now?: () => number } = {},
): Logger => {
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => void process.stderr.write(line + '\n'));
  const now = opts.now ?? Date.now;
  const log =
    (level: Level) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (RANK[level] < min) return;
      let line: string;
      try {
        line = JSON.stringify({ ts: new Date(now()).toISOString(), level, msg, ...safeFields(fields) });
      } catch {
        line = JSON.stringify({ ts: new Date(now()).toISOString(), level, msg, fields: '[unserializable]' });
      }
      write(line);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
};

/** `jsonLinesLogger()` at level info, to stderr. */
export const consoleJsonLogger: Logger = jsonLinesLogger();
