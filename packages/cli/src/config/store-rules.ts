import { IDENTIFIER_RULE, isStoreTable, isValidIdentifier } from '@smart-backfill/sqlite/identifiers';

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/**
 * Rules that need more than one field: whether a processor can run at all, and whether
 * its table names suit the configured store. The SQLite rules are the adapter's own
 * (`@smart-backfill/sqlite/identifiers`), so a name that passes here is never refused later.
 * Reads the raw value defensively: fields of the wrong shape are the decoder's to report.
 */
export const storeRuleProblems = (raw: unknown, opts: { readonly requireRunnable: boolean }): string[] => {
  if (!isObject(raw) || !Array.isArray(raw['processors'])) return [];
  const store = isObject(raw['store']) ? raw['store'] : {};
  const problems: string[] = [];
  raw['processors'].forEach((p: unknown, i: number) => {
    if (!isObject(p)) return;
    const at = `processors[${i}]`;
    const name = typeof p['name'] === 'string' ? ` (${JSON.stringify(p['name'])})` : '';
    if (opts.requireRunnable && p['command'] === undefined && p['module'] === undefined && p['run'] === undefined) {
      problems.push(
        `${at}${name}: give one of command or module (in a JS/TS config: run); without one the worker can never run its backfills`,
      );
    }
    for (const role of ['schedule', 'target'] as const) {
      const t = p[role];
      if (!isObject(t)) continue;
      const table = t['table'];
      if (typeof table !== 'string') continue;
      if (store['type'] === 'sqlite') {
        if (!isValidIdentifier(table, true)) {
          problems.push(
            `${at}.${role}.table${name}: ${JSON.stringify(table)} is not a SQLite table name (${IDENTIFIER_RULE}; optionally schema.table)`,
          );
        } else if (isStoreTable(table)) {
          problems.push(`${at}.${role}.table${name}: "${table}" is one of smart-backfill's own tracking tables; name your own table`);
        }
        for (const field of ['dateColumn', 'statusColumn', 'processorColumn'] as const) {
          const col = t[field];
          if (typeof col === 'string' && !isValidIdentifier(col)) {
            problems.push(`${at}.${role}.${field}${name}: ${JSON.stringify(col)} is not a SQLite column name (${IDENTIFIER_RULE})`);
          }
        }
      } else if (store['type'] === 'bigquery' && typeof store['dataset'] === 'string') {
        // The tracking dataset holds only smart-backfill's tables: user data lives elsewhere, read-only.
        const parts = table.split('.');
        if (parts.length >= 2 && parts[parts.length - 2] === store['dataset']) {
          problems.push(
            `${at}.${role}.table${name}: "${table}" is in the tracking dataset "${store['dataset']}"; keep your tables in a dataset of their own`,
          );
        }
      }
    }
  });
  return problems;
};
