/**
 * Analysis with BigQuery's dialect: the language features BigQuery enables, QUALIFY
 * reserved, product mode external, named parameters typed as the client sends them,
 * and only the DDL options BigQuery documents. A catalog is built the way BigQuery's
 * would be: each CREATE statement, once analyzed, adds the table or view it creates
 * with the columns ZetaSQL resolved for it.
 */
import type { ZetaSqlServer } from './server.js';

/**
 * BigQuery's language features, as Google's zetasql-toolkit lists them
 * (`BigQueryLanguageOptions`), minus those this server's ZetaSQL release predates.
 */
const BIGQUERY_FEATURES = `
FEATURE_ALLOW_MISSING_PATH_EXPRESSION_IN_ALTER_DDL FEATURE_ALTER_COLUMN_SET_DATA_TYPE FEATURE_ALTER_TABLE_RENAME_COLUMN
FEATURE_ANALYTIC_FUNCTIONS FEATURE_ANONYMIZATION FEATURE_BIGNUMERIC_TYPE FEATURE_CBRT_FUNCTIONS
FEATURE_CREATE_EXTERNAL_TABLE_WITH_CONNECTION FEATURE_CREATE_EXTERNAL_TABLE_WITH_PARTITION_COLUMNS
FEATURE_CREATE_EXTERNAL_TABLE_WITH_TABLE_ELEMENT_LIST FEATURE_CREATE_MATERIALIZED_VIEW_CLUSTER_BY
FEATURE_CREATE_MATERIALIZED_VIEW_PARTITION_BY FEATURE_CREATE_SNAPSHOT_TABLE FEATURE_CREATE_TABLE_AS_SELECT_COLUMN_LIST
FEATURE_CREATE_TABLE_CLONE FEATURE_CREATE_TABLE_CLUSTER_BY FEATURE_CREATE_TABLE_COPY FEATURE_CREATE_TABLE_FIELD_ANNOTATIONS
FEATURE_CREATE_TABLE_FUNCTION FEATURE_CREATE_TABLE_LIKE FEATURE_CREATE_TABLE_NOT_NULL FEATURE_CREATE_TABLE_PARTITION_BY
FEATURE_CREATE_VIEW_WITH_COLUMN_LIST FEATURE_DML_UPDATE_WITH_JOIN FEATURE_ENCRYPTION FEATURE_FOREIGN_KEYS FEATURE_GEOGRAPHY
FEATURE_GROUP_BY_ROLLUP FEATURE_INTERVAL_TYPE FEATURE_INVERSE_TRIG_FUNCTIONS FEATURE_JSON_ARRAY_FUNCTIONS FEATURE_JSON_TYPE
FEATURE_JSON_VALUE_EXTRACTION_FUNCTIONS FEATURE_NAMED_ARGUMENTS FEATURE_NUMERIC_TYPE FEATURE_PARAMETERIZED_TYPES
FEATURE_PARAMETERS_IN_GRANTEE_LIST FEATURE_ROUND_WITH_ROUNDING_MODE FEATURE_TABLESAMPLE FEATURE_TABLE_VALUED_FUNCTIONS
FEATURE_TEMPLATE_FUNCTIONS FEATURE_TIMESTAMP_NANOS FEATURE_TIME_BUCKET_FUNCTIONS FEATURE_UNENFORCED_PRIMARY_KEYS
FEATURE_V_1_1_HAVING_IN_AGGREGATE FEATURE_V_1_1_LIMIT_IN_AGGREGATE FEATURE_V_1_1_NULL_HANDLING_MODIFIER_IN_AGGREGATE
FEATURE_V_1_1_NULL_HANDLING_MODIFIER_IN_ANALYTIC FEATURE_V_1_1_ORDER_BY_IN_AGGREGATE FEATURE_V_1_1_SELECT_STAR_EXCEPT_REPLACE
FEATURE_V_1_1_WITH_ON_SUBQUERY FEATURE_V_1_2_CIVIL_TIME FEATURE_V_1_2_SAFE_FUNCTION_CALL FEATURE_V_1_2_WEEK_WITH_WEEKDAY
FEATURE_V_1_3_ADDITIONAL_STRING_FUNCTIONS FEATURE_V_1_3_ALLOW_DASHES_IN_TABLE_NAME FEATURE_V_1_3_ALLOW_REGEXP_EXTRACT_OPTIONALS
FEATURE_V_1_3_ANNOTATION_FRAMEWORK FEATURE_V_1_3_CASE_STMT FEATURE_V_1_3_COLLATION_SUPPORT FEATURE_V_1_3_COLUMN_DEFAULT_VALUE
FEATURE_V_1_3_CONCAT_MIXED_TYPES FEATURE_V_1_3_DATE_ARITHMETICS FEATURE_V_1_3_DATE_TIME_CONSTRUCTORS FEATURE_V_1_3_DECIMAL_ALIAS
FEATURE_V_1_3_EXTENDED_DATE_TIME_SIGNATURES FEATURE_V_1_3_EXTENDED_GEOGRAPHY_PARSERS FEATURE_V_1_3_FORMAT_IN_CAST
FEATURE_V_1_3_FOR_IN FEATURE_V_1_3_IS_DISTINCT FEATURE_V_1_3_LIKE_ANY_SOME_ALL FEATURE_V_1_3_NULLS_FIRST_LAST_IN_ORDER_BY
FEATURE_V_1_3_OMIT_INSERT_COLUMN_LIST FEATURE_V_1_3_PIVOT FEATURE_V_1_3_QUALIFY FEATURE_V_1_3_REMOTE_FUNCTION FEATURE_V_1_3_REPEAT
FEATURE_V_1_3_SCRIPT_LABEL FEATURE_V_1_3_UNNEST_AND_FLATTEN_ARRAYS FEATURE_V_1_3_UNPIVOT FEATURE_V_1_3_WITH_GROUP_ROWS
FEATURE_V_1_3_WITH_RECURSIVE FEATURE_V_1_4_BARE_ARRAY_ACCESS FEATURE_V_1_4_ARRAY_AGGREGATION_FUNCTIONS
FEATURE_V_1_4_ARRAY_FIND_FUNCTIONS FEATURE_V_1_4_SAFE_FUNCTION_CALL_WITH_LAMBDA_ARGS FEATURE_V_1_4_REMOTE_MODEL
FEATURE_V_1_4_STRUCT_POSITIONAL_ACCESSOR FEATURE_V_1_4_SINGLE_TABLE_NAME_ARRAY_PATH FEATURE_V_1_4_SQL_MACROS
FEATURE_V_1_4_COLLATION_IN_WITH_RECURSIVE FEATURE_V_1_4_COLLATION_IN_EXPLICIT_CAST FEATURE_V_1_4_LOAD_DATA_PARTITIONS
FEATURE_V_1_4_CREATE_MODEL_WITH_ALIASED_QUERY_LIST FEATURE_V_1_4_LOAD_DATA_TEMP_TABLE FEATURE_V_1_4_CORRESPONDING
FEATURE_V_1_4_SEQUENCE_ARG FEATURE_V_1_4_GROUPING_BUILTIN FEATURE_V_1_4_GROUPING_SETS
FEATURE_V_1_4_PRESERVE_ANNOTATION_IN_IMPLICIT_CAST_IN_SCAN FEATURE_V_1_4_LIKE_ANY_SOME_ALL_ARRAY
FEATURE_V_1_4_LIKE_ANY_SOME_ALL_SUBQUERY FEATURE_V_1_4_FIRST_AND_LAST_N FEATURE_V_1_4_NULLIFZERO_ZEROIFNULL
FEATURE_V_1_4_PI_FUNCTIONS FEATURE_V_1_4_CREATE_FUNCTION_LANGUAGE_WITH_CONNECTION
`
  .trim()
  .split(/\s+/);

