/** docs/bigquery.md stays true: its DDL is what renderDdl prints, and its example runs. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openBigQueryStore, renderDdl } from '@smart-backfill/bigquery';
import { startFake } from './harness.js';

const doc = readFileSync(new URL('../../../docs/bigquery.md', import.meta.url), 'utf8');
const block = (info: string): string => {
  const m = new RegExp('```' + info + '\\n([\\s\\S]*?)\\n```').exec(doc);
  if (m === null) throw new Error(`docs/bigquery.md has no \`\`\`${info} block`);
  return m[1]!;
};

const fake = await startFake();

describe('docs/bigquery.md', () => {
  it('shows the DDL renderDdl prints', () => {
    expect(block('sql ddl') + '\n').toBe(renderDdl({ projectId: 'my-project', location: 'US', tracking: { dataset: 'nba_processing' } }));
  });

  it('shows the window query the adapter sends', async () => {
    fake.defineUserTable('my-project.nba_raw.game_schedule', { dateColumn: 'game_date', statusColumn: 'game_status' });
    fake.defineUserTable('my-project.nba_analytics.player_game_summary', { dateColumn: 'game_date' });
    const store = openBigQueryStore({ client: fake.client('my-project') });
    const w = store.window(
      { table: 'nba_raw.game_schedule', dateColumn: 'game_date', statusColumn: 'game_status', statuses: ['Final', 'Completed'] },
      { table: 'nba_analytics.player_game_summary', dateColumn: 'date_range_start', dateColumnType: 'TIMESTAMP' },
    );
    const mark = fake.requests.length;
    await w.readWindow({ processorName: 'p', start: '2025-10-21' as never, end: '2025-11-19' as never }).catch(() => undefined);
    expect((fake.requests[mark]!.body as { query: string }).query).toBe(block('sql window'));
  });

  it('its example runs (against the local fake)', async () => {
    fake.defineUserTable('my-project.nba_raw.game_schedule', { dateColumn: 'game_date', statusColumn: 'game_status' });
    fake.defineUserTable('my-project.nba_analytics.player_game_summary', { dateColumn: 'game_date' });
    fake.addUserRows('my-project.nba_raw.game_schedule', [
      { game_date: '2025-11-01', game_status: 'Final' },
      { game_date: '2025-11-02', game_status: 'Final' },
    ]);
    fake.addUserRows('my-project.nba_analytics.player_game_summary', [{ game_date: '2025-11-01' }]);
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...a: unknown[]) => Promise<{ data: { expectedDates: string[]; recordCounts: Map<string, number> }; requests: unknown[] }>;
    const run = new AsyncFunction('openBigQueryStore', 'client', `${block('ts bigquery-example')}\nreturn { data, requests };`);
    const { data, requests } = await run(openBigQueryStore, fake.client('my-project'));
    expect([...data.expectedDates].sort()).toEqual(['2025-11-01', '2025-11-02']);
    expect(Object.fromEntries(data.recordCounts)).toEqual({ '2025-11-01': 1 });
    expect(requests).toEqual([]);
  });
});
