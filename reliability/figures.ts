/**
 * Figures a reliability test measured, appended as JSON lines to
 * `test-artifacts/reliability-figures.jsonl` (git-ignored; docs/reliability.md quotes them) and
 * printed. Counts only: nothing here is asserted on time.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

export const record = (suite: string, name: string, figures: Record<string, unknown>): void => {
  const line = { suite, name, at: new Date().toISOString(), ...figures };
  console.info(`[figures] ${suite} / ${name}: ${JSON.stringify(figures)}`);
  if (process.env['CI'] === 'true') return; // CI has nowhere to keep them
  mkdirSync(dir, { recursive: true });
  appendFileSync(`${dir}reliability-figures.jsonl`, `${JSON.stringify(line)}\n`);
};
