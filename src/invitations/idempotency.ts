import { type SQL, sql } from 'drizzle-orm';
import { fail, type Failure } from '../errors';
import type { WriteContext } from '../lib/write-context';

/** `Idempotency-Key` and a hash of the validated body. */
export interface Idempotency {
  key: string;
  requestHash: string;
}

/** A key is remembered for 24 hours (SPEC §12). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * What an earlier request under this key answered (create and bulk alike): its stored response and
 * invitation id, a 422 for the same key with a different body, or null when the key is new (or
 * older than a day).
 */
export async function findReplay(
  ctx: WriteContext,
  idem: Idempotency,
): Promise<Failure | { invitationId: string; response: string | null } | null> {
  if (!ctx.actor.userId) return null;
  const [row] = await ctx.db.all<{ request_hash: string; invitation_id: string; response: string | null }>(
    sql`SELECT request_hash, invitation_id, response FROM idempotency_keys
      WHERE organization_id = ${ctx.organizationId} AND user_id = ${ctx.actor.userId} AND key = ${idem.key}
        AND created_at > ${ctx.now - IDEMPOTENCY_TTL_MS}`,
  );
  if (!row) return null;
  if (row.request_hash !== idem.requestHash) {
    return fail('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body.');
  }
  return { invitationId: row.invitation_id, response: row.response };
}

/** Remembers this request's answer under its key, in the batch that made it (when `onlyIf` holds). */
export function rememberSql(
  ctx: WriteContext,
  idem: Idempotency,
  invitationId: string,
  response: unknown,
  onlyIf?: SQL,
) {
  return sql`INSERT OR REPLACE INTO idempotency_keys (organization_id, user_id, key, request_hash, invitation_id, response, created_at)
    SELECT ${ctx.organizationId}, ${ctx.actor.userId}, ${idem.key}, ${idem.requestHash}, ${invitationId},
      ${JSON.stringify(response)}, ${ctx.now}
    WHERE ${onlyIf ?? sql`1`}`;
}