/** Statements BigQuery runs as query jobs (DDL, DML, queries); our adapter issues only some of them. */
const STATEMENT_KINDS = [
  'RESOLVED_QUERY_STMT',
  'RESOLVED_CREATE_SCHEMA_STMT',
  'RESOLVED_CREATE_TABLE_STMT',
  'RESOLVED_CREATE_TABLE_AS_SELECT_STMT',
  'RESOLVED_CREATE_VIEW_STMT',
  'RESOLVED_CREATE_MATERIALIZED_VIEW_STMT',
  'RESOLVED_ALTER_TABLE_STMT',
  'RESOLVED_DROP_STMT',
  'RESOLVED_INSERT_STMT',
  'RESOLVED_UPDATE_STMT',
  'RESOLVED_DELETE_STMT',
  'RESOLVED_MERGE_STMT',
  'RESOLVED_TRUNCATE_STMT',
  'RESOLVED_BEGIN_STMT',
  'RESOLVED_COMMIT_STMT',
  'RESOLVED_ROLLBACK_STMT',
];

export const LANGUAGE_OPTIONS = {
  name_resolution_mode: 'NAME_RESOLUTION_DEFAULT',
  product_mode: 'PRODUCT_EXTERNAL',
  enabled_language_features: BIGQUERY_FEATURES,
  supported_statement_kinds: STATEMENT_KINDS,
  reserved_keywords: ['QUALIFY'],
} as const;

