import type { Logger } from '@smart-backfill/engine';
import type { Output } from '../output.js';

const field = (v: unknown): string => {
  if (typeof v === 'string') return /^[\w.:/-]+$/.test(v) ? v : JSON.stringify(v);
  if (v instanceof Error) return JSON.stringify(v.message);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

/**
 * The engine's log as the CLI shows it, on stderr so stdout stays the command's answer:
 * warnings and errors always (a guard that has something to say must be heard),
 * info and debug with `--verbose`. One JSON object per line with `--json`, else
 * `warning: message  key=value ...`.
 */
export const cliLogger = (out: Output): Logger => {
  const write = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void => {
    if ((level === 'debug' || level === 'info') && !out.verbose) return;
    if (out.json) {
      let line: string;
      try {
        line = JSON.stringify({ level, msg, ...fields }, (_k, v: unknown) =>
          v instanceof Error ? { name: v.name, message: v.message } : v,
        );
      } catch {
        line = JSON.stringify({ level, msg });
      }
      out.warn(line);
      return;
    }
    const label = level === 'warn' ? 'warning' : level;
    const rest = Object.entries(fields ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${field(v)}`)
      .join(' ');
    out.warn(`${label}: ${msg}${rest === '' ? '' : `  ${rest}`}`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
};
