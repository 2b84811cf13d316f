import { is, SQL, sql } from 'drizzle-orm';
import type { Actor } from '../lib/write-context';
import { newId } from '../lib/ids';

export type AuditTarget =
  | 'invitation'
  | 'membership'
  | 'organization'
  | 'webhook'
  | 'invite_link'
  | 'domain'
  | 'join_request';

export interface AuditInput {
  organizationId: string;
  action: string;
  targetType: AuditTarget;
  targetId: string;
  /** A JSON object, or SQL producing one (for facts only the batch itself decides). */
  data?: Record<string, unknown> | SQL;
}

const COLUMNS = sql`audit_events (id, organization_id, actor_type, actor_id, action, target_type, target_id, data, ip, user_agent, created_at)`;

/**
 * The one audit writer, for one event by an actor: an insert to put in the same D1 batch as the
 * change it records. With `onlyIf`, the row is written only when the change really happened (a
 * guarded update that lost writes no event). `actorIdSql` overrides the actor id with a subquery
 * (an account resolved inside the same batch). Never pass a token in `data`.
 */
export function auditStatement(actor: Actor, event: AuditInput, now: number, onlyIf?: SQL, actorIdSql?: SQL) {
  const data = event.data === undefined ? null : is(event.data, SQL) ? event.data : JSON.stringify(event.data);
  return sql`INSERT INTO ${COLUMNS}
    SELECT ${newId('aud')}, ${event.organizationId}, ${actor.userId || actorIdSql ? 'user' : 'system'}, ${actorIdSql ?? actor.userId},
      ${event.action}, ${event.targetType}, ${event.targetId}, ${data},
      ${actor.ip?.slice(0, 64) ?? null}, ${actor.userAgent?.slice(0, 512) ?? null}, ${now}
    WHERE ${onlyIf ?? sql`1`}`;
}

/**
 * The same writer in SQL, for the system's events over a set of rows (expiry, revocations, delivery
 * outcomes): one event per row of `from` (`table WHERE …`), which must have `id` (the target) and
 * `organization_id` columns; `data` is SQL over that row.
 */
export function systemAuditSql(event: { action: string; target?: AuditTarget; data: SQL; from: SQL; now: number }) {
  return sql`INSERT INTO ${COLUMNS}
    SELECT 'aud_' || lower(hex(randomblob(10))), organization_id, 'system', NULL, ${event.action},
      ${event.target ?? 'invitation'}, id, ${event.data}, NULL, NULL, ${event.now}
    FROM ${event.from}`;
}
