import type { DrizzleD1Database } from 'drizzle-orm/d1';
import type * as schema from './db/schema';
import type { Role } from './db/schema';

/** The signed-in principal, resolved from a session or a personal API token. */
export interface AuthUser {
  id: string;
  email: string;
  name: string;
  /** How the request authenticated; session tokens can be ended by sign-out. */
  via: 'session' | 'api_token';
  credentialId: string;
}

/**
 * How the code reaches D1, the one way (README, Layout): drizzle over the binding or a D1 session,
 * without drizzle's relational `query` API (it is typed away here); `sql` for guarded statements,
 * the query builder for plain ones, `runBatch` for batches.
 */
export type Db = Omit<DrizzleD1Database, 'query' | '_query'> & { $client: D1Database };

/** Hono environment: bindings from wrangler.toml plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    db: Db;
    requestId: string;
    user?: AuthUser;
    /** The CSRF token of this browser (pages only). */
    csrf?: string;
    /** The newest D1 bookmark of the writes this request made through a coordinator. */
    writeBookmark?: string;
    /** The organization a request acted on, for the request log. */
    orgId?: string;
    /**
     * The rows of a route's read-ahead (`requireOrgMemberReading`), read with the caller's access at
     * `now`: for the route to use once it has authorized the caller.
     */
    readAhead?: { rows: unknown[]; now: number };
    /** For `/{org}` routes: the organization and the caller's role in it. */
    membership?: { org: typeof schema.organizations.$inferSelect; role: Role };
  };
}

/** Optional secrets (`wrangler secret put`), absent from the generated bindings type. */
interface OptionalSecrets {
  /** Comma-separated previous signing keys, still accepted during a rotation. */
  TOKEN_SIGNING_KEYS_PREVIOUS?: string;
  /** The API key of the HTTPS email transport (`EMAIL_TRANSPORT` resend or postmark). */
  EMAIL_API_KEY?: string;
  /** The email provider's event webhook: a `whsec_` signing secret, or `user:password` (Basic). */
  EMAIL_EVENTS_SECRET?: string;
}
declare global {
  interface Env extends OptionalSecrets {}
  namespace Cloudflare {
    interface Env extends OptionalSecrets {}
  }
}
