import type Database from 'better-sqlite3';

/**
 * Prepare once per distinct SQL text. Queries with optional filters are assembled
 * from fixed fragments and placeholders only, so the set of texts is small and bounded.
 */
export const statementCache = (db: Database.Database): ((sql: string) => Database.Statement) => {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let s = cache.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
};
