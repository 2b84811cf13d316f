import { sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import type { Locale } from '../db/schema';
import type { Db } from '../env';
import { newOutboxId, outboxInsert } from '../delivery/outbox';
import { newSecret, sha256Hex } from '../lib/crypto';
import { newId } from '../lib/ids';
import { iso } from '../lib/time';
import { API_TOKEN_PREFIX } from './auth.store';

const DAY_MS = 24 * 60 * 60 * 1000;

/** SPEC §18: a token minted from a stolen session must not work for ever. */
export const DEFAULT_API_TOKEN_DAYS = 90;

/** "Live": not revoked. Expired tokens stay listed (marked), so their owner sees why a script stopped. */
const LIVE = sql`revoked_at IS NULL`;

/** A personal API token as the API and the Account page show it: never its secret. */
export interface ApiTokenView {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

/**
 * Mints a personal API token and, in the same batch, the outbox row of the email that tells the
 * account about it (SPEC §18): whoever holds the session, the owner's inbox hears of every new
 * token. The secret is returned once and stored only as a hash; the email never carries it.
 */
export async function createApiToken(
  db: Db,
  userId: string,
  input: { name: string; expiresInDays?: number; locale: Locale },
  now: number,
) {
  const token = newSecret(API_TOKEN_PREFIX);
  const id = newId('tok');
  const expiresAt = now + (input.expiresInDays ?? DEFAULT_API_TOKEN_DAYS) * DAY_MS;
  const outboxId = newOutboxId();
  await runBatch(db, [
    sql`INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, locale)
      VALUES (${id}, ${userId}, ${input.name}, ${await sha256Hex(token)}, ${now}, ${expiresAt}, ${input.locale})`,
    // The row names the token (subject and token id alike): rendering reads it, whatever became of it.
    outboxInsert({ id: outboxId, kind: 'api_token_email', organizationId: null, subjectId: id, tokenId: id }, now),
  ]);
  const view: ApiTokenView = { id, name: input.name, created_at: iso(now)!, last_used_at: null, expires_at: iso(expiresAt) };
  return { token, view, outboxId };
}

/** The user's tokens that are not revoked, newest first (expired ones included). */
export async function apiTokensOf(db: Db, userId: string): Promise<ApiTokenView[]> {
  const rows = await db.all<{ id: string; name: string; created_at: number; last_used_at: number | null; expires_at: number | null }>(
    sql`SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens
      WHERE user_id = ${userId} AND ${LIVE} ORDER BY created_at DESC, id DESC`,
  );
  return rows.map((r) => ({ id: r.id, name: r.name, created_at: iso(r.created_at)!, last_used_at: iso(r.last_used_at), expires_at: iso(r.expires_at) }));
}

/** Revokes one of the user's tokens; false when it is not theirs or already revoked. */
export async function revokeApiToken(db: Db, userId: string, id: string, now: number): Promise<boolean> {
  const res = await db.run(sql`UPDATE api_tokens SET revoked_at = ${now} WHERE id = ${id} AND user_id = ${userId} AND ${LIVE}`);
  return res.meta.changes === 1;
}

/** Whether a token was expired at `now` (the Account page marks it). */
export const isExpired = (t: ApiTokenView, now: number) => t.expires_at !== null && Date.parse(t.expires_at) <= now;
