import { and, eq, gt } from 'drizzle-orm';
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