export interface TypeProto {
  readonly type_kind: string;
  readonly array_type?: { readonly element_type: TypeProto };
  readonly struct_type?: { readonly field: readonly { readonly field_name: string; readonly field_type: TypeProto }[] };
}

const SCALARS: Record<string, string> = {
  STRING: 'TYPE_STRING',
  BYTES: 'TYPE_BYTES',
  INT64: 'TYPE_INT64',
  INTEGER: 'TYPE_INT64',
  FLOAT64: 'TYPE_DOUBLE',
  FLOAT: 'TYPE_DOUBLE',
  NUMERIC: 'TYPE_NUMERIC',
  BIGNUMERIC: 'TYPE_BIGNUMERIC',
  BOOL: 'TYPE_BOOL',
  BOOLEAN: 'TYPE_BOOL',
  DATE: 'TYPE_DATE',
  DATETIME: 'TYPE_DATETIME',
  TIME: 'TYPE_TIME',
  TIMESTAMP: 'TYPE_TIMESTAMP',
  JSON: 'TYPE_JSON',
  INTERVAL: 'TYPE_INTERVAL',
  GEOGRAPHY: 'TYPE_GEOGRAPHY',
};

const scalar = (name: string): TypeProto => {
  const kind = SCALARS[name];
  if (kind === undefined) throw new Error(`no ZetaSQL type for BigQuery type ${name}`);
  return { type_kind: kind };
};

/** A REST `QueryParameterType` (`{ type: 'ARRAY', arrayType: { type: 'DATE' } }`), as the client sends it, as a ZetaSQL type. */
export interface RestParameterType {
  readonly type: string;
  readonly arrayType?: RestParameterType;
  readonly structTypes?: readonly { readonly name?: string; readonly type: RestParameterType }[];
}

export const typeOfRestParameter = (t: RestParameterType): TypeProto => {
  if (t.type === 'ARRAY') {
    if (t.arrayType === undefined) throw new Error('ARRAY parameter without arrayType');
    return { type_kind: 'TYPE_ARRAY', array_type: { element_type: typeOfRestParameter(t.arrayType) } };
  }
  if (t.type === 'STRUCT')
    return {
      type_kind: 'TYPE_STRUCT',
      struct_type: { field: (t.structTypes ?? []).map((f) => ({ field_name: f.name ?? '', field_type: typeOfRestParameter(f.type) })) },
    };
  return scalar(t.type);
};

/** The options BigQuery's CREATE SCHEMA / TABLE / VIEW statements accept, with their types; any other option is an error. */
const DDL_OPTIONS: Record<string, TypeProto> = {
  description: scalar('STRING'),
  friendly_name: scalar('STRING'),
  labels: {
    type_kind: 'TYPE_ARRAY',
    array_type: {
      element_type: {
        type_kind: 'TYPE_STRUCT',
        struct_type: {
          field: [
            { field_name: '', field_type: scalar('STRING') },
            { field_name: '', field_type: scalar('STRING') },
          ],
        },
      },
    },
  },
  expiration_timestamp: scalar('TIMESTAMP'),
  kms_key_name: scalar('STRING'),
  // Tables.
  partition_expiration_days: scalar('FLOAT64'),
  require_partition_filter: scalar('BOOL'),
  default_rounding_mode: scalar('STRING'),
  enable_change_history: scalar('BOOL'),
  // Schemas (datasets).
  location: scalar('STRING'),
  default_table_expiration_days: scalar('FLOAT64'),
  default_partition_expiration_days: scalar('FLOAT64'),
  default_kms_key_name: scalar('STRING'),
  default_collation: scalar('STRING'),
  is_case_insensitive: scalar('BOOL'),
  max_time_travel_hours: scalar('INT64'),
  storage_billing_model: scalar('STRING'),
  // Views.
  enable_refresh: scalar('BOOL'),
  refresh_interval_minutes: scalar('FLOAT64'),
};

export interface Column {
  readonly name: string;
  readonly type: TypeProto;
  readonly pseudo?: boolean;
}

export interface CatalogTable {
  /** `project.dataset.table`: the one backticked identifier the statements use. */
  readonly name: string;
  readonly columns: readonly Column[];
}

