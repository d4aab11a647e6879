import type { ScheduleWindowDescription, StatusCount } from './ports/schedule-source.js';
import type { WindowQuery } from './ports/window.js';

/**
 * Why a window has (or lacks) expected dates:
 * - `Scheduled`: it has some; nothing to say.
 * - `Empty`: nothing is scheduled (an off-season is real, so is a mistyped year);
 *   the check proceeds, and `warning` says so.
 * - `NoneAccepted`: the schedule has rows but the status filter keeps none of them —
 *   almost always a configuration mistake (`"Open"` for `open`), which would
 *   otherwise switch the guard off without a word. `message` names what was found.
 */
export type ScheduleDiagnosis =
  | { readonly _tag: 'Scheduled' }
  | { readonly _tag: 'Empty'; readonly warning: string }
  | { readonly _tag: 'NoneAccepted'; readonly message: string };

const quote = (s: string | null): string => (s === null ? 'NULL' : JSON.stringify(s));

const byStatus = (a: StatusCount, b: StatusCount): number =>
  a.status === b.status ? 0 : a.status === null ? 1 : b.status === null ? -1 : a.status < b.status ? -1 : 1;

/**
 * Classify a window from how many expected dates it returned and, when the source
 * can describe itself, what rows it holds before the status filter.
 */
export const diagnoseSchedule = (input: {
  readonly query: Pick<WindowQuery, 'start' | 'end'>;
  readonly expectedCount: number;
  readonly description?: ScheduleWindowDescription | undefined;
}): ScheduleDiagnosis => {
  const { query, expectedCount, description: d } = input;
  if (expectedCount > 0) return { _tag: 'Scheduled' };
  const between = `between ${query.start} and ${query.end}`;
  if (d === undefined) return { _tag: 'Empty', warning: `the schedule has no expected dates ${between}; nothing was checked` };
  const name = JSON.stringify(d.source);
  if (d.rowsInWindow === 0) {
    return {
      _tag: 'Empty',
      warning: `schedule ${name} has no rows ${between}; nothing was checked (an off-season, or a schedule that does not cover these dates)`,
    };
  }
  const f = d.statusFilter;
  const rows = `${d.rowsInWindow} row${d.rowsInWindow === 1 ? '' : 's'}`;
  if (f === undefined || f.found.some((s) => s.status !== null && f.accepted.includes(s.status))) {
    // Rows that should have counted: the schedule changed between the two reads.
    return { _tag: 'Empty', warning: `schedule ${name} has ${rows} ${between} but returned no expected dates; nothing was checked` };
  }
  const found = [...f.found].sort(byStatus).map((s) => `${quote(s.status)} (${s.count})`);
  return {
    _tag: 'NoneAccepted',
    message:
      `schedule ${name} has ${rows} ${between} but none with ${f.column} in (${f.accepted.map(quote).join(', ')})` +
      `; found: ${found.join(', ') || 'none'}`,
  };
};
