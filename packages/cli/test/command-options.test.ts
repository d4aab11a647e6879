import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, cli } from './helpers.js';

const { temp } = cleanupAfterEach();

const processor = {
  name: 'player_game_summary',
  schedule: { table: 'game_schedule', dateColumn: 'game_date' },
  target: { table: 'player_game_summary', dateColumn: 'game_date' },
  command: 'true',
};

describe('each command decodes its options before it opens anything', () => {
  it.each([
    [['worker', '--once', '--concurrency', '0'], 'error: --concurrency: expected a whole number from 1 to 64, got "0"'],
    [['status', '--today', '2025-02-30'], 'error: --today: '],
    [['assess', '--today', '2025-13-01'], 'error: --today: '],
    [['metrics', '--until', '2025-02-30'], 'error: --until: '],
    [['report', '--today', '2025-02-30'], 'error: --today: '],
  ])('%j: exit 2 naming the option, and no tracking file created', async (argv, first) => {
    const t = temp();
    t.write('smart-backfill.config.json', { store: { type: 'sqlite', path: './tracking/x.db' }, processors: [processor] });
    const r = await cli(argv, { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.errors[0]?.startsWith(first)).toBe(true);
    expect(existsSync(join(t.dir, 'tracking'))).toBe(false);
  });
});
