/**
 * A command string split into argv the way a user expects from a shell, without
 * a shell: whitespace separates words, '…' and "…" group (\" and \\ inside double
 * quotes, \x outside quotes). Nothing else is special: no $VAR, globs, pipes or `;`.
 */
export const splitCommand = (command: string): { ok: true; argv: string[] } | { ok: false; problem: string } => {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && (command[i + 1] === '"' || command[i + 1] === '\\')) word += command[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) return { ok: false, problem: `unterminated ${quote} quote` };
  if (inWord) argv.push(word);
  if (argv.length === 0) return { ok: false, problem: 'empty command' };
  return { ok: true, argv };
};

export const PLACEHOLDERS = ['date', 'processor'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Placeholders like `{foo}` that are not known (a typo would otherwise reach the program verbatim). */
export const unknownPlaceholders = (argv: readonly string[]): string[] => {
  const out: string[] = [];
  for (const w of argv)
    for (const m of w.matchAll(/\{([A-Za-z_]+)\}/g)) if (!(PLACEHOLDERS as readonly string[]).includes(m[1] as string)) out.push(m[0]);
  return out;
};

/** Substitute placeholders inside each word. Values never pass through a shell, so no quoting is needed. */
export const substitute = (argv: readonly string[], values: Readonly<Record<Placeholder, string>>): string[] =>
  argv.map((w) => w.replace(/\{(date|processor)\}/g, (_, k: Placeholder) => values[k]));