export interface Analysis {
  readonly ok: boolean;
  /** ZetaSQL's message when not ok (`Unrecognized name: x [at 3:8]`). */
  readonly error?: string;
  /** The resolved statement (the server's AnyResolvedStatementProto, as JSON). */
  readonly resolved?: unknown;
}

/** Named parameters as a ZetaSQL analyzer option. */
export const parametersOf = (
  params: readonly { readonly name: string; readonly parameterType: RestParameterType }[] = [],
): { name: string; type: TypeProto }[] => params.map((q) => ({ name: q.name, type: typeOfRestParameter(q.parameterType) }));

/** Depth-first search for the first object holding `key`. */
const find = (node: unknown, key: string): Record<string, unknown> | undefined => {
  if (typeof node !== 'object' || node === null) return undefined;
  if (!Array.isArray(node) && key in node) return node as Record<string, unknown>;
  for (const v of Object.values(node)) {
    const hit = find(v, key);
    if (hit !== undefined) return hit;
  }
  return undefined;
};

/**
 * A SimpleCatalogProto of these tables, with BigQuery's language features in the
 * builtin function options too: without them the analytic functions (and so
 * QUALIFY ROW_NUMBER() OVER ...) are missing from the catalog even when the
 * analyzer options enable them.
 */
export const catalogProto = (
  tables: readonly CatalogTable[],
  extra: (t: CatalogTable) => Record<string, unknown> = () => ({}),
): unknown => ({
  name: 'bigquery',
  builtin_function_options: { language_options: LANGUAGE_OPTIONS },
  table: tables.map((t) => ({
    name: t.name,
    column: t.columns.map((c) => ({ name: c.name, type: c.type, ...(c.pseudo === true ? { is_pseudo_column: true } : {}) })),
    ...extra(t),
  })),
});

/** Analyzer options: BigQuery's dialect, named parameters of these types, only BigQuery's DDL options. */
export const analyzerOptions = (params: readonly { name: string; type: TypeProto }[] = []): unknown => ({
  language_options: LANGUAGE_OPTIONS,
  parameter_mode: 'PARAMETER_NAMED',
  query_parameters: params,
  error_message_mode: 'ERROR_MESSAGE_ONE_LINE',
  // BigQuery's default; ZetaSQL's is America/Los_Angeles, which moves DATE(timestamp) a day.
  default_timezone: 'UTC',
  allowed_hints_and_options: {
    disallow_unknown_options: true,
    disallow_duplicate_option_names: true,
    option: Object.entries(DDL_OPTIONS).map(([name, type]) => ({ name, type })),
  },
});

export class BigQueryCatalog {
  readonly tables = new Map<string, CatalogTable>();

  constructor(private readonly server: ZetaSqlServer) {}

  add(t: CatalogTable): void {
    this.tables.set(t.name.toLowerCase(), t);
  }

  private proto(): unknown {
    return catalogProto([...this.tables.values()]);
  }

  /** Analyze one statement; never throws for a statement ZetaSQL rejects (that is `ok: false`). */
  async analyze(sql: string, params: { name: string; type: TypeProto }[] = []): Promise<Analysis> {
    try {
      const r = await this.server.call<{ resolved_statement?: unknown }>('Analyze', {
        options: analyzerOptions(params),
        simple_catalog: this.proto(),
        sql_statement: sql,
      });
      return { ok: true, resolved: r.resolved_statement };
    } catch (e) {
      const details = (e as { details?: unknown }).details;
      if (typeof details === 'string' && (e as { code?: unknown }).code === 3) return { ok: false, error: details };
      throw e;
    }
  }

  /**
   * Analyze a CREATE TABLE / CREATE VIEW and add what it creates, with the columns
   * ZetaSQL resolved (a view's are its query's output). Other statements add nothing.
   */
  async create(sql: string, extra: readonly Column[] = []): Promise<Analysis> {
    const a = await this.analyze(sql);
    if (!a.ok) return a;
    const named = find(a.resolved, 'name_path');
    const path = named?.['name_path'] as string[] | undefined;
    const defs = find(a.resolved, 'column_definition_list')?.['column_definition_list'] as { name: string; type: TypeProto }[] | undefined;
    const outputs = find(a.resolved, 'output_column_list')?.['output_column_list'] as
      { name: string; column: { type: TypeProto } }[] | undefined;
    if (path !== undefined && (defs !== undefined || outputs !== undefined)) {
      const columns = defs?.map((d) => ({ name: d.name, type: d.type })) ?? outputs!.map((o) => ({ name: o.name, type: o.column.type }));
      this.add({ name: path.join('.'), columns: [...columns, ...extra] });
    }
    return a;
  }
}
