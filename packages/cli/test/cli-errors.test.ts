import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isSmartBackfillError, SmartBackfillError } from '@smart-backfill/core';
import { CliError, badInput } from '../src/cli-error.js';
import { resolveConfig } from '../src/config/load-config.js';
import { ExitCode } from '../src/exit-codes.js';
import { cleanupAfterEach, cli } from './helpers.js';

const { temp } = cleanupAfterEach();

const processor = (name: string, dependsOn?: readonly { processor: string; lookbackDays: number }[]) => ({
  name,
  schedule: { table: 'game_schedule', dateColumn: 'game_date' },
  target: { table: name, dateColumn: 'game_date' },
  command: 'true',
  ...(dependsOn === undefined ? {} : { dependsOn }),
});

describe('the CLI on core’s one error model', () => {
  it('a CliError is a SmartBackfillError: exit 2 is invalid_config, a cause lends its code, [cli] origin in the message', () => {
    const bad = badInput('--days: expected a whole number from 1 to 3660, got "x"');
    expect(bad).toBeInstanceOf(SmartBackfillError);
    expect(isSmartBackfillError(bad, 'invalid_config')).toBe(true);
    expect(bad.exitCode).toBe(ExitCode.badInput);
    expect(bad.message).toBe('[smart-backfill] [cli] --days: expected a whole number from 1 to 3660, got "x"');

    const lock = new SmartBackfillError('contention', 'database "x.db" stayed locked', { origin: 'sqlite' });
    const lost = new CliError('database "x.db" stayed locked', ExitCode.error, { cause: lock });
    expect(lost.code).toBe('contention');
    expect(lost.cause).toBe(lock);
    expect(new CliError('report: cannot write /x', ExitCode.error).code).toBe('unavailable');
    expect(new CliError('x', ExitCode.badInput, { code: 'invalid_input' }).code).toBe('invalid_input');
  });

  it('a tracking file written by a newer schema (invalid_config): exit 2 naming the upgrade, on one line', async () => {
    const t = temp();
    const db = new (createRequire(import.meta.url)('better-sqlite3'))(join(t.dir, 'x.db'));
    db.pragma('user_version = 999');
    db.close();
    t.write('smart-backfill.config.json', { store: { type: 'sqlite', path: './x.db' }, processors: [processor('a')] });
    const r = await cli(['status', '--today', '2025-11-16'], { cwd: t.dir });
    expect(r.code).toBe(ExitCode.badInput);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /^error: store: database ".*x\.db" has schema version 999, newer than this package knows \(\d+\); upgrade @smart-backfill\/sqlite$/,
    );
  });

  it('the dependency graph is built once, when the config is loaded', () => {
    const c = resolveConfig(
      { store: { type: 'sqlite', path: 'a.db' }, processors: [processor('b', [{ processor: 'a', lookbackDays: 1 }]), processor('a')] },
      { baseDir: '/srv' },
    );
    expect(c.graph.order).toEqual(['a', 'b']);
  });
});
