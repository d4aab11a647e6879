import type Database from 'better-sqlite3';
import { SqliteConfigError } from './errors.js';
import { STORE_TABLES } from './schema.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/*
 * This module is also the package's `./identifiers` entry point: the CLI's config decoder
 * applies the same rules at load time without loading better-sqlite3.
 */

/** What `isValidIdentifier` accepts, in words for messages. */
export const IDENTIFIER_RULE = 'letters, digits and _ (not starting with a digit), at most 128 characters';

/** Is `table` (`name` or `main.name`) one of the store's own tables? SQLite names ignore case. */
export const isStoreTable = (table: string): boolean => {
  const parts = table.toLowerCase().split('.');
  const name = parts.length === 2 && parts[0] === 'main' ? parts[1] : parts.length === 1 ? parts[0] : undefined;
  return name !== undefined && (STORE_TABLE_SET as ReadonlySet<string>).has(name);
};

/** `name` or `schema.name`, each part `^[A-Za-z_][A-Za-z0-9_]*$`. */
export const isValidIdentifier = (value: unknown, allowSchema = false): value is string => {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) return false;
  const parts = value.split('.');
  if (parts.length > (allowSchema ? 2 : 1)) return false;
  return parts.every((p) => IDENTIFIER.test(p));
};

const STORE_TABLE_SET: ReadonlySet<string> = new Set(STORE_TABLES);

/**
 * Double-quote a validated identifier (`schema.table` becomes `"schema"."table"`).
 * Throws rather than escaping: an identifier that fails the pattern is a configuration
 * mistake, and refusing it means no user string is ever spliced into SQL.
 */
export const quoteIdentifier = (value: string, field = 'identifier', allowSchema = false): string => {
  if (!isValidIdentifier(value, allowSchema)) {
    throw new SqliteConfigError(
      `${field} ${JSON.stringify(value)} is not a valid identifier: use ${IDENTIFIER_RULE}${allowSchema ? ', optionally schema.table' : ''}`,
    );
  }
  return value
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');
};

export interface ResolvedTable {
  /** Quoted, ready to splice: `"main"."games"`. */
  readonly sql: string;
  readonly display: string;
  /** Column names as declared, keyed by lower case (SQLite identifiers ignore case). */
  readonly columns: ReadonlyMap<string, string>;
}

/**
 * Check that `table` exists and has every named column, reading the catalogue
 * through `pragma_table_info(?, ?)` with bound parameters.
 */
export const resolveTable = (
  db: Database.Database,
  table: string,
  required: ReadonlyArray<{ field: string; column: string }>,
): ResolvedTable => {
  const sql = quoteIdentifier(table, 'table', true);
  const [schema, name] = table.includes('.') ? (table.split('.') as [string, string]) : ['main', table];
  let rows: Array<{ name: string }>;
  try {
    rows = db.prepare('SELECT name FROM pragma_table_info(?, ?)').all(name, schema) as Array<{ name: string }>;
  } catch (cause) {
    throw new SqliteConfigError(`cannot read the columns of table "${table}": ${(cause as Error).message}`, { cause });
  }
  if (rows.length === 0) {
    let known: string[] = [];
    try {
      known = (
        db
          .prepare(
            `SELECT name FROM pragma_table_list WHERE schema = ? AND type IN ('table','view') AND name NOT LIKE 'sqlite_%' ORDER BY name`,
          )
          .all(schema) as Array<{ name: string }>
      ).map((r) => r.name);
    } catch {
      // an unknown schema: the message below still names the table
    }
    throw new SqliteConfigError(`table "${table}" does not exist${known.length > 0 ? ` (tables: ${known.join(', ')})` : ''}`);
  }
  const columns = new Map(rows.map((r) => [r.name.toLowerCase(), r.name]));
  for (const { field, column } of required) {
    quoteIdentifier(column, field);
    if (!columns.has(column.toLowerCase())) {
      throw new SqliteConfigError(`table "${table}" has no column "${column}" (${field}; columns: ${rows.map((r) => r.name).join(', ')})`);
    }
  }
  return { sql, display: table, columns };
};
