/**
 * Prometheus text exposition format (version 0.0.4), just the part we emit:
 * `# HELP`, `# TYPE` and samples with labels.
 */

export type PromType = 'gauge' | 'counter' | 'summary' | 'untyped';

export interface PromSample {
  /** Suffix appended to the family name (`_sum`, `_count`), or `''`. */
  readonly suffix?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromFamily {
  readonly name: string;
  readonly help: string;
  readonly type: PromType;
  readonly samples: readonly PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label values escape `\`, `"` and line feeds. */
export const escapeLabelValue = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** HELP text escapes `\` and line feeds. */
export const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

const formatValue = (v: number): string => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));

/** Render metric families; families without samples still get their HELP and TYPE lines. */
export const renderPrometheus = (families: readonly PromFamily[]): string => {
  const lines: string[] = [];
  for (const f of families) {
    if (!NAME.test(f.name)) throw new RangeError(`[smart-backfill] [report] invalid metric name ${JSON.stringify(f.name)}`);
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels);
      for (const [k] of labels)
        if (!LABEL.test(k) || k.startsWith('__')) throw new RangeError(`[smart-backfill] [report] invalid label name ${JSON.stringify(k)}`);
      const l = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
      lines.push(`${f.name}${s.suffix ?? ''}${l} ${formatValue(s.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
};
