import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';

const read = (rel: string): string => readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8');

describe('docs/cli.md tells the exit codes the CLI uses', () => {
  it('lists every code of ExitCode, once, and no other', () => {
    const doc = read('../../../docs/cli.md');
    const start = doc.indexOf('| code | meaning | a scheduler should |');
    expect(start, 'docs/cli.md has the exit-code table').toBeGreaterThan(0);
    const tableText = doc.slice(start, doc.indexOf('\n\n', start));
    const codes = [...tableText.matchAll(/^\| (\d+) \| /gm)].map((m) => Number(m[1]));
    expect(codes).toEqual([...new Set(Object.values(ExitCode))].sort((a, b) => a - b));
  });

  it('README.md names no exit code that means something else', () => {
    const readme = read('../../../README.md');
    // "Exit 3 means …" / "exit 4 means …": each must be the code's documented meaning.
    for (const m of readme.matchAll(/[Ee]xit (\d) means "?([^";.]+)/g)) {
      const code = Number(m[1]);
      const said = (m[2] ?? '').toLowerCase();
      if (code === ExitCode.held) expect(said).toMatch(/held/);
      else if (code === ExitCode.escalated) expect(said).toMatch(/person/);
      else if (code === ExitCode.escalatedNotDelivered) expect(said).toMatch(/no(body| one)|not/);
      else expect.fail(`README.md explains exit ${code} but the test knows no meaning for it`);
    }
  });
});
