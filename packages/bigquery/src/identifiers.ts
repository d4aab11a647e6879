import { configError } from './errors.js';

/**
 * BigQuery naming rules, checked before any SQL is built. Identifiers cannot be
 * query parameters, so they are the one thing spliced into SQL text: only names
 * that pass these checks are, always backtick-quoted. None of the accepted
 * characters can close a backtick or start a comment.
 */

/** Lowercase letters, digits, hyphens; starts with a letter, ends with a letter or digit; ≤ 30 chars; optional `domain:` prefix. */
const PROJECT = /^(?:[a-z0-9][a-z0-9.-]{0,61}[a-z0-9]:)?[a-z][a-z0-9-]{0,28}[a-z0-9]$/;
/** Letters, digits, underscores; ≤ 1024 chars. */
const DATASET = /^[A-Za-z0-9_]{1,1024}$/;
/** Unicode letters, marks, numbers, connectors (`_`), dashes and spaces (BigQuery's table rule). */
const TABLE = /^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd}\p{Zs}]+$/u;
/** Letter or underscore first, then letters, digits, underscores; ≤ 300 chars. */
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;

/** Ingestion-time partition pseudo-columns: usable as a partition column, never quoted. */
export const PSEUDO_COLUMNS = ['_PARTITIONTIME', '_PARTITIONDATE'] as const;
export type PseudoColumn = (typeof PSEUDO_COLUMNS)[number];

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'undefined' : String(v));

export const validateProject = (field: string, value: unknown): string => {
  if (typeof value !== 'string' || !PROJECT.test(value)) {
    throw configError(
      `${field} must be a BigQuery project id (lowercase letters, digits and hyphens, starting with a letter, at most 30 characters), got ${show(value)}`,
    );
  }
  return value;
};

export const validateDataset = (field: string, value: unknown): string => {
  if (typeof value !== 'string' || !DATASET.test(value)) {
    throw configError(`${field} must be a dataset name (letters, digits and underscores, at most 1024 characters), got ${show(value)}`);
  }
  return value;
};

export const validateTable = (field: string, value: unknown): string => {
  if (typeof value !== 'string' || !TABLE.test(value) || Buffer.byteLength(value, 'utf8') > 1024) {
    throw configError(
      `${field} must be a table name (letters, marks, numbers, underscores, dashes and spaces, at most 1024 bytes), got ${show(value)}`,
    );
  }
  return value;
};

export const validateColumn = (field: string, value: unknown, opts: { readonly allowPseudo?: boolean } = {}): string => {
  if (opts.allowPseudo === true && (PSEUDO_COLUMNS as readonly unknown[]).includes(value)) return value as string;
  if (typeof value !== 'string' || !COLUMN.test(value)) {
    throw configError(
      `${field} must be a column name (a letter or underscore, then letters, digits and underscores, at most 300 characters), got ${show(value)}`,
    );
  }
  return value;
};

/** A column reference for SQL text: backtick-quoted, or a bare pseudo-column. */
export const quoteColumn = (name: string): string => ((PSEUDO_COLUMNS as readonly string[]).includes(name) ? name : `\`${name}\``);

/** A fully qualified table: every part validated. */
export interface TableRef {
  readonly projectId: string;
  readonly datasetId: string;
  readonly tableId: string;
}

/** A table as users write it: `"dataset.table"`, `"project.dataset.table"`, or the parts. */
export type TableInput = string | { readonly projectId?: string | undefined; readonly datasetId: string; readonly tableId: string };

/**
 * Resolve a table option against the default project. Dotted strings are split
 * on `.`; a domain-scoped project (`example.com:proj`) must be given as parts.
 */
export const resolveTable = (field: string, input: unknown, defaultProject: string): TableRef => {
  if (typeof input === 'string') {
    const parts = input.split('.');
    if (parts.length === 2) return resolveTable(field, { datasetId: parts[0], tableId: parts[1] }, defaultProject);
    if (parts.length === 3) return resolveTable(field, { projectId: parts[0], datasetId: parts[1], tableId: parts[2] }, defaultProject);
    throw configError(`${field} must be "dataset.table" or "project.dataset.table", got ${show(input)}`);
  }
  if (typeof input !== 'object' || input === null)
    throw configError(`${field} must be "dataset.table", "project.dataset.table" or { datasetId, tableId }, got ${show(input)}`);
  const o = input as { projectId?: unknown; datasetId?: unknown; tableId?: unknown };
  return {
    projectId: validateProject(`${field}.projectId`, o.projectId ?? defaultProject),
    datasetId: validateDataset(`${field}.datasetId`, o.datasetId),
    tableId: validateTable(`${field}.tableId`, o.tableId),
  };
};

/** `` `project.dataset.table` `` for SQL text. */
export const quoteTable = (t: TableRef): string => `\`${t.projectId}.${t.datasetId}.${t.tableId}\``;

/** `project.dataset.table` for messages. */
export const tableName = (t: TableRef): string => `${t.projectId}.${t.datasetId}.${t.tableId}`;
