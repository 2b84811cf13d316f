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

export type Db = DrizzleD1Database<typeof schema> & { $client: D1Database };

/** Hono environment: bindings from wrangler.toml plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    db: Db;
    requestId: string;
    user?: AuthUser;
    /** The CSRF token of this browser (pages only). */
    csrf?: string;
    /** The organization a request acted on, for the request log. */
    orgId?: string;
    /** For `/{org}` routes: the organization and the caller's role in it. */
    membership?: { org: typeof schema.organizations.$inferSelect; role: Role };
  };
}
