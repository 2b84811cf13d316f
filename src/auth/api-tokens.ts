import { sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import type { Locale } from '../db/schema';
import type { AuthUser, Db } from '../env';
import { ApiError } from '../errors';
import { newOutboxId, outboxInsert } from '../db/outbox';
import { newSecret, sha256Hex } from '../lib/crypto';
import { newId } from '../lib/ids';
import { DAY_MS, iso } from '../lib/time';
import { hitSql, limitFor } from '../rate-limit/rate-limit';
import { API_TOKEN_PREFIX, apiTokenLiveSql, credentialLiveSql } from './auth.store';

/** SPEC §18: a token minted from a stolen session must not work for ever. */
export const DEFAULT_API_TOKEN_DAYS = 90;

/**
 * The most live (neither revoked nor expired) personal API tokens one account holds. A cap, not a
 * rate limit: `RATE_LIMIT_SCALE` never changes it.
 */
export const LIVE_API_TOKENS_PER_ACCOUNT = 50;

/** Listed and revocable: not revoked. Expired tokens stay listed (marked), so their owner sees why a script stopped. */
const NOT_REVOKED = sql`revoked_at IS NULL`;

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
 *
 * One batch decides, so each rule is exact under any concurrency: the creation is counted against
 * the account's hourly limit (429), the token is written only while the caller's credential is
 * still live (a sign-out everywhere that lands after the authentication leaves no token behind:
 * 401) and while the account holds fewer than `LIVE_API_TOKENS_PER_ACCOUNT` live tokens (409
 * `api_token_limit`); the email's row only if the token was written.
 */
export async function createApiToken(
  env: { RATE_LIMIT_SCALE?: string },
  db: Db,
  caller: Pick<AuthUser, 'id' | 'via' | 'credentialId'>,
  input: { name: string; expiresInDays?: number; locale: Locale },
  now: number,
) {
  const token = newSecret(API_TOKEN_PREFIX);
  const id = newId('tok');
  const expiresAt = now + (input.expiresInDays ?? DEFAULT_API_TOKEN_DAYS) * DAY_MS;
  const outboxId = newOutboxId();
  const counted = hitSql(`api-token-creation:account:${caller.id}`, limitFor(env, 'apiTokenCreationPerAccount'), now);
  const callerLive = credentialLiveSql(caller, now);
  const liveTokens = sql`(SELECT count(*) FROM api_tokens WHERE user_id = ${caller.id} AND ${apiTokenLiveSql(now)})`;
  const [hit, inserted, , after] = await runBatch(db, [
    counted.statement,
    sql`INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, locale)
      SELECT ${id}, ${caller.id}, ${input.name}, ${await sha256Hex(token)}, ${now}, ${expiresAt}, ${input.locale}
      WHERE ${callerLive} AND ${counted.within} AND ${liveTokens} < ${LIVE_API_TOKENS_PER_ACCOUNT}`,
    // The row names the token (subject and token id alike): rendering reads it, whatever became of it.
    outboxInsert(
      { id: outboxId, kind: 'api_token_email', organizationId: null, subjectId: id, tokenId: id },
      now,
      sql`EXISTS (SELECT 1 FROM api_tokens WHERE id = ${id})`,
    ),
    // Why nothing was written, when nothing was.
    sql`SELECT ${callerLive} AS live`,
  ]);
  if (inserted.meta.changes !== 1) {
    if (!(after.results[0] as { live: number } | undefined)?.live) {
      throw new ApiError('unauthorized', 'This session has ended (signed out). Sign in again to create an API token.');
    }
    const wait = counted.wait((hit.results[0] as { count: number } | undefined)?.count ?? 1);
    if (wait !== null) {
      throw new ApiError('rate_limited', `Too many API tokens were created recently. Try again in ${wait} seconds.`, {
        headers: { 'Retry-After': String(wait) },
      });
    }
    throw new ApiError(
      'api_token_limit',
      `This account already has ${LIVE_API_TOKENS_PER_ACCOUNT} live API tokens, the most it can hold. Revoke one you no longer use first.`,
    );
  }
  const view: ApiTokenView = {
    id,
    name: input.name,
    created_at: iso(now)!,
    last_used_at: null,
    expires_at: iso(expiresAt),
  };
  return { token, view, outboxId };
}

/** The user's tokens that are not revoked, newest first (expired ones included). */
export async function apiTokensOf(db: Db, userId: string): Promise<ApiTokenView[]> {
  const rows = await db.all<{
    id: string;
    name: string;
    created_at: number;
    last_used_at: number | null;
    expires_at: number | null;
  }>(
    sql`SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens
      WHERE user_id = ${userId} AND ${NOT_REVOKED} ORDER BY created_at DESC, id DESC`,
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    created_at: iso(r.created_at)!,
    last_used_at: iso(r.last_used_at),
    expires_at: iso(r.expires_at),
  }));
}

/** Revokes one of the user's tokens; false when it is not theirs or already revoked. */
export async function revokeApiToken(db: Db, userId: string, id: string, now: number): Promise<boolean> {
  const res = await db.run(
    sql`UPDATE api_tokens SET revoked_at = ${now} WHERE id = ${id} AND user_id = ${userId} AND ${NOT_REVOKED}`,
  );
  return res.meta.changes === 1;
}

/** Whether a token was expired at `now` (the Account page marks it). */
export const isExpired = (t: ApiTokenView, now: number) => t.expires_at !== null && Date.parse(t.expires_at) <= now;
