/**
 * Optional `WHERE` conditions for the list queries. Conditions are fixed SQL
 * fragments with `?` placeholders; every value goes to `params` and is bound, so
 * the set of SQL texts stays small (see `statementCache`) and no value is spliced.
 */
export class Filters {
  private readonly clauses: string[] = [];
  readonly params: unknown[] = [];

  add(clause: string, ...values: unknown[]): void {
    this.clauses.push(clause);
    this.params.push(...values);
  }

  /** ` WHERE a AND b`, or nothing when no condition was added. */
  get sql(): string {
    return this.clauses.length > 0 ? ` WHERE ${this.clauses.join(' AND ')}` : '';
  }
}
