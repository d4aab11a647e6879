import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const srcFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? srcFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
const sources = srcFiles(join(pkgDir, 'src')).map((f) => ({ file: f.slice(pkgDir.length), text: readFileSync(f, 'utf8') }));

describe('core stays pure', () => {
  it('has no runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg['dependencies'] === undefined || Object.keys(pkg['dependencies'] as object).length === 0).toBe(true);
    expect(pkg['peerDependencies']).toBeUndefined();
  });

  it('imports nothing but relative paths', () => {
    expect(sources.length).toBeGreaterThan(10);
    const specifier = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;
    const bad: string[] = [];
    for (const { file, text } of sources) {
      for (const m of text.matchAll(specifier)) if (!m[1]!.startsWith('./') && !m[1]!.startsWith('../')) bad.push(`${file}: ${m[1]}`);
      if (/\brequire\s*\(/.test(text)) bad.push(`${file}: require()`);
    }
    expect(bad).toEqual([]);
  });

  it('reads no clock, environment or randomness', () => {
    const banned = /\bDate\.now\s*\(|new Date\(\s*\)|\bprocess\.|\bsetTimeout\b|\bsetInterval\b|\bMath\.random\b|\bperformance\.now\b/;
    expect(sources.filter(({ text }) => banned.test(text)).map((s) => s.file)).toEqual([]);
  });
});
