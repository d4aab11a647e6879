/**
 * Figures in docs/reliability.md come from the tests that measure them. A block
 * between `<!-- figures:NAME -->` and `<!-- /figures:NAME -->` is what a test
 * computes; the test compares, and fails when the page says something else.
 * `npm run docs:figures` runs those tests with SMART_BACKFILL_UPDATE_DOCS=1, which
 * rewrites the blocks instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const DOC = fileURLToPath(new URL('../docs/reliability.md', import.meta.url));
const UPDATE = process.env['SMART_BACKFILL_UPDATE_DOCS'] === '1';

export const checkDocBlock = (name: string, body: string): void => {
  const begin = `<!-- figures:${name} -->\n`;
  const end = `<!-- /figures:${name} -->`;
  const text = readFileSync(DOC, 'utf8');
  const a = text.indexOf(begin);
  const b = text.indexOf(end, a);
  expect(a >= 0 && b > a, `docs/reliability.md has no "${begin.trim()}" … "${end}" block`).toBe(true);
  const current = text.slice(a + begin.length, b);
  const wanted = body.endsWith('\n') ? body : `${body}\n`;
  if (UPDATE) {
    if (current !== wanted) writeFileSync(DOC, text.slice(0, a + begin.length) + wanted + text.slice(b));
    return;
  }
  expect(current, `docs/reliability.md's "${name}" figures are not what the test measured; run \`npm run docs:figures\``).toBe(wanted);
};

/** A markdown table. */
export const table = (head: readonly string[], rows: readonly (readonly (string | number)[])[]): string =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
