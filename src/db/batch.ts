import { is, SQL } from 'drizzle-orm';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import type { Db } from '../env';

const dialect = new SQLiteAsyncDialect();

/** A drizzle `sql` fragment or a query builder (anything with `toSQL()`). */
export type BatchItem = SQL | { toSQL(): { sql: string; params: unknown[] } };

/**
 * Runs statements as one atomic D1 batch (D1 has no interactive transactions). drizzle's own
 * `db.batch` cannot take raw `sql` with parameters, which the guarded updates need.
 */
export async function runBatch(db: Db, items: BatchItem[]): Promise<D1Result[]> {
  const d1 = db.$client;
  return d1.batch(
    items.map((item) => {
      const query = is(item, SQL) ? dialect.sqlToQuery(item) : item.toSQL();
      return d1.prepare(query.sql).bind(...query.params);
    }),
  );
}
