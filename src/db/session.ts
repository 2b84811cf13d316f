import { drizzle } from 'drizzle-orm/d1';
import type { Db } from '../env';

/**
 * Global reads through the D1 Sessions API (SPEC §13). A request's queries run in one session:
 * reads may be served by a nearby read replica, writes always go to the primary, and every query
 * of the session sees what the ones before it saw. A client that sends back the bookmark of an
 * earlier response (`x-d1-bookmark`) reads at least that state: its own writes.
 */
export const BOOKMARK_HEADER = 'x-d1-bookmark';

/**
 * D1's bookmarks: four dash-separated hexadecimal fields (`00000085-0000024c-00004c6d-8e61117b…`),
 * sortable as strings. Anything else a client sends is ignored, never passed on to D1.
 */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

export const isBookmark = (value: string | null | undefined): value is string =>
  typeof value === 'string' && BOOKMARK.test(value);

/** The newest of some bookmarks (they sort oldest to newest), or null. */
export const newestBookmark = (...bookmarks: (string | null | undefined)[]): string | null =>
  bookmarks.filter(isBookmark).sort().at(-1) ?? null;

/**
 * A session as the `D1Database` drizzle is typed to take. drizzle's D1 driver only ever calls
 * `prepare` and `batch`, which a session has; the database-level calls a session lacks throw.
 */
function asDatabase(session: D1DatabaseSession): D1Database {
  const unsupported = (name: string) => () => {
    throw new Error(`${name}() is not available inside a D1 session`);
  };
  return {
    prepare: (query: string) => session.prepare(query),
    batch: <T>(statements: D1PreparedStatement[]) => session.batch<T>(statements),
    exec: unsupported('exec'),
    withSession: unsupported('withSession'),
    dump: unsupported('dump'),
  };
}

export interface DbSession {
  db: Db;
  /** The newest bookmark this session has seen (null before its first query). */
  bookmark(): string | null;
}

/**
 * A session starting at the client's bookmark when it sent a well-formed one, else at `first`:
 * `first-unconstrained` (any replica) for reads, `first-primary` for requests that write.
 */
export function openSession(d1: D1Database, first: D1SessionConstraint, bookmark?: string | null): DbSession {
  const session = d1.withSession(isBookmark(bookmark) ? bookmark : first);
  return { db: drizzle(asDatabase(session)), bookmark: () => session.getBookmark() };
}
