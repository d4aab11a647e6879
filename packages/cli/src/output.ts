import pc from 'picocolors';
import type { CliIo } from './io.js';

export type Colors = ReturnType<typeof pc.createColors>;

/** How a command prints: colours and symbols on a TTY, plain text in pipes, or JSON. */
export interface Output {
  readonly json: boolean;
  readonly tty: boolean;
  readonly c: Colors;
  readonly verbose: boolean;
  readonly io: CliIo;
  /** One line to stdout. */
  line(text?: string): void;
  /** One line to stderr. */
  warn(text: string): void;
  /** One JSON document to stdout. */
  printJson(value: unknown): void;
}

const colorEnabled = (io: CliIo, json: boolean): boolean => {
  if (json) return false;
  if (io.env['NO_COLOR'] !== undefined && io.env['NO_COLOR'] !== '') return false;
  if (io.env['FORCE_COLOR'] !== undefined && io.env['FORCE_COLOR'] !== '0') return true;
  return io.stdout.isTTY === true;
};

export const createOutput = (io: CliIo, opts: { json?: boolean | undefined; verbose?: boolean | undefined }): Output => {
  const json = opts.json === true;
  const color = colorEnabled(io, json);
  return {
    json,
    tty: io.stdout.isTTY === true && !json,
    c: pc.createColors(color),
    verbose: opts.verbose === true || (io.env['DEBUG'] !== undefined && io.env['DEBUG'] !== ''),
    io,
    line: (text = '') => void io.stdout.write(`${text}\n`),
    warn: (text) => void io.stderr.write(`${text}\n`),
    printJson: (value) => void io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
};
