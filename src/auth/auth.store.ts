import { and, eq, gt, sql } from 'drizzle-orm';
import type { Role } from '../db/schema';
import { apiTokens, sessions, users } from '../db/schema';
import type { AuthUser, Db } from '../env';
import { newSecret, sha256Hex } from '../lib/crypto';
import { newId } from '../lib/ids';

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const SESSION_PREFIX = '8b_ses_';
export const API_TOKEN_PREFIX = '8b_pat_';

export async function findUserByEmail(db: Db, email: string) {
  return db.query.users.findFirst({ where: eq(users.email, email) });
}

/** Makes a new session secret; the caller inserts `row` (usually inside a batch). */
export async function newSession(userId: string, now: number) {
  const token = newSecret(SESSION_PREFIX);
  const row = {
    id: newId('ses'),
    userId,
    tokenHash: await sha256Hex(token),
    createdAt: now,
    expiresAt: now + SESSION_TTL_MS,
  };
  return { token, row };
}

/** Resolves a bearer secret (session or personal API token) to its user, or null. */
export async function resolveCredential(db: Db, secret: string, now: number): Promise<AuthUser | null> {
  if (secret.length > 200) return null;
  const hash = await sha256Hex(secret);
  if (secret.startsWith(SESSION_PREFIX)) {
    const [row] = await db
      .select({ id: users.id, email: users.email, name: users.name, sessionId: sessions.id })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.tokenHash, hash), gt(sessions.expiresAt, now)))
      .limit(1);
    return row ? { id: row.id, email: row.email, name: row.name, via: 'session', credentialId: row.sessionId } : null;
  }
  if (secret.startsWith(API_TOKEN_PREFIX)) {
    const [row] = await db
      .select({ id: users.id, email: users.email, name: users.name, tokenId: apiTokens.id })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(eq(apiTokens.tokenHash, hash))
      .limit(1);
    return row ? { id: row.id, email: row.email, name: row.name, via: 'api_token', credentialId: row.tokenId } : null;
  }
  return null;
}

export async function endSession(db: Db, sessionId: string) {
  await db.delete(sessions).where(eq(sessions.id, sessionId));
}

/**
 * The caller and their membership of `{org}` (id or slug) in one query: every organization route
 * needs both, and each D1 round trip counts. `membership` is null for a non-member.
 */
export async function resolveOrgAccess(db: Db, secret: string, orgRef: string, now: number) {
  if (secret.length > 200 || orgRef.length > 64) return null;
  const session = secret.startsWith(SESSION_PREFIX);
  if (!session && !secret.startsWith(API_TOKEN_PREFIX)) return null;
  const hash = await sha256Hex(secret);
  const credentials = session
    ? sql`(SELECT id, user_id FROM sessions WHERE token_hash = ${hash} AND expires_at > ${now})`
    : sql`(SELECT id, user_id FROM api_tokens WHERE token_hash = ${hash})`;
  const [row] = await db.all<{
    user_id: string; email: string; name: string; credential_id: string;
    org_id: string | null; org_name: string; slug: string; created_at: number; updated_at: number; role: Role | null;
  }>(sql`SELECT u.id AS user_id, u.email, u.name, c.id AS credential_id,
      o.id AS org_id, o.name AS org_name, o.slug, o.created_at, o.updated_at, m.role
    FROM ${credentials} c
    JOIN users u ON u.id = c.user_id
    LEFT JOIN organizations o ON (o.id = ${orgRef} OR o.slug = ${orgRef})
    LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = u.id
    LIMIT 1`);
  if (!row) return null;
  const user: AuthUser = { id: row.user_id, email: row.email, name: row.name, via: session ? 'session' : 'api_token', credentialId: row.credential_id };
  const membership =
    row.org_id && row.role
      ? { org: { id: row.org_id, name: row.org_name, slug: row.slug, createdAt: row.created_at, updatedAt: row.updated_at }, role: row.role }
      : null;
  return { user, membership };
}
