/**
 * A strict parser for the subset of the Prometheus text format (0.0.4) we emit,
 * written from the spec so tests can read metrics back: every sample must
 * belong to the family announced by the HELP/TYPE lines before it.
 */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}
export interface ParsedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly samples: ParsedSample[];
}

const unescapeHelp = (s: string): string => s.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));

const parseLabels = (s: string, line: string): Record<string, string> => {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(s.slice(i));
    if (m === null) throw new Error(`bad label at ${JSON.stringify(s.slice(i))} in ${line}`);
    i += m[0].length;
    let v = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new Error(`unterminated label value in ${line}`);
      if (c === '"') break;
      if (c === '\n') throw new Error(`raw newline in label value in ${line}`);
      if (c === '\\') {
        const n = s[i + 1];
        if (n === '\\') v += '\\';
        else if (n === '"') v += '"';
        else if (n === 'n') v += '\n';
        else throw new Error(`bad escape \\${String(n)} in ${line}`);
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    i++; // closing quote
    if (m[1] === undefined || m[1] in out) throw new Error(`duplicate label ${String(m[1])} in ${line}`);
    out[m[1]] = v;
    if (s[i] === ',') i++;
    else if (i !== s.length) throw new Error(`expected , or } in ${line}`);
  }
  return out;
};

const parseValue = (v: string, line: string): number => {
  if (v === 'NaN') return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v)) throw new Error(`bad value ${JSON.stringify(v)} in ${line}`);
  return Number(v);
};

export const parsePrometheus = (text: string): ParsedFamily[] => {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a line feed');
  const families: ParsedFamily[] = [];
  const seen = new Set<string>();
  let cur: ParsedFamily | undefined;
  let pendingHelp: { name: string; help: string } | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ')) {
      const m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (m === null) throw new Error(`bad HELP: ${line}`);
      pendingHelp = { name: m[1] as string, help: unescapeHelp(m[2] as string) };
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (m === null) throw new Error(`bad TYPE: ${line}`);
      if (pendingHelp === undefined || pendingHelp.name !== m[1]) throw new Error(`TYPE without its HELP: ${line}`);
      if (seen.has(m[1] as string)) throw new Error(`family ${String(m[1])} twice`);
      seen.add(m[1] as string);
      cur = { name: m[1] as string, help: pendingHelp.help, type: m[2] as string, samples: [] };
      families.push(cur);
      pendingHelp = undefined;
      continue;
    }
    if (line.startsWith('#') || line === '') throw new Error(`unexpected line: ${JSON.stringify(line)}`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`bad sample: ${line}`);
    if (cur === undefined) throw new Error(`sample before any TYPE: ${line}`);
    const name = m[1] as string;
    const allowed = cur.type === 'summary' ? [cur.name, `${cur.name}_sum`, `${cur.name}_count`] : [cur.name];
    if (!allowed.includes(name)) throw new Error(`sample ${name} outside its family ${cur.name}`);
    cur.samples.push({ name, labels: m[3] !== undefined ? parseLabels(m[3], line) : {}, value: parseValue(m[4] as string, line) });
  }
  for (const f of families) if (f.type === 'summary') checkQuantiles(f);
  return families;
};

/** What docs/monitoring.md promises of every summary we emit: a series that counted something has its median and p95. */
export const SUMMARY_QUANTILES = ['0.5', '0.95'] as const;

const checkQuantiles = (f: ParsedFamily): void => {
  const key = (labels: Record<string, string>): string =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== 'quantile')
        .sort(),
    );
  for (const count of f.samples.filter((s) => s.name === `${f.name}_count` && s.value > 0)) {
    const k = key(count.labels);
    const have = f.samples.filter((s) => s.name === f.name && key(s.labels) === k).map((s) => s.labels['quantile']);
    for (const q of SUMMARY_QUANTILES)
      if (!have.includes(q)) throw new Error(`summary ${f.name}${k} counted ${count.value} but has no quantile="${q}"`);
  }
};
