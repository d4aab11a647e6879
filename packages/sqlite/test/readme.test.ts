import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '@smart-backfill/sqlite';
import { main } from './fixtures/readme-example.js';
import { tempDir } from './helpers.js';

const read = (rel: string): string => readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8');

describe('README example', () => {
  it('is the code this test runs', () => {
    const source = read('./fixtures/readme-example.ts');
    const region = source.slice(
      source.indexOf('// #region example\n') + '// #region example\n'.length,
      source.indexOf('// #endregion example'),
    );
    expect(region.length).toBeGreaterThan(500);
    expect(read('../README.md')).toContain(region.trim());
  });

  it('holds the run, backfills the gap and resumes', async () => {
    const tmp = tempDir();
    try {
      const { first, runs } = await main(tmp.file('smart-backfill.db'));
      expect(first._tag).toBe('Held');
      if (first._tag === 'Held') expect(first.queued.map((r) => r.date)).toEqual(['2025-11-04', '2025-11-05']);
      expect(runs).toContainEqual({ run_date: '2025-11-11', outcome: 'skipped', skip_reason: 'backfill_queued', gap_size: 2 });
      expect(runs).toContainEqual(expect.objectContaining({ run_date: '2025-11-11', outcome: 'succeeded' }));
      expect(runs).toContainEqual(expect.objectContaining({ run_date: '2025-11-04', outcome: 'succeeded' }));
    } finally {
      tmp.done();
    }
  });

  it("runs the README's monitoring SQL against a real store", async () => {
    const tmp = tempDir();
    try {
      await main(tmp.file('m.db'));
      const store = openSqliteStore({ path: tmp.file('m.db') });
      const blocks = [...read('../README.md').matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);
      const statements = blocks.flatMap((b) =>
        b
          .split(';')
          .map((x) => x.trim())
          .filter((x) => x.replace(/--.*$/gm, '').trim() !== ''),
      );
      expect(statements).toHaveLength(2);
      const [gaps, success] = statements.map((sql) => store.db.prepare(sql).all());
      expect(gaps).toEqual([
        expect.objectContaining({ processor_name: 'PlayerGameSummaryProcessor', gap_detections: 1, total_missing_dates: 2 }),
      ]);
      expect(success).toEqual([expect.objectContaining({ processor_name: 'PlayerGameSummaryProcessor', status: 'completed', count: 2 })]);
      await store.close();
    } finally {
      tmp.done();
    }
  });
});
