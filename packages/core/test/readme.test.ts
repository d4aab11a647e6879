import { readFileSync } from 'node:fs';
import { format } from 'node:util';
import { expect, it } from 'vitest';
import * as core from '@smart-backfill/core';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const block = (lang: string, after = 0): { code: string; end: number } => {
  const start = readme.indexOf('```' + lang + '\n', after);
  if (start < 0) throw new Error(`README has no \`\`\`${lang} block`);
  const from = start + lang.length + 4;
  const end = readme.indexOf('\n```', from);
  return { code: readme.slice(from, end + 1), end };
};

it('the README example runs and prints what the README says', async () => {
  const example = block('ts');
  const expected = block('text', example.end).code;
  // The example imports from the package; hand it the module instead. It uses no TypeScript-only syntax.
  const importLine = /^import \{([^}]+)\} from '@smart-backfill\/core';\n/m;
  const m = importLine.exec(example.code);
  expect(m).not.toBeNull();
  const names = m![1]!.split(',').map((s) => s.trim());
  for (const n of names) expect(core).toHaveProperty(n);
  const body = example.code.replace(importLine, '');
  const lines: string[] = [];
  const fakeConsole = { log: (...args: unknown[]) => lines.push(format(...args)) };
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
    ...a: string[]
  ) => (...v: unknown[]) => Promise<void>;
  await new AsyncFunction(...names, 'console', body)(...names.map((n) => (core as Record<string, unknown>)[n]), fakeConsole);
  expect(lines.join('\n') + '\n').toBe(expected);
});
